"""Audio quality of a personalized output, weight-free except the bundled speaker encoder.

- heard: the slot window of the output is force-aligned against the new words and against
  the recorded words; the new words must fit the audio better (per-frame confidence
  against a free phone loop, the same measure the aligner's confidence uses);
- loudness: the slot's speech loudness against the speech within 1 s around it;
- clicks: the largest sample-to-sample jump at the splice joins against the largest jump in
  the source's own audio or inside the new word (a crossfade cannot jump further than its
  inputs do, so only a join beyond both is a click; a bright "s" is the word, not a click);
- speaker similarity: resemblyzer embedding of the output around the slot against the
  source speaker, next to the same measure on the untouched source (a natural baseline).

Each measure reads the output only within `reach(edit)` of a slot: QC decodes just that
(vpipe/qc/excerpt.py), so its cost does not grow with the length of the recording.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from vpipe.data.alignment import Segment
from vpipe.data.audio import Audio
from vpipe.data.media import TimelineEdit
from vpipe.lexicon import Lexicon
from vpipe.qc.heard_memo import Memo, heard_key
from vpipe.speech.align import RATE, AlignmentFailed, align, at_aligner_rate
from vpipe.speech.loudness import speech_loudness
from vpipe.speech.splice import CONTEXT_LOUDNESS, FADE, MonoMix, surrounding_loudness
from vpipe.text import words_of

JOIN_WINDOW = 0.0  # the joins are exactly the crossfade spans beside the word
SIMILARITY_CONTEXT = 0.75


@dataclass(frozen=True)
class HeardCheck:
    new_confidence: float
    old_confidence: float

    @property
    def new_wins(self) -> bool:
        return self.new_confidence > self.old_confidence


HEARD_MARGIN = 0.05  # seconds of audio the heard check takes beyond the context words

# Recorded words the heard check aligns on each side of the slot (the edit carries up to
# kernels/slots.py's CONTEXT_WORDS). One word each side pins both ends of the slot, so a short
# old word cannot hide inside a longer new one: measured on the three shared clips' own
# recordings (the old word still there) under 14 longer values that contain it ("helpful",
# "regulations", "european central banks", ...) and their 18 plain values, the old word wins
# every time with one word as with three (smallest margin 2.3 with one, 2.0 with three;
# tests/qc/test_heard_context.py). The check's CPU is about linear in its window: three
# words each side cost 0.45-0.54 s per row, one 0.27 s (glasses rows, 3.7 s -> ~1.8 s window).
HEARD_CONTEXT = 1


def heard_context(edit: TimelineEdit, words: int | None = None) -> tuple[tuple[Segment, ...], tuple[Segment, ...]]:
    """The recorded words the heard check aligns before and after the slot (`words` each side,
    HEARD_CONTEXT when not given; read when called, so a benchmark can set it)."""
    words = HEARD_CONTEXT if words is None else words
    return edit.before[max(0, len(edit.before) - words) :], edit.after[:words]


def reach(edit: TimelineEdit) -> tuple[float, float]:
    """Output seconds every measure here reads for `edit` (the heard check's context words,
    the loudness reference, the similarity context), with a frame of room each side."""
    before, after = heard_context(edit)
    start = min(
        (before[0].start if before else edit.output_start) - HEARD_MARGIN,
        edit.output_start - CONTEXT_LOUDNESS,
        edit.output_start - SIMILARITY_CONTEXT,
    )
    end = max(
        (after[-1].end if after else edit.output_end) + HEARD_MARGIN,
        edit.output_end + CONTEXT_LOUDNESS,
        edit.output_end + SIMILARITY_CONTEXT,
    )
    return start - 0.05, end + 0.05


def _window(mono: np.ndarray | MonoMix, rate: int, a: float, b: float) -> np.ndarray:
    return mono[max(0, int(a * rate)) : min(len(mono), int(b * rate))]


def heard_window(
    mono: np.ndarray | MonoMix, rate: int, edit: TimelineEdit, margin: float = HEARD_MARGIN, context: int | None = None
) -> tuple[np.ndarray, list[str], list[str]]:
    """The audio the heard check aligns (`context` recorded words each side of the slot and
    `margin` beyond them, at the aligner's rate) and those words before and after."""
    words_before, words_after = heard_context(edit, context)
    start = (words_before[0].start if words_before else edit.output_start) - margin
    end = (words_after[-1].end if words_after else edit.output_end) + margin
    window = at_aligner_rate(np.asarray(_window(mono, rate, start, end)), rate)  # resampled once for both alignments
    return window, [w.label for w in words_before], [w.label for w in words_after]


# Every heard check of this process, by the exact audio and words it aligned (the last
# MEMO_SIZE): QC finds there what the voice guard heard on the very track QC is given.
HEARD: Memo[HeardCheck] = Memo()


def _key(window: np.ndarray, edit: TimelineEdit, before: list[str], after: list[str], phonemize: Callable) -> bytes:
    return heard_key(window, [edit.said, "\x02", edit.replaced, "\x02", *before, "\x02", *after], phonemize)


def heard(
    mono: np.ndarray | MonoMix,
    rate: int,
    edit: TimelineEdit,
    phonemize: Callable[[list[str]], list[str]],
    lexicon: Lexicon | None = None,
    margin: float = HEARD_MARGIN,
    context: int | None = None,
    remember: bool = True,
) -> HeardCheck:
    """Align the output around the slot twice, `context` recorded words each side (default
    HEARD_CONTEXT) with the new words and with the old ones; the slot words' confidence says which the audio is. Context
    pins the slot's boundaries, so a short old word cannot hide inside a longer new one.
    The result is remembered (HEARD) by the exact samples and words aligned, unless `remember`
    is false (QC's check of a written file: nothing later looks that up)."""
    window, before, after = heard_window(mono, rate, edit, margin, context)

    def confidence(words: str) -> float:
        slot = words_of(words)
        try:
            al = align(window, RATE, " ".join(before + slot + after), lexicon or Lexicon(), phonemize)
        except AlignmentFailed:
            return -math.inf
        scores = al.scores[len(before) : len(before) + len(slot)]
        finite = [s for s in scores if math.isfinite(s)]
        return float(np.mean(finite)) if finite else -math.inf

    check = HeardCheck(confidence(edit.said), confidence(edit.replaced))
    if remember and lexicon is None:  # a lexicon's own pronunciations are not in the key
        HEARD.put(_key(window, edit, before, after, phonemize), check)
    return check


def heard_again(
    mono: np.ndarray | MonoMix, rate: int, edit: TimelineEdit, phonemize: Callable[[list[str]], list[str]]
) -> HeardCheck | None:
    """The heard check of exactly these samples around `edit` if this process made it before
    (the same function on the same data), else None."""
    window, before, after = heard_window(mono, rate, edit)
    return HEARD.get(_key(window, edit, before, after, phonemize))


def heard_known(track: Audio, edit: TimelineEdit, phonemize: Callable[[list[str]], list[str]]) -> HeardCheck | None:
    """The heard check of `track` around `edit` if this process has already aligned exactly
    that audio and those words (speech.match_voice's guard listens to the row's track as
    audio.splice cuts it), else None. Reads only the window: the track is the whole recording."""
    return heard_again(MonoMix(track), track.rate, edit, phonemize)


# A row whose sound is encoded whole (audio only, Opus: its guard hears the track, not the
# file's decode) has its guard's check of the track taken for the written file's only where
# what lies between them, the AAC encode, cannot have moved the verdict: the file's sound over the
# heard window follows the track's to within REUSE_FIDELITY_DB (track energy over the energy
# of the difference) and the new words won there by at least REUSE_MARGIN points. Measured
# on 63 audio-only rows of the three tuning clips (every value of tests/clips.py and 45
# more), each with two renderings of the speaker's units (126 pairs; the track's check
# against the file's, same window; /work/notes/s5-heard.md): the file was 31.5-43.4 dB from
# the track; the new words' confidence moved by at most 4.6 points, the recorded words' (a bad
# fit) by -34.7 to +6.8, the margin by -6.2 to +36.1; where the recorded words found no path
# on the track (32) they found none on the file; every verdict was the same. REUSE_MARGIN is
# above the largest move either way; a row below it is aligned on the file, as before.
REUSE_MARGIN = 45.0
REUSE_FIDELITY_DB = 30.0


def fidelity_db(out: np.ndarray | MonoMix, track: np.ndarray | MonoMix, rate: int, edit: TimelineEdit) -> float:
    """How closely `out` follows `track` (both mono, whole-track indices, at `rate`) over
    the heard window: 10·log10 of the track's energy over the difference's (inf if equal)."""
    words_before, words_after = heard_context(edit)
    a = (words_before[0].start if words_before else edit.output_start) - HEARD_MARGIN
    b = (words_after[-1].end if words_after else edit.output_end) + HEARD_MARGIN
    x = np.asarray(_window(out, rate, a, b), np.float64)
    y = np.asarray(_window(track, rate, a, b), np.float64)
    if len(x) != len(y) or not len(y):
        return -math.inf
    noise, signal = float(np.square(x - y).sum()), float(np.square(y).sum())
    if noise == 0.0:
        return math.inf
    return 10.0 * math.log10(signal / noise) if signal > 0 else -math.inf


def heard_output(
    out: np.ndarray | MonoMix,
    rate: int,
    track: Audio,
    edit: TimelineEdit,
    phonemize: Callable[[list[str]], list[str]],
) -> tuple[HeardCheck, dict[str, float]]:
    """QC's heard check of the written file (`out`: its mono sound at `rate`) around `edit`,
    and figures saying how it was made: `heard_from_guard` 1 when it was not aligned here.
    Either this process aligned exactly the file's samples over the window before (the voice
    guard of a spliced AAC row hears the row's packets decoded as QC decodes the file:
    vpipe.qc.excerpt_packets), so the check is the very same; or, for a row whose sound is
    encoded whole, the guard's check of the row's track stands for the file's within
    REUSE_MARGIN and REUSE_FIDELITY_DB (with `heard_fidelity_db`). Otherwise the file is aligned."""
    if rate == track.rate:
        same = heard_again(out, rate, edit, phonemize)
        if same is not None:
            return same, {"heard_from_guard": 1.0}
        known = heard_known(track, edit, phonemize)
        if known is not None and known.new_confidence - known.old_confidence >= REUSE_MARGIN:
            fidelity = fidelity_db(out, MonoMix(track), rate, edit)
            if fidelity >= REUSE_FIDELITY_DB:
                return known, {"heard_from_guard": 1.0, "heard_fidelity_db": round(fidelity, 2)}
    return heard(out, rate, edit, phonemize, remember=False), {"heard_from_guard": 0.0}


def loudness_delta(mono: np.ndarray, rate: int, edit: TimelineEdit) -> float:
    slot = _window(mono, rate, edit.output_start, edit.output_end)
    a = speech_loudness(slot, rate)
    b = surrounding_loudness(mono, rate, edit.output_start, edit.output_end)
    return a - b if math.isfinite(a) and math.isfinite(b) else math.nan


def join_jump(samples: np.ndarray, rate: int, edit: TimelineEdit) -> float:
    """Largest |x[n+1] - x[n]| over either join of the edit (the crossfade before the word,
    the one after it, and 2 ms on each side of them; all channels)."""
    worst = 0.0
    for a, b in ((edit.output_start - FADE, edit.output_start), (edit.output_end, edit.output_end + FADE)):
        seg = samples[max(0, int((a - JOIN_WINDOW) * rate)) : int((b + JOIN_WINDOW) * rate)]
        if len(seg) > 1:
            worst = max(worst, float(np.abs(np.diff(seg, axis=0)).max()))
    return worst


def word_jump(samples: np.ndarray, rate: int, edit: TimelineEdit) -> float:
    """Largest sample-to-sample jump inside the new word itself."""
    seg = samples[int(edit.output_start * rate) : int(edit.output_end * rate)]
    return float(np.abs(np.diff(seg, axis=0)).max()) if len(seg) > 1 else 0.0


JUMP_BLOCK = 1 << 16  # samples per block of max_jump (its temporaries stay a few MB)


def max_jump(samples: np.ndarray) -> float:
    """Largest |x[n+1] - x[n]| over the whole signal (all channels), a block at a time: the
    blocks overlap by one sample, so every difference is taken exactly once and the maximum
    is the whole-signal one, bit for bit."""
    if len(samples) < 2:
        return 0.0
    return max(
        float(np.abs(np.diff(samples[i : i + JUMP_BLOCK + 1], axis=0)).max())
        for i in range(0, len(samples) - 1, JUMP_BLOCK)
    )


def similarity_around(mono: np.ndarray, rate: int, edit: TimelineEdit, speaker: np.ndarray) -> float:
    return float(np.dot(embedding_around(mono, rate, edit), speaker))


def embedding_around(mono: np.ndarray, rate: int, edit: TimelineEdit) -> np.ndarray:
    """The speaker embedding similarity_around scores: of the slot with SIMILARITY_CONTEXT of
    the output either side (one window scored against several references embeds it once)."""
    from vpipe.speech.similarity import embed

    window = _window(mono, rate, edit.output_start - SIMILARITY_CONTEXT, edit.output_end + SIMILARITY_CONTEXT)
    return embed(window, rate)
