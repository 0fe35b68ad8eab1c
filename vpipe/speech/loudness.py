"""Loudness of short stretches of speech, on the EBU R128 / ITU BS.1770 scale.

Integrated loudness gates over 400 ms blocks, longer than a replaced word, so words are
measured as K-weighted mean square over their active (non-silent) samples: the same scale
(LUFS-like dB), comparable between a word and the speech around it.
"""

from __future__ import annotations

from functools import cache

import numpy as np

# BS.1770's K-weighting as pyloudnorm designs it (RBJ cookbook biquads): a +4 dB shelf from
# 1.5 kHz (Q = 1/√2), then a 38 Hz high-pass (Q = 0.5)
SHELF_DB, SHELF_HZ, SHELF_Q = 4.0, 1500.0, 1 / np.sqrt(2)
HIGH_PASS_HZ, HIGH_PASS_Q = 38.0, 0.5
IMPULSE_FLOOR = 1e-18  # the filters' impulse response is cut where it stays below this (of its peak)


@cache
def _k_filters(rate: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(b, a) of the two biquads, normalised by a0, as pyloudnorm's Meter(rate) computes them."""
    a_gain = 10 ** (SHELF_DB / 40.0)
    w0 = 2.0 * np.pi * (SHELF_HZ / rate)
    alpha = np.sin(w0) / (2.0 * SHELF_Q)
    cos, root = np.cos(w0), 2 * np.sqrt(a_gain) * alpha
    shelf_b = np.array(
        [
            a_gain * ((a_gain + 1) + (a_gain - 1) * cos + root),
            -2 * a_gain * ((a_gain - 1) + (a_gain + 1) * cos),
            a_gain * ((a_gain + 1) + (a_gain - 1) * cos - root),
        ]
    )
    shelf_a = np.array([(a_gain + 1) - (a_gain - 1) * cos + root, 2 * ((a_gain - 1) - (a_gain + 1) * cos)])
    shelf_a = np.append(shelf_a, (a_gain + 1) - (a_gain - 1) * cos - root)
    w0 = 2.0 * np.pi * (HIGH_PASS_HZ / rate)
    alpha = np.sin(w0) / (2.0 * HIGH_PASS_Q)
    cos = np.cos(w0)
    pass_b = np.array([(1 + cos) / 2, -(1 + cos), (1 + cos) / 2])
    pass_a = np.array([1 + alpha, -2 * cos, 1 - alpha])
    return [(shelf_b / shelf_a[0], shelf_a / shelf_a[0]), (pass_b / pass_a[0], pass_a / pass_a[0])]


@cache
def _impulse(rate: int) -> np.ndarray:
    """The two biquads' impulse response, run to where it has decayed below IMPULSE_FLOOR of
    its peak for good (a few thousand samples: the 38 Hz pole pair is the slowest)."""
    filters = _k_filters(rate)
    out: list[float] = []
    states = [[0.0, 0.0, 0.0, 0.0] for _ in filters]  # x[n-1], x[n-2], y[n-1], y[n-2] per biquad
    peak, quiet, n = 0.0, 0, 0
    while quiet < 64 and n < 1 << 20:
        v = 1.0 if n == 0 else 0.0
        for (b, a), st in zip(filters, states, strict=True):
            y = b[0] * v + b[1] * st[0] + b[2] * st[1] - a[1] * st[2] - a[2] * st[3]
            st[1], st[0], st[3], st[2] = st[0], v, st[2], y
            v = y
        out.append(v)
        peak = max(peak, abs(v))
        quiet = quiet + 1 if abs(v) < IMPULSE_FLOOR * peak else 0
        n += 1
    return np.asarray(out)


def k_weight(x: np.ndarray, rate: int) -> np.ndarray:
    """`x` through the K-weighting filters: equal to scipy.signal.lfilter through pyloudnorm's
    two biquads (to ~1e-12 of the signal's scale; tests/speech/test_loudness_pitch.py), as a
    convolution with their impulse response — importing scipy.signal would cost ~1.2 s of CPU
    in every process that measures a row's loudness."""
    y = np.asarray(x, dtype=np.float64)
    if len(y) == 0:
        return y.copy()
    h = _impulse(rate)
    size = 1 << int(np.ceil(np.log2(len(y) + len(h) - 1)))
    return np.fft.irfft(np.fft.rfft(y, size) * np.fft.rfft(h, size), size)[: len(y)]


def speech_loudness(x: np.ndarray, rate: int, floor_db: float = -70.0) -> float:
    """K-weighted loudness (dB, LUFS scale) of the active part of mono `x`; -inf for silence.
    Active = 10 ms blocks within 30 dB of the loudest block (drops pauses and room tone)."""
    y = k_weight(x, rate)
    block = max(1, rate // 100)
    n = len(y) // block
    if n == 0:
        return float("-inf")
    power = (y[: n * block].reshape(n, block) ** 2).mean(axis=1)
    with np.errstate(divide="ignore"):
        db = 10 * np.log10(power + 1e-20)
    active = db > max(db.max() - 30.0, floor_db)
    if not active.any():
        return float("-inf")
    return float(-0.691 + 10 * np.log10(power[active].mean() + 1e-20))
