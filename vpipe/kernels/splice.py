"""audio.splice: put each slot's new audio into the source track.

Outside the slots the source samples are kept exactly (same rate, same channels). Each
boundary moves to the quietest point within ±15 ms of the aligner's word boundary, and
the new word is faded in and out there with a short equal-power crossfade, so there is
no click and no gap. The new word is brought to the loudness of the speech around it.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
from scipy.signal import resample_poly

from vpipe.data.alignment import Segment
from vpipe.data.audio import Audio
from vpipe.data.media import TimelineEdit, Track
from vpipe.data.speech import SlotClip
from vpipe.ir.graph import Estimate, Op
from vpipe.kernels.registry import Kernel, kernel
from vpipe.speech.loudness import speech_loudness
from vpipe.speech.stretch import wsola

SNAP = 0.015  # seconds the boundary may move to find a quiet point
FADE = 0.012  # crossfade length at each boundary
CONTEXT_LOUDNESS = 1.0  # seconds of source speech on each side that set the loudness target
MAX_GAIN_DB = 18.0


def resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    if rate_in == rate_out:
        return x.astype(np.float32)
    r = Fraction(rate_out, rate_in)
    return resample_poly(x.astype(np.float64), r.numerator, r.denominator).astype(np.float32)


def quietest(mono: np.ndarray, rate: int, t: float, window: float = SNAP) -> float:
    """The time within ±window of t where 5 ms energy is lowest."""
    hop = max(1, int(0.001 * rate))
    width = max(hop, int(0.005 * rate))
    lo, hi = max(0, int((t - window) * rate)), min(len(mono) - width, int((t + window) * rate))
    if hi <= lo:
        return t
    starts = np.arange(lo, hi + 1, hop)
    energy = np.array([float(np.dot(mono[s : s + width], mono[s : s + width])) for s in starts])
    # prefer the centre when energies tie (flat silence): add a small distance penalty
    penalty = np.abs(starts + width / 2 - t * rate) / (window * rate) * (energy.min() + 1e-9) * 0.1
    best = starts[int(np.argmin(energy + penalty))]
    return (best + width / 2) / rate


def _equal_power(n: int) -> tuple[np.ndarray, np.ndarray]:
    x = (np.arange(n) + 0.5) / n
    return np.cos(x * np.pi / 2).astype(np.float32), np.sin(x * np.pi / 2).astype(np.float32)


def match_loudness(word: np.ndarray, rate: int, source: np.ndarray, src_rate: int, s0: float, s1: float) -> np.ndarray:
    """Scale `word` to the loudness of the source speech around [s0, s1]."""
    a = max(0, int((s0 - CONTEXT_LOUDNESS) * src_rate))
    b = min(len(source), int((s1 + CONTEXT_LOUDNESS) * src_rate))
    target = speech_loudness(source[a:b], src_rate)
    current = speech_loudness(word, rate)
    if not (np.isfinite(target) and np.isfinite(current)):
        return word
    gain = float(np.clip(target - current, -MAX_GAIN_DB, MAX_GAIN_DB))
    return (word * 10 ** (gain / 20)).astype(np.float32)


def splice(source: Audio, clips: list[SlotClip], replaced: dict[str, str] | None = None) -> Track:
    rate = source.rate
    src = source.samples
    channels = src.shape[1]
    mono = source.mono()
    fade = max(2, int(FADE * rate))
    half = fade // 2
    fade_out, fade_in = _equal_power(fade)
    pieces: list[np.ndarray] = []
    edits: list[TimelineEdit] = []
    cursor = 0  # next source sample to copy
    shift = 0.0
    for clip in sorted(clips, key=lambda c: c.source_start):
        s0 = quietest(mono, rate, clip.source_start)
        s1 = quietest(mono, rate, clip.source_end)
        i0, i1 = int(round(s0 * rate)), int(round(s1 * rate))
        new = resample(clip.audio, clip.rate, rate)
        lead = int(round(clip.lead * rate))
        word_end = min(len(new), lead + int(round(clip.duration * rate)))
        body = new[lead:word_end]
        if clip.fitted and len(body) != i1 - i0:  # snapping moved the boundaries a few ms
            body = wsola(body, rate, i1 - i0)
        new = match_loudness(np.concatenate([new[:lead], body, new[word_end:]]), rate, mono, rate, s0, s1)
        body_len = len(body)
        # untouched source, then source → new word crossfade centred on the boundary
        a = max(cursor, i0 - half)
        pieces.append(src[cursor:a])
        n = min(fade, len(src) - a)
        pieces.append(src[a : a + n] * fade_out[:n, None] + (_take(new, lead - (i0 - a), n) * fade_in[:n])[:, None])
        # the new word, then new word → source crossfade at the recorded word's end
        body_from = lead + (a + n - i0)
        body_to = lead + body_len - half
        pieces.append(np.repeat(_take(new, body_from, max(0, body_to - body_from))[:, None], channels, axis=1))
        resume = max(0, i1 - half)
        src_part = src[resume : resume + fade]
        if len(src_part) < fade:
            src_part = np.pad(src_part, ((0, fade - len(src_part)), (0, 0)))
        pieces.append((_take(new, max(body_to, body_from), fade) * fade_out)[:, None] + src_part * fade_in[:, None])
        cursor = resume + fade
        out_start = s0 + shift
        k = (body_len / rate) / max(clip.duration, 1e-9)  # snapping may have stretched the word a little
        phones = tuple(Segment(p.label, p.start * k, p.end * k) for p in clip.phones)
        edits.append(TimelineEdit(clip.name, s0, s1, out_start, out_start + body_len / rate, clip.text,
                                  (replaced or {}).get(clip.name, ""), phones))
        shift += body_len / rate - (s1 - s0)
    pieces.append(src[cursor:])
    samples = np.concatenate([p.astype(np.float32) for p in pieces], axis=0)
    return Track(Audio(np.ascontiguousarray(samples), rate, source.start), tuple(edits))


def _take(x: np.ndarray, start: int, n: int) -> np.ndarray:
    """n samples of x from `start`, zero-padded outside x."""
    out = np.zeros(n, np.float32)
    lo, hi = max(start, 0), min(start + n, len(x))
    if hi > lo:
        out[lo - start : hi - start] = x[lo:hi]
    return out


@kernel("audio.splice", backend="crossfade")
class Splice(Kernel):
    version = "1"

    def estimate(self, op: Op, context: dict[str, Any]) -> Estimate:
        return Estimate(seconds=0.02, ram_mb=30)

    def run(self, op: Op, inputs: list[Any], rt: Any) -> Track:
        audio, slot_audio, spans = inputs
        return splice(audio, list(slot_audio.clips), {s.name: " ".join(s.words) for s in spans.slots})


@kernel("audio.narrate", backend="builtin")
class Narration(Kernel):
    version = "1"

    def run(self, op: Op, inputs: list[Any], rt: Any) -> Track:
        (speech,) = inputs
        pad = np.zeros(int(0.3 * speech.rate), np.float32)  # a breath of silence at both ends
        mono = np.concatenate([pad, speech.audio, pad])
        return Track(Audio.from_mono(mono, speech.rate, channels=1), ())
