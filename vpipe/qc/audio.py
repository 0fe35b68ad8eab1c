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
from vpipe.data.media import TimelineEdit
from vpipe.lexicon import Lexicon
from vpipe.speech.align import RATE, AlignmentFailed, align, at_aligner_rate
from vpipe.speech.loudness import speech_loudness
from vpipe.speech.splice import CONTEXT_LOUDNESS, FADE, surrounding_loudness
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


def _window(mono: np.ndarray, rate: int, a: float, b: float) -> np.ndarray:
    return mono[max(0, int(a * rate)) : min(len(mono), int(b * rate))]


def heard(
    mono: np.ndarray,
    rate: int,
    edit: TimelineEdit,
    phonemize: Callable[[list[str]], list[str]],
    lexicon: Lexicon | None = None,
    margin: float = HEARD_MARGIN,
    context: int | None = None,
) -> HeardCheck:
    """Align the output around the slot twice, `context` recorded words each side (default
    HEARD_CONTEXT) with the new words and with the old ones; the slot words' confidence says which the audio is. Context
    pins the slot's boundaries, so a short old word cannot hide inside a longer new one."""
    words_before, words_after = heard_context(edit, context)
    start = (words_before[0].start if words_before else edit.output_start) - margin
    end = (words_after[-1].end if words_after else edit.output_end) + margin
    window = at_aligner_rate(_window(mono, rate, start, end), rate)  # resampled once for both alignments
    before = [w.label for w in words_before]
    after = [w.label for w in words_after]

    def confidence(words: str) -> float:
        slot = words_of(words)
        try:
            al = align(window, RATE, " ".join(before + slot + after), lexicon or Lexicon(), phonemize)
        except AlignmentFailed:
            return -math.inf
        scores = al.scores[len(before) : len(before) + len(slot)]
        finite = [s for s in scores if math.isfinite(s)]
        return float(np.mean(finite)) if finite else -math.inf

    return HeardCheck(confidence(edit.said), confidence(edit.replaced))


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
    from vpipe.speech.similarity import embed

    window = _window(mono, rate, edit.output_start - SIMILARITY_CONTEXT, edit.output_end + SIMILARITY_CONTEXT)
    return float(np.dot(embed(window, rate), speaker))
