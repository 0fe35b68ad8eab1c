"""Forced alignment and recognition with pocketsphinx (en-us model bundled in its wheel).

Every transcript word gets exactly one aligner entry, so `Alignment.words[i]` is the i-th
word of `vpipe.text.words_of(transcript)`: dictionary words as they are; lexicon words
with their given phones (or the phones of their respelling); words with digits with the
phones of their spoken form ("2020" → "twenty twenty"); anything else (names) with
espeak-ng's phones mapped to ARPAbet — the same phones the synthesizer speaks.

Alignment is two passes (words, then phones and states). A per-word confidence compares
each word's acoustic score with an unconstrained phone loop over the same frames: the
research notes measured correct words at −29…+26 and wrong words at −30…−90 per frame.
"""

from __future__ import annotations

import hashlib
import math
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from vpipe.data.alignment import Alignment, Segment
from vpipe.lexicon import Lexicon
from vpipe.speech.g2p import G2PError, ipa_to_arpabet
from vpipe.text import words_of

RATE = 16000
FRAME = 0.01  # pocketsphinx frames are 10 ms
LOW_CONFIDENCE = -35.0
_ALT = re.compile(r"\(\d+\)$")


class AlignmentFailed(Exception):
    pass


def at_aligner_rate(mono: np.ndarray, rate: int) -> np.ndarray:
    """`mono` resampled to the aligner's RATE (as it is; float64 when resampled). Aligning the
    result at RATE gives exactly what aligning `mono` at `rate` gives: one resampling for
    several alignments of the same audio."""
    from vpipe.speech.resample import resample_poly  # scipy's, in numpy (scipy.signal: ~1.2 s to import)

    if rate == RATE:
        return mono
    ratio = Fraction(RATE, rate)
    return resample_poly(mono.astype(np.float64), ratio.numerator, ratio.denominator)


def to_pcm16(mono: np.ndarray, rate: int) -> bytes:
    return np.clip(at_aligner_rate(mono, rate) * 32767.0, -32768, 32767).astype("<i2").tobytes()


_DECODERS: dict[str, object] = {}


def _decoder(**config: object):  # type: ignore[no-untyped-def]
    """One decoder per configuration per process: building one loads the acoustic model
    (~0.2 s). Words added for names persist in it, under keys that cannot collide."""
    from pocketsphinx import Decoder

    key = repr(sorted(config.items()))
    if key not in _DECODERS:
        # Batch cepstral mean normalisation: each utterance is normalised on its own, so a
        # reused decoder gives the same result whatever it decoded before (live CMN adapts).
        _DECODERS[key] = Decoder(loglevel="FATAL", cmn="batch", **config)
    else:
        # Batch CMN alone is not enough: other feature state (AGC, the CMN prior) carries
        # over — measured, a second alignment of the same audio moved confidences by ~1 and a
        # word boundary by 10 ms. Resetting the feature computation costs 0.15 ms.
        _DECODERS[key].reinit_feat()
    return _DECODERS[key]


# A decoder's search buffers grow to the longest utterance it has decoded and are kept: after
# two minutes of audio the aligner held ~310 MB (measured, 122 s source) for the rest of the
# process, which goes on to render rows. A decoder that has just decoded more than
# KEEP_SECONDS is let go (building one again costs ~0.2 s); a fresh decoder gives the same
# result as a reused one (see _decoder), so nothing a row renders changes.
KEEP_SECONDS = 10.0


def _release_if_long(pcm: bytes, **config: object) -> None:
    """Let the decoder of `config` go when `pcm` (16-bit, RATE) was longer than KEEP_SECONDS."""
    if len(pcm) / 2 / RATE > KEEP_SECONDS:
        _DECODERS.pop(repr(sorted(config.items())), None)


Phonemizer = Callable[[list[str]], list[str]]  # words → espeak IPA (one string per word)


@dataclass(frozen=True)
class Pronounced:
    word: str
    key: str  # the dictionary entry the aligner uses for it
    phones: str | None  # phones to add when `key` is not in the dictionary


