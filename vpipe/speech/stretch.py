"""Time-scaling of speech without changing its pitch: WSOLA (waveform-similarity overlap-add).

Used for the small residual after the synthesizer's own length control has brought a word
close to its target duration, so the stretch applied here is usually a few percent and
WSOLA's artifacts (at larger factors: repeated or skipped pitch periods) stay inaudible.
"""

from __future__ import annotations

import numpy as np


def wsola(x: np.ndarray, rate: int, target_len: int, frame_ms: float = 25.0, tolerance_ms: float = 8.0) -> np.ndarray:
    """Return `x` (mono float) time-scaled to exactly `target_len` samples."""
    x = np.asarray(x, dtype=np.float64)
    n = len(x)
    if target_len <= 0:
        return np.zeros(0, np.float32)
    if n < 4 or target_len == n:
        return _exact(x, target_len).astype(np.float32)
    frame = max(16, int(rate * frame_ms / 1000) // 2 * 2)
    hop_out = frame // 2
    tol = int(rate * tolerance_ms / 1000)
    speed = n / target_len  # input samples consumed per output sample
    window = np.hanning(frame)
    out_len = target_len + frame
    out = np.zeros(out_len)
    norm = np.zeros(out_len)
    padded = np.concatenate([np.zeros(tol), x, np.zeros(frame + tol)])
    prev_tail: np.ndarray | None = None
    k = 0
    while k * hop_out < target_len:
        nominal = round(k * hop_out * speed) + tol  # position in `padded`
        if prev_tail is None:
            pos = nominal
        else:  # pick the offset whose start best continues the previous frame's natural continuation
            lo, hi = max(0, nominal - tol), min(len(padded) - frame, nominal + tol)
            seg = padded[lo : hi + hop_out]
            if len(seg) >= hop_out and hi >= lo:
                corr = np.correlate(seg, prev_tail, mode="valid")[: hi - lo + 1]
                pos = lo + int(np.argmax(corr)) if len(corr) else nominal
            else:
                pos = nominal
        chunk = padded[pos : pos + frame]
        if len(chunk) < frame:
            chunk = np.pad(chunk, (0, frame - len(chunk)))
        start = k * hop_out
        out[start : start + frame] += chunk * window
        norm[start : start + frame] += window
        prev_tail = padded[pos + hop_out : pos + hop_out + hop_out]
        if len(prev_tail) < hop_out:
            prev_tail = np.pad(prev_tail, (0, hop_out - len(prev_tail)))
        k += 1
    norm[norm < 1e-6] = 1.0
    y = out / norm
    return y[:target_len].astype(np.float32)


def _exact(x: np.ndarray, target_len: int) -> np.ndarray:
    if len(x) == target_len:
        return x
    return np.interp(np.linspace(0, len(x) - 1, target_len), np.arange(len(x)), x)
