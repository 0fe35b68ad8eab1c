"""Polyphase resampling in numpy, equal to `scipy.signal.resample_poly` (its default Kaiser
window, β = 5, constant padding) to the last bits of a float64.

Why not scipy's own: importing `scipy.signal` costs ~1.2 s of CPU (it imports scipy.stats
and more), paid by every process that touches a row's audio — a third of a `vpipe preview`
of a new value. This is the same filter (`firwin` of 20 × max(up, down) + 1 taps, cut-off at
the lower Nyquist, scaled by `up`) applied the same way (`upfirdn`, the same samples kept),
only written with numpy; tests/speech/test_resample.py checks it against scipy over rates,
lengths and content.
"""

from __future__ import annotations

from functools import cache
from math import gcd

import numpy as np

KAISER_BETA = 5.0  # scipy.signal.resample_poly's default window ('kaiser', 5.0)


@cache
def _design(up: int, down: int) -> tuple[np.ndarray, int]:
    """(the filter as an (up, taps per phase) matrix of its polyphase components, the number of
    zeros scipy pads before it), as resample_poly designs it."""
    max_rate = max(up, down)
    half_len = 10 * max_rate
    numtaps = 2 * half_len + 1
    m = np.arange(numtaps) - 0.5 * (numtaps - 1)
    cutoff = 1.0 / max_rate
    h = cutoff * np.sinc(cutoff * m)  # firwin: an ideal low-pass [0, cutoff] of the Nyquist
    h *= np.kaiser(numtaps, KAISER_BETA)
    h /= np.sum(h)  # unit gain at 0 Hz (firwin's scale)
    h *= up
    pre_pad = down - half_len % down
    h = np.concatenate((np.zeros(pre_pad), h))
    per_phase = -(-len(h) // up)
    phases = np.zeros((up, per_phase))
    for p in range(up):
        taps = h[p::up]
        phases[p, : len(taps)] = taps
    return phases, pre_pad


def resample_poly(x: np.ndarray, up: int, down: int) -> np.ndarray:
    """`x` (1-D) at `up`/`down` times its rate, as scipy.signal.resample_poly(x, up, down)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError("resample_poly here takes a 1-D signal")
    g = gcd(up, down)
    up, down = up // g, down // g
    if up == down == 1:
        return x.copy()
    n_out = -(-len(x) * up // down)
    if len(x) == 0:
        return np.zeros(0)
    phases, pre_pad = _design(up, down)
    first = (10 * max(up, down) + pre_pad) // down  # the outputs before this are the filter's lead-in
    taps = phases.shape[1]
    padded = np.concatenate((np.zeros(taps), x, np.zeros(taps + 1)))
    # window s = padded[s : s + taps]; output m = window j0 + 1 · the phase's taps reversed, with
    # j0, phase = divmod(m · down, up). Outputs up apart share a phase and step `down` windows on.
    windows = np.lib.stride_tricks.sliding_window_view(padded, taps)
    reversed_taps = phases[:, ::-1]
    out = np.empty(n_out)
    for r in range(min(up, n_out)):
        j0, phase = divmod((first + r) * down, up)
        count = len(range(r, n_out, up))
        rows = windows[j0 + 1 :: down][:count]
        out[r::up] = rows @ reversed_taps[phase]
    return out
