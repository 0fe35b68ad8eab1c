"""Turn a row's rendered script into the text a synthesizer speaks.

Only the sentences that hold a slot are spoken (the slot needs its sentence around it
for natural prosody; the rest of the script is never heard). Each piece is verbalized
("$25" → "twenty-five dollars"), lexicon words are respelled or given as IPA phoneme
blocks, and the characters of every slot are tracked through all of it.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from vpipe.lexicon import Lexicon
from vpipe.speech.g2p import arpabet_to_ipa
from vpipe.speech.speakable import check_speakable, describe
from vpipe.speech.verbalize import verbalize

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


class Unspeakable(ValueError):
    def __init__(self, slot: str | None, message: str) -> None:
        super().__init__(message)
        self.slot = slot


@dataclass(frozen=True)
class SlotText:
    name: str
    start: int  # character offsets in PreparedText.text
    end: int
    value: str  # the value as the row wrote it


@dataclass(frozen=True)
class PreparedText:
    text: str  # may contain [[ ipa ]] blocks for lexicon entries given as phones
    slots: tuple[SlotText, ...]
    ipa: dict[str, str] = field(default_factory=dict)  # block text → IPA, for word timing


WORDS_BEFORE = 3  # words of the sentence spoken before the first slot …
WORDS_AFTER = 2  # … and after the last: the phrase that shapes the slot's prosody


def _context(text: str, spans: Sequence[tuple[str, int, int]], whole: bool = False) -> tuple[int, int]:
    """The stretch of the script to synthesize: within the sentence(s) holding the slots, a
    few words either side of them (the phrase sets a word's prosody; the rest of a long
    sentence is never heard and costs synthesis time). `whole`: the full sentences."""
    bounds = [0] + [m.end() for m in _SENTENCE_END.finditer(text)] + [len(text)]
    sentences = list(itertools.pairwise(bounds))
    first = min(s for s, e in sentences if any(a < e and b > s for _, a, b in spans))
    last = max(e for s, e in sentences if any(a < e and b > s for _, a, b in spans))
    if whole:
        return first, last
    slot_start, slot_end = min(a for _, a, _ in spans), max(b for _, _, b in spans)
    before = [m.start() for m in _WORD.finditer(text, first, slot_start)]
    after = [m.end() for m in _WORD.finditer(text, slot_end, last)]
    start = before[-WORDS_BEFORE] if len(before) > WORDS_BEFORE else first
    end = after[WORDS_AFTER - 1] if len(after) > WORDS_AFTER else last
    return start, end


def _apply_lexicon(text: str, lexicon: Lexicon, supports_ipa: bool, ipa: dict[str, str]) -> str:
    def replace(m: re.Match[str]) -> str:
        entry = lexicon.lookup(m.group(0))
        if entry is None:
            return m.group(0)
        if entry.respelling is not None:
            return entry.respelling
        if entry.phones is not None and supports_ipa:
            block = f"[[ {arpabet_to_ipa(entry.phones)} ]]"
            ipa[block] = arpabet_to_ipa(entry.phones)
            return block
        return m.group(0)

    if not lexicon.entries:
        return text
    return _WORD.sub(replace, text)


# Emoji and pictographs, with their joiners, variation selectors and skin-tone modifiers.
_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe00-\ufe0f\u200d\u20e3]+")


def _fold_stacked_diacritics(text: str) -> str:
    """Letters of Latin Extended Additional (U+1E00–U+1EFF: Vietnamese ễ ạ ầ, Welsh ẁ …) as
    their base letter: espeak-ng reads them as "letter 1EC5" and spells the whole name out
    (Nguyễn came out 2.3 s long). One character for one, so slot offsets hold; [[ IPA ]]
    blocks from the lexicon contain no such letters."""
    return "".join(unicodedata.normalize("NFD", c)[0] if "\u1e00" <= c <= "\u1eff" else c for c in text)


def prepare(
    text: str,
    spans: Sequence[tuple[str, int, int]],
    lexicon: Lexicon,
    supports_ipa: bool = True,
    language: str = "en",
    whole: bool = False,
) -> PreparedText:
    """`spans` are (slot name, start, end) character spans of the slots in `text`; `whole`
    speaks their full sentences instead of the phrase around them."""
    if not spans:
        raise ValueError("nothing to synthesize: the script has no slot")
    start, end = _context(text, spans, whole)
    pieces: list[tuple[str, str | None]] = []
    cursor = start
    for name, a, b in sorted(spans, key=lambda s: s[1]):
        pieces.append((text[cursor:a], None))
        pieces.append((text[a:b], name))
        cursor = b
    pieces.append((text[cursor:end], None))
    out: list[str] = []
    slots: list[SlotText] = []
    ipa: dict[str, str] = {}
    length = 0
    cursor = start
    for piece, name in pieces:
        # neighbouring text is context only ("in {{ year }}" reads 1999 as a year)
        spoken = verbalize(
            piece, before=text[max(0, cursor - 40) : cursor], after=text[cursor + len(piece) : cursor + len(piece) + 40]
        ).text
        cursor += len(piece)
        spoken = _EMOJI.sub("", spoken)  # pictographs are read by no one ("Hi Ana 👋"): drop, don't fail
        problems = check_speakable(spoken, language)
        if problems and (name is not None or any(c.isalnum() for c in spoken)):
            raise Unspeakable(name, describe(problems))
        spoken = _fold_stacked_diacritics(_apply_lexicon(spoken, lexicon, supports_ipa, ipa))
        if name is not None:
            lead = len(spoken) - len(spoken.lstrip())
            core = spoken.strip()
            slots.append(SlotText(name, length + lead, length + lead + len(core), piece.strip()))
        out.append(spoken)
        length += len(spoken)
    return PreparedText("".join(out), tuple(slots), ipa)