def pronunciations(
    words: list[str], lexicon: Lexicon, lookup: Callable[[str], str | None], phonemize: Phonemizer
) -> list[Pronounced]:
    out: list[Pronounced | None] = [None] * len(words)
    need_g2p: dict[int, list[str]] = {}  # word index → words to phonemize (their phones concatenate)
    for i, w in enumerate(words):
        entry = lexicon.lookup(w)
        if entry is not None and entry.phones:
            out[i] = Pronounced(w, _key(w, "lex", " ".join(entry.phones)), " ".join(entry.phones))
            continue
        spoken = [entry.respelling] if entry is not None and entry.respelling else [w]
        if any(c.isdigit() for c in w):
            from vpipe.speech.verbalize import verbalize

            # read in context, as the synthesizer does: "in 2019" is a year ("twenty nineteen")
            before = " ".join(words[max(0, i - 3) : i]) + " "
            after = " " + " ".join(words[i + 1 : i + 3])
            spoken = words_of(verbalize(w, before=before, after=after).text)
        parts = [p for s in spoken for p in words_of(s)]
        if len(parts) == 1 and parts[0] == w and lookup(w) is not None:
            out[i] = Pronounced(w, w, None)
            continue
        known = [lookup(p) for p in parts]
        if all(k is not None for k in known):
            phones = " ".join(k for k in known if k)
            out[i] = Pronounced(w, _key(w, "x", phones), phones)
        else:
            need_g2p[i] = parts
    if need_g2p:
        flat = sorted({p for parts in need_g2p.values() for p in parts})
        ipa = dict(zip(flat, phonemize(flat), strict=True))
        for i, parts in need_g2p.items():
            phones: list[str] = []
            for p in parts:
                dict_phones = lookup(p)
                if dict_phones is not None:
                    phones.extend(dict_phones.split())
                else:
                    try:
                        phones.extend(ipa_to_arpabet(ipa[p], p))
                    except G2PError as exc:
                        raise AlignmentFailed(f"cannot pronounce '{words[i]}': {exc}") from None
            if not phones:
                raise AlignmentFailed(f"cannot pronounce '{words[i]}'")
            out[i] = Pronounced(words[i], _key(words[i], "g2p", " ".join(phones)), " ".join(phones))
    return [p for p in out if p is not None]


def phones_of_words(words: list[str], lexicon: Lexicon, phonemize: Phonemizer) -> list[list[str]]:
    """ARPAbet phones of each word, from the same sources the aligner uses: the lexicon,
    pocketsphinx's CMUdict, espeak-ng G2P for the rest (for aligners that report words only)."""
    dec = _decoder(lm=None, bestpath=False)
    out = []
    for p in pronunciations(words, lexicon, dec.lookup_word, phonemize):
        phones = p.phones if p.phones is not None else dec.lookup_word(p.key)
        out.append((phones or "").split())
    return out


def _key(word: str, kind: str, phones: str) -> str:
    """A dictionary key for an added pronunciation: it cannot collide with a real entry, has
    no spaces, and names the phones — the decoder lives for the whole process and keeps what
    was added, so a word said differently later (another row's lexicon) needs its own key."""
    safe = re.sub(r"\s+", "_", word)
    return f"{safe}_{kind}_{zlib.crc32(phones.encode()):08x}"


