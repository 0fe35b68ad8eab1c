"""The shared real clips for the speech tests: what each says, decoded once, aligned once.

Decoding and forced alignment cost ~0.1 s and ~1–1.7 s per clip, so every test module of
`tests/speech` that needs them goes through these process-wide caches (as test_voice_match
does with its own `source`). Media paths only ever come from `tests.media.shared_media`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from tests.media import shared_media
from vpipe.data.alignment import Alignment
from vpipe.data.audio import Audio


@dataclass(frozen=True)
class Clip:
    file: str
    transcript: str  # lower case, as the recognizer heard it (checked by forced alignment)
    slot: tuple[str, ...]  # the recorded words a recipe would replace


CLIPS: dict[str, Clip] = {
    "interview_man": Clip(
        "interview_man.mp4",
        "my biggest weakness is asking for help when needed i like to do better and i",
        ("help",),
    ),
    "glasses_woman": Clip(
        "glasses_woman.mp4",
        "bringing in reforms to tighten that regulation and his",
        ("regulation",),
    ),
    # the full recognised transcript: it fits the audio better than the README's partial one
    "studio_woman": Clip(
        "studio_woman.mp4",
        "sign at him and he represents the european central bank and humanizes "
        "the body of your opponents essential point money",
        ("european", "central", "bank"),
    ),
}


@cache
def audio(name: str) -> Audio:
    """The clip's decoded audio track (float32, (n, channels), at its own rate)."""
    from vpipe.media.decode import read_audio

    file = CLIPS[name].file if name in CLIPS else name
    return read_audio(shared_media(file))


@cache
def alignment(name: str) -> Alignment:
    """pocketsphinx forced alignment of the clip against its transcript."""
    from vpipe.lexicon import Lexicon
    from vpipe.speech.align import align
    from vpipe.speech.tts import phonemize

    a = audio(name)
    return align(a.mono(), a.rate, CLIPS[name].transcript, Lexicon(), phonemize)


def slot_index(name: str) -> int:
    """Index of the slot's first word in the transcript (and in `alignment(name).words`)."""
    words = CLIPS[name].transcript.split()
    slot = list(CLIPS[name].slot)
    return next(i for i in range(len(words)) if words[i : i + len(slot)] == slot)


def level_db(x: np.ndarray) -> float:
    """Mean-square level in dBFS (float64 accumulation)."""
    return float(10 * np.log10(np.mean(np.asarray(x, np.float64) ** 2) + 1e-20))


def frame_levels(mono: np.ndarray, rate: int, frame_s: float = 0.02) -> tuple[np.ndarray, np.ndarray]:
    """(frame centre times, dBFS level) of non-overlapping `frame_s` frames."""
    n = int(frame_s * rate)
    frames = np.asarray(mono[: len(mono) // n * n], np.float64).reshape(-1, n)
    levels = 10 * np.log10((frames**2).mean(axis=1) + 1e-20)
    return (np.arange(len(levels)) + 0.5) * frame_s, levels
