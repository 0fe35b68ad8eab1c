"""Loudness of short stretches of speech, on the EBU R128 / ITU BS.1770 scale.

Integrated loudness gates over 400 ms blocks, longer than a replaced word, so words are
measured as K-weighted mean square over their active (non-silent) samples: the same scale
(LUFS-like dB), comparable between a word and the speech around it.
"""

from __future__ import annotations

from functools import cache

import numpy as np


@cache
def _k_filters(rate: int) -> list[tuple[np.ndarray, np.ndarray]]:
    import pyloudnorm

    meter = pyloudnorm.Meter(rate)
    return [(np.asarray(f.b), np.asarray(f.a)) for f in meter._filters.values()]


def k_weight(x: np.ndarray, rate: int) -> np.ndarray:
    from scipy.signal import lfilter  # here: importing scipy.signal costs ~1 s of every start-up

    y = np.asarray(x, dtype=np.float64)
    for b, a in _k_filters(rate):
        y = lfilter(b, a, y)
    return y


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