def align(
    mono: np.ndarray, rate: int, transcript: str, lexicon: Lexicon, phonemize: Phonemizer, with_confidence: bool = True
) -> Alignment:
    words = words_of(transcript)
    if not words:
        raise AlignmentFailed("the transcript has no words")
    pcm = to_pcm16(mono, rate)
    dec = _decoder(lm=None, bestpath=False)
    pron = pronunciations(words, lexicon, dec.lookup_word, phonemize)
    added: set[str] = set()
    for p in pron:
        if p.phones is not None and p.key not in added and dec.lookup_word(p.key) != p.phones:
            try:
                dec.add_word(p.key, p.phones, False)
            except RuntimeError as exc:
                raise AlignmentFailed(f"cannot add '{p.word}' ({p.phones}) to the dictionary: {exc}") from None
            added.add(p.key)
    try:
        dec.set_align_text(" ".join(p.key for p in pron))
    except RuntimeError as exc:
        raise AlignmentFailed(f"cannot set up the alignment: {exc}") from None
    dec.start_utt()
    dec.process_raw(pcm, full_utt=True)
    dec.end_utt()
    if dec.hyp() is None:
        raise AlignmentFailed("the transcript does not match the speech (the aligner found no path)")
    dec.set_alignment()
    dec.start_utt()
    dec.process_raw(pcm, full_utt=True)
    dec.end_utt()
    result = dec.get_alignment()
    word_segs: list[Segment] = []
    phones: list[Segment] = []
    ranges: list[tuple[int, int]] = []
    raw_scores: list[tuple[int, int, int]] = []  # (start frame, frames, score) per word
    for entry in result:
        name = _ALT.sub("", entry.name)
        start, end = entry.start * FRAME, (entry.start + entry.duration) * FRAME
        if name in ("<sil>", "<s>", "</s>") or name.startswith("["):
            phones.append(Segment("SIL", start, end))
            continue
        first = len(phones)
        for ph in entry:
            phones.append(Segment(ph.name, ph.start * FRAME, (ph.start + ph.duration) * FRAME))
        ranges.append((first, len(phones)))
        word_segs.append(Segment(words[len(word_segs)] if len(word_segs) < len(words) else name, start, end))
        raw_scores.append((entry.start, entry.duration, entry.score))
    if len(word_segs) != len(words):
        raise AlignmentFailed(f"the aligner returned {len(word_segs)} words for {len(words)} transcript words")
    scores: tuple[float, ...] = ()
    if with_confidence:
        scores = tuple(_confidence(pcm, raw_scores))
    duration = len(pcm) / 2 / RATE
    _release_if_long(pcm, lm=None, bestpath=False)
    return Alignment(transcript, tuple(word_segs), tuple(phones), tuple(ranges), duration, "pocketsphinx", scores)


_LOOPS: dict[bytes, list[tuple[int, int, float]]] = {}  # the last few audios' phone-loop segments


def _phone_loop(pcm: bytes) -> list[tuple[int, int, float]]:
    """(start frame, frames, log score) of each segment of a free phone loop over `pcm`. The
    same audio aligned against two transcripts (QC's heard check: new words, old words) gets
    the same loop: it is decoded once (the loop's result depends on the audio alone)."""
    from pocketsphinx import get_model_path

    key = hashlib.blake2b(pcm, digest_size=16).digest()
    if key not in _LOOPS:
        loop = _decoder(allphone=get_model_path("en-us/en-us-phone.lm.bin"), lm=None, bestpath=False, lw=0.5)
        loop.start_utt()
        loop.process_raw(pcm, full_utt=True)
        loop.end_utt()
        segments = [
            (
                seg.start_frame,
                seg.end_frame - seg.start_frame + 1,
                loop.logmath.log(seg.ascore) if seg.ascore > 0 else -1e6,
            )
            for seg in loop.seg() or []
        ]
        _release_if_long(pcm, allphone=get_model_path("en-us/en-us-phone.lm.bin"), lm=None, bestpath=False, lw=0.5)
        while len(_LOOPS) >= 4:
            del _LOOPS[next(iter(_LOOPS))]
        _LOOPS[key] = segments
    return _LOOPS[key]


def _confidence(pcm: bytes, words: list[tuple[int, int, int]]) -> list[float]:
    """Per-frame score of each word minus that of a free phone loop over the same frames."""
    frames = max((s + n for s, n, _ in words), default=0) + 1
    per_frame = np.zeros(frames + 1)
    for start, n, score in _phone_loop(pcm):
        if n <= 0 or start >= len(per_frame):
            continue
        per_frame[start : start + n] = score / n
    out = []
    for start, n, score in words:
        reference = per_frame[start : start + n].sum()
        out.append(round(float((score - reference) / max(n, 1)), 2) if math.isfinite(reference) else float("nan"))
    return out


def recognize(mono: np.ndarray, rate: int) -> str:
    """Best guess of what is said, with the bundled en-us language model (~0.3 s per second)."""
    pcm = to_pcm16(mono, rate)
    if len(pcm) < 2 or np.abs(np.frombuffer(pcm, np.int16)).max() < 2:  # digital silence ("dog" otherwise)
        raise AlignmentFailed("no speech was recognised (the audio is silent)")
    dec = _decoder()
    dec.start_utt()
    dec.process_raw(pcm, full_utt=True)
    dec.end_utt()
    hyp = dec.hyp()
    _release_if_long(pcm)
    if hyp is None or not hyp.hypstr.strip():
        raise AlignmentFailed("no speech was recognised")
    return " ".join(w for w in hyp.hypstr.split() if not w.startswith(("<", "[")))
