"""Pitch-synchronous overlap-add (TD-PSOLA) on a recording's waveform.

The speaker's own units are joined here as the speaker said them, not re-synthesised by a
vocoder: each output pitch period is a two-period, Hann-windowed grain of the recording cut
around one of its pitch marks (epochs), laid at the output's own pitch marks. The output's
time map (which source instant each output instant plays) sets the timing; the output's F0
contour sets the spacing of its marks, so pitch and duration change independently, and two
units from far apart join grain by grain, aligned on their pitch marks (a one-period
crossfade at the same point of the glottal cycle), without a phase jump.

Pitch marks are found from a frame F0 track: the first mark of a voiced stretch is the
largest peak of the (1 ms-smoothed) waveform in its first period, each next one the largest
peak within a quarter period of one period later, so every mark sits at the same point of
its cycle. Unvoiced stretches use grains of UNVOICED_HOP_S spacing taken at the time map's
exact source instant (no grain is repeated, so a stretched fricative does not buzz).

Why not a library: praat-parselmouth's Manipulation is the usual TD-PSOLA, but it is
GPL-3.0 and would run inside vpipe's process (vpipe keeps the GPL at arm's length: README,
"Licences"). pyworld resynthesises (a vocoder), which is what this replaces.
"""

from __future__ import annotations

import numpy as np

UNVOICED_HOP_S = 0.005  # grain spacing where the source is unvoiced (grains are twice as long)
_SMOOTH_S = 0.001  # the waveform is smoothed over this before peak picking (high-frequency noise)


def pitch_marks(x: np.ndarray, rate: int, times: np.ndarray, f0: np.ndarray) -> np.ndarray:
    """Sample indices of `x`'s pitch marks: one per period in each voiced stretch of the
    frame track (`times` seconds, `f0` Hz, 0 where unvoiced), at the waveform's peak of
    each period."""
    x = np.asarray(x, np.float64)
    width = max(1, int(_SMOOTH_S * rate))
    smooth = np.convolve(x, np.ones(width) / width, mode="same")
    voiced = f0 > 0
    edges = np.flatnonzero(np.diff(np.concatenate([[0], voiced.astype(int), [0]])))
    marks: list[int] = []
    hop = float(times[1] - times[0]) if len(times) > 1 else 0.005
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        lo = max(0, int((times[a] - hop / 2) * rate))
        hi = min(len(x), int((times[b - 1] + hop / 2) * rate))
        if hi - lo < 2:
            continue

        def period(i: int, a: int = a, b: int = b) -> float:
            k = int(np.clip(np.searchsorted(times[a:b], i / rate), 0, b - a - 1))
            return rate / float(f0[a + k])

        first = lo + int(np.argmax(smooth[lo : min(hi, lo + int(period(lo)) + 1)]))
        stretch = [first]
        while True:
            p = period(stretch[-1])
            centre = stretch[-1] + p
            if centre >= hi:
                break
            s, e = int(centre - p / 4), int(centre + p / 4) + 1
            s, e = max(s, stretch[-1] + 1), min(e, hi)
            if e <= s:
                break
            stretch.append(s + int(np.argmax(smooth[s:e])))
        marks.extend(stretch)
    return np.asarray(marks, np.int64)


def overlap_add(
    x: np.ndarray,
    rate: int,
    marks: np.ndarray,
    source_at: np.ndarray,
    scale: np.ndarray,
    frame_s: float,
) -> np.ndarray:
    """`len(source_at)` samples of `x` replayed by TD-PSOLA. `source_at`: the source sample
    each output sample plays (the time map; it may jump: a join); `scale`: per output frame
    of `frame_s`, the pitch factor where the output is voiced (a grain is cut at the source's
    nearest pitch mark, two of its periods long, and the next output mark follows one source
    period / scale later), 0 where a grain is cut at the exact source instant (UNVOICED_HOP_S
    apart, twice as long: unvoiced sounds, or a stretch copied as it is). A voiced stretch
    starts on a source mark, so with the identity map and scale 1 the grains land where they
    were cut and the output is `x` again (up to the window sums)."""
    x = np.asarray(x, np.float64)
    out_len = len(source_at)
    pad = rate // 20  # room before sample 0 for the first grain's left half
    out = np.zeros(out_len + 2 * pad)
    hop_u = max(2, int(UNVOICED_HOP_S * rate))
    longest = rate // 50  # a longer gap between marks is a gap between voiced stretches
    t, was_voiced = 0.0, False
    while t < out_len:
        k = min(len(scale) - 1, int(t / (frame_s * rate)))
        i = min(out_len - 1, max(0, round(t)))
        s = float(source_at[i])
        j = _nearest(marks, s)
        voiced = scale[k] > 0 and j >= 0 and abs(marks[j] - s) <= longest // 2
        if voiced:
            if not was_voiced:  # a voiced stretch starts on a source mark
                lo, hi = max(0, i - 1), min(out_len - 1, i + 1)
                slope = float(source_at[hi] - source_at[lo]) / max(hi - lo, 1)
                t += (marks[j] - s) / slope if slope > 1e-3 else 0.0
            left = marks[j] - marks[j - 1] if j > 0 else longest + 1
            right = marks[j + 1] - marks[j] if j + 1 < len(marks) else longest + 1
            period = min(v for v in (left, right, longest) if v <= longest)  # within the stretch
            # the next output mark one source period on (to the next source mark), scaled
            centre, half, step = int(marks[j]), int(period), (right if right <= longest else period) / scale[k]
        else:
            centre, half, step = round(s), hop_u, float(hop_u)
        grain = _window(x, centre, half) * np.hanning(2 * half + 1)
        at = pad + round(t) - half
        if 0 <= at < len(out):
            out[at : at + len(grain)] += grain[: len(out) - at]
        t += step
        was_voiced = voiced
    return out[pad : pad + out_len]


def _nearest(marks: np.ndarray, s: float) -> int:
    """Index of the mark nearest `s`, -1 without marks."""
    if len(marks) == 0:
        return -1
    j = int(np.clip(np.searchsorted(marks, s), 1, max(1, len(marks) - 1)))
    if j >= len(marks):
        return len(marks) - 1
    return j if abs(marks[j] - s) < abs(marks[j - 1] - s) else j - 1


def _window(x: np.ndarray, centre: int, half: int) -> np.ndarray:
    """x[centre - half : centre + half + 1], zero beyond its ends."""
    lo, hi = centre - half, centre + half + 1
    part = x[max(0, lo) : max(0, min(len(x), hi))]
    return np.pad(part, (max(0, -lo), (2 * half + 1) - len(part) - max(0, -lo)))


__all__ = ["UNVOICED_HOP_S", "overlap_add", "pitch_marks"]
