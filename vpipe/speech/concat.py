"""A new word joined from the speaker's own units on the recording's waveform (TD-PSOLA).

`vpipe.speech.units` chooses the speaker's phones for a new word and lends their WORLD
frames to a vocoder; here the same choices are played from the recording itself, grain by
grain (`vpipe.speech.psola`): each phone plays its unit's stretch of the recording, time-mapped
onto the phone's span (`units.retimed`: the units' rhythm, the word's length), at the units'
own pitch with log-F0 smoothed over the word (no pitch step where units from far apart
join), joined on pitch marks. Phones no unit covers play `filler` (the same word rendered by
the vocoder path with the same choices and spans, so its phones sit where these do),
copied grain by grain, which crossfades it into the units over a grain. The units take the
filler's level over their span (loudness was matched on the filler).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vpipe.speech.psola import overlap_add, pitch_marks
from vpipe.speech.resample import resample_poly
from vpipe.speech.splice import MonoMix
from vpipe.speech.units import F0_SMOOTH_FRAMES, FRAME_S, Choice, UnitLibrary, smooth_f0

_MARGIN_S = 0.05  # recording kept beyond each unit (the last grain's right half)


def _excerpt(mono: np.ndarray | MonoMix, rate_in: int, rate: int, a: float, b: float) -> tuple[np.ndarray, int]:
    """The recording from `a` to `b` seconds (clipped to the recording) at `rate`, and its
    first sample's index at `rate`."""
    i0, i1 = max(0, int(a * rate_in)), min(len(mono), int(np.ceil(b * rate_in)))
    g = np.gcd(rate, rate_in)
    x = resample_poly(np.asarray(mono[i0:i1], np.float64), rate // g, rate_in // g)
    return x, round(i0 * rate / rate_in)


def join(
    mono: np.ndarray | MonoMix,
    rate_in: int,
    lib: UnitLibrary,
    choices: Sequence[Choice],
    spans: Sequence[tuple[float, float]],
    filler: np.ndarray,
    rate: int,
    lead: float,
) -> np.ndarray:
    """`filler` (mono at `rate`, the word from `lead` seconds) with each phone that has a unit
    played from the recording (`mono` at `rate_in`) over the phone's span in `spans`
    (seconds from the word start). `mono` is read only around the units (a `MonoMix` mixes
    only those samples)."""
    filler = np.asarray(filler, np.float64)
    n = len(filler)
    # one source buffer: the filler, then each unit's stretch of the recording
    parts, marks = [filler], [np.zeros(0, np.int64)]
    source = np.arange(n, dtype=np.float64)  # output sample -> source-buffer sample
    said = np.full(n, np.nan)  # output sample -> seconds in the recording (NaN: the filler)
    at = n
    for c, (ta, tb) in zip(choices, spans, strict=True):
        o0, o1 = round((lead + ta) * rate), min(n, round((lead + tb) * rate))
        if c.unit is None or o1 <= o0:
            continue
        s, e = float(lib.starts[c.unit]), float(lib.ends[c.unit])
        x, first = _excerpt(mono, rate_in, rate, s - _MARGIN_S, e + _MARGIN_S)
        fa, fb = lib.frame(s - _MARGIN_S), lib.frame(e + _MARGIN_S) + 1
        times = np.arange(fa, fb) * FRAME_S - first / rate
        marks.append(pitch_marks(x, rate, times, lib.f0[fa:fb].astype(np.float64)) + at)
        said[o0:o1] = s + (np.arange(o0, o1) - o0) / (o1 - o0) * (e - s)
        source[o0:o1] = at + said[o0:o1] * rate - first
        parts.append(x)
        at += len(x)
    own = np.isfinite(said)
    if not own.any():
        return filler.astype(np.float32)
    buffer = np.concatenate(parts)
    # the units at the filler's level over their span (loudness was matched on the filler)
    played = buffer[np.clip(np.round(source[own]).astype(int), 0, len(buffer) - 1)]
    buffer[n:] *= np.sqrt(np.mean(filler[own] ** 2) / max(float(np.mean(played**2)), 1e-20))
    hop = FRAME_S * rate
    centres = np.minimum((np.arange(int(np.ceil(n / hop))) * hop).astype(int), n - 1)
    frames = np.where(own[centres], np.round(np.nan_to_num(said[centres]) / FRAME_S), 0).astype(int)
    f0 = np.where(own[centres], lib.f0[np.clip(frames, 0, len(lib.f0) - 1)], 0.0).astype(np.float64)
    scale = np.divide(smooth_f0(f0, F0_SMOOTH_FRAMES), f0, out=np.zeros_like(f0), where=f0 > 0)
    out = overlap_add(buffer, rate, np.concatenate(marks), source, scale, FRAME_S)
    return out.astype(np.float32)


__all__ = ["join"]
