"""Which samples of a synthesized sentence belong to which word.

piper reports how many samples each phoneme lasted, but not which word a phoneme belongs
to, and espeak merges function words ("in the" → `ɪnðə`). So every word is phonemized on
its own, the concatenation of those is aligned to the sentence's phonemes (difflib), and
each sentence phoneme gets an owner word. Stress marks (which piper gives samples too)
belong to the following phone's word; the space phoneme between words belongs to none.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

_STRESS = frozenset("ˈˌ")
_NON_PHONES = frozenset(" ,.!?;:—–-…\"'()|^$")
TOKEN = re.compile(r"\[\[.*?\]\]|\S+")


@dataclass(frozen=True)
class Token:
    text: str
    start: int  # character offsets in the synthesized text
    end: int


@dataclass(frozen=True)
class PhoneSpan:
    phoneme: str  # IPA symbol as piper reports it ("|" marks a sentence start)
    start: int  # samples
    end: int
    index: int = -1  # position in the flat list the engine returned


@dataclass(frozen=True)
class WordSpan:
    token: Token
    start: int | None  # samples; None when no phoneme could be attributed
    end: int | None
    phonemes: tuple[PhoneSpan, ...]


def tokens(text: str) -> list[Token]:
    return [Token(m.group(0), m.start(), m.end()) for m in TOKEN.finditer(text)]


def _clean(ipa: str) -> str:
    ipa = unicodedata.normalize("NFD", ipa)
    return "".join(c for c in ipa if c not in _STRESS and c not in _NON_PHONES and not c.isspace())


def phone_spans(phonemes: list[tuple[str, int]]) -> list[PhoneSpan]:
    out, pos = [], 0
    for k, (ph, n) in enumerate(phonemes):
        out.append(PhoneSpan(ph, pos, pos + n, k))
        pos += n
    return out


def sentence_scales(spans: list[PhoneSpan], factors: dict[int, float]) -> list[list[float]]:
    """Per-sentence lists of per-phoneme factors (the worker's `phoneme_scales`): `factors`
    maps flat phoneme indices to a factor; everything else keeps 1.0."""
    out: list[list[float]] = []
    for s in spans:
        if s.phoneme == "|":
            out.append([])
        elif out:
            out[-1].append(float(factors.get(s.index, 1.0)))
    return out


def attribute(spans: list[PhoneSpan], toks: list[Token], token_ipa: list[str]) -> list[WordSpan]:
    """Give each token the sample range of the sentence phonemes it owns."""
    wchars: list[str] = []
    wid: list[int] = []
    for i, ipa in enumerate(token_ipa):
        cleaned = _clean(ipa)
        wchars.extend(cleaned)
        wid.extend([i] * len(cleaned))
    real = [k for k, s in enumerate(spans) if _clean(s.phoneme)]
    schars = [_clean(spans[k].phoneme) for k in real]
    flat: list[str] = []
    flat_owner_index: list[int] = []  # sentence char → index into `real`
    for r, chars in enumerate(schars):
        flat.extend(chars)
        flat_owner_index.extend([r] * len(chars))
    owner: dict[int, int] = {}
    matcher = difflib.SequenceMatcher(None, flat, wchars, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for d in range(i2 - i1):
                owner.setdefault(real[flat_owner_index[i1 + d]], wid[j1 + d])
        elif tag == "replace":  # a context variant (ðə/ði): spread the words proportionally
            for d in range(i2 - i1):
                j = j1 + min(j2 - j1 - 1, d * (j2 - j1) // (i2 - i1))
                owner.setdefault(real[flat_owner_index[i1 + d]], wid[j])
    # Unowned phones take the owner of the previous phone in the same token (no word boundary between).
    last: int | None = None
    for k, s in enumerate(spans):
        if s.phoneme in (" ", "|", "^", "$") or (not _clean(s.phoneme) and s.phoneme not in _STRESS):
            last = None
        elif k in owner:
            last = owner[k]
        elif s.phoneme not in _STRESS and last is not None:
            owner[k] = last
    for k in range(len(spans) - 1, -1, -1):  # stress marks go with the phone after them
        if spans[k].phoneme in _STRESS and k + 1 < len(spans) and (k + 1) in owner:
            owner[k] = owner[k + 1]
    out: list[WordSpan] = []
    for i, tok in enumerate(toks):
        mine = sorted(k for k, o in owner.items() if o == i)
        if not mine:
            out.append(WordSpan(tok, None, None, ()))
            continue
        # Keep the contiguous run: a stray match far from the word's main run is noise.
        run = _largest_run(mine)
        out.append(WordSpan(tok, spans[run[0]].start, spans[run[-1]].end, tuple(spans[k] for k in run)))
    return out


def _largest_run(indices: list[int]) -> list[int]:
    runs: list[list[int]] = [[indices[0]]]
    for k in indices[1:]:
        if k <= runs[-1][-1] + 2:  # allow one stress mark in between
            runs[-1].append(k)
        else:
            runs.append([k])
    return max(runs, key=len)
