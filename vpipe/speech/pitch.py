"""F0 estimation that survives piper joe's weak first harmonic: a harmonic comb.

Why not pyworld's harvest/dio: in piper's joe voice the first harmonic (H1) is 15–45 dB below
H2 (measured on vowels of four sentences), so estimators that lean on the fundamental band jump
an octave up on 30–45 % of voiced frames (harvest sentence medians 113–150 Hz, dio 158–175 Hz)
and WORLD resynthesis driven by that F0 really comes out at the wrong pitch. Harmonic
*spacing* is intact, so this module scores every F0 candidate by how well a comb of all its
harmonics (positive teeth at k·f, negative teeth halfway between, weights 1/√k, over a
√-magnitude spectrum up to 2.5 kHz) fits the frame: a missing H1 costs one tooth; 2·f loses
the odd harmonics and is penalised by them; f/2 puts half its teeth into gaps. A Viterbi pass
over the candidate grid then removes isolated octave slips.

Checked against two estimators with other failure modes (pyin = time-domain difference
function + HMM; real cepstrum = spacing of the log spectrum), frames within 10 %: on five joe
sentences the comb agrees with pyin on 96–100 % and with the cepstrum on 95–100 % of frames,
medians 83–91 Hz; on a sixth pyin itself jumped an octave (216 Hz, 9 % voiced) where comb and
cepstrum agree on 99/86 Hz. harvest agrees with pyin on only 35–67 % of joe's frames. On the
three real speakers the comb agrees with pyin on 97–100 % of frames at 20–50 ms per second of
audio; harvest costs 270–470 ms/s and slips an octave down on the glasses woman (see profile).
Voicing is decided separately by the normalised autocorrelation at the chosen period.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cache

import numpy as np

ANALYSIS_RATE = 22050  # comb analysis rate: harmonics up to 2.5 kHz need no more
_WIN_S = 0.05  # 4+ periods at 80 Hz: harmonics resolved by a Hann window (±40 Hz main lobe)
_NFFT = 4096
_SPEC_MAX_HZ = 2500.0
_PER_OCTAVE = 48
_CHUNK = 512  # frames per FFT block
_OCTAVE_COST = 0.06  # Viterbi penalty per octave of F0 change between frames (voiced frames score ~0.1–0.4)


@dataclass(frozen=True)
class F0Track:
    times: np.ndarray  # seconds, frame centres
    f0: np.ndarray  # Hz; the best candidate also in unvoiced frames (see `voiced`)
    voiced: np.ndarray  # bool
    strength: np.ndarray  # periodicity: normalised autocorrelation at the chosen period

    def voiced_f0(self) -> np.ndarray:
        return self.f0[self.voiced]

    def at(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """F0 (log-interpolated) and voicing (nearest frame) at arbitrary times."""
        if len(self.times) == 0:
            return np.zeros(len(times)), np.zeros(len(times), bool)
        f = np.exp(np.interp(times, self.times, np.log(np.maximum(self.f0, 1.0))))
        idx = np.clip(np.searchsorted(self.times, times), 0, len(self.times) - 1)
        prev = np.clip(idx - 1, 0, len(self.times) - 1)
        nearest = np.where(np.abs(self.times[prev] - times) < np.abs(self.times[idx] - times), prev, idx)
        return f, self.voiced[nearest]


def resample(x: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Polyphase resampling (float64) — exact ratios, no phase shift (scipy's resample_poly,
    in numpy: vpipe.speech.resample)."""
    x = np.asarray(x, dtype=np.float64)
    if rate == target:
        return x
    from vpipe.speech.resample import resample_poly

    r = Fraction(target, rate)
    return resample_poly(x, r.numerator, r.denominator)


def candidates(fmin: float, fmax: float) -> np.ndarray:
    n = int(np.floor(np.log2(fmax / fmin) * _PER_OCTAVE)) + 1
    return fmin * 2.0 ** (np.arange(n) / _PER_OCTAVE)


@cache
def _kernel(rate: int, fmin: float, fmax: float) -> tuple[np.ndarray, np.ndarray]:
    """(n_bins, n_candidates) comb matrix, so that scores = spectra @ kernel."""
    freqs = np.fft.rfftfreq(_NFFT, 1.0 / rate)
    nb = int(np.searchsorted(freqs, _SPEC_MAX_HZ)) + 1
    df = freqs[1]
    cands = candidates(fmin, fmax)
    kern = np.zeros((nb, len(cands)))
    for j, c in enumerate(cands):
        k = np.arange(1, int(_SPEC_MAX_HZ / c) + 1, dtype=np.float64)
        w = 1.0 / np.sqrt(k)
        for pos, weight in ((k * c, w), ((k - 0.5) * c, -0.5 * w), ((k + 0.5) * c, -0.5 * w)):
            p = pos / df
            ok = p < nb - 1
            i0 = np.floor(p[ok]).astype(int)
            a = p[ok] - i0
            np.add.at(kern[:, j], i0, weight[ok] * (1 - a))
            np.add.at(kern[:, j], i0 + 1, weight[ok] * a)
    return kern, cands


def _frames(x: np.ndarray, rate: int, hop_s: float) -> tuple[np.ndarray, np.ndarray]:
    n = round(_WIN_S * rate)
    hop = max(1, round(hop_s * rate))
    pad = n // 2
    xp = np.concatenate([np.zeros(pad), x, np.zeros(pad + n)])
    count = max(1, int(np.ceil(len(x) / hop)))
    starts = np.arange(count) * hop
    frames = np.lib.stride_tricks.sliding_window_view(xp, n)[starts]
    return frames, starts / rate


def _viterbi(score: np.ndarray, cost_per_step: np.ndarray) -> np.ndarray:
    """Best candidate path through `score` (frames × candidates), transitions costing
    `cost_per_step[|i - j|]`."""
    t_n, c_n = score.shape
    dist = np.abs(np.arange(c_n)[:, None] - np.arange(c_n)[None, :])
    trans = cost_per_step[dist]
    acc = score[0].copy()
    back = np.zeros((t_n, c_n), dtype=np.int32)
    for t in range(1, t_n):
        cand = acc[:, None] - trans  # from i (rows) to j (cols)
        back[t] = cand.argmax(axis=0)
        acc = cand[back[t], np.arange(c_n)] + score[t]
    path = np.empty(t_n, dtype=np.int32)
    path[-1] = int(acc.argmax())
    for t in range(t_n - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def f0_track(
    x: np.ndarray,
    rate: int,
    fmin: float = 50.0,
    fmax: float = 500.0,
    hop_s: float = 0.01,
    voicing: float = 0.5,
    floor_db: float = 40.0,
) -> F0Track:
    """Harmonic-comb F0 of mono `x`: one frame per `hop_s` (centred at k·hop_s).

    Voiced = normalised autocorrelation at the chosen period ≥ `voicing` and frame level within
    `floor_db` of the loudest frame. `strength` holds that periodicity."""
    y = resample(x, rate, ANALYSIS_RATE)
    if len(y) == 0:
        z = np.zeros(0)
        return F0Track(z, z, z.astype(bool), z)
    frames, times = _frames(y, ANALYSIS_RATE, hop_s)
    kern, cands = _kernel(ANALYSIS_RATE, float(fmin), float(fmax))
    win = np.hanning(frames.shape[1])
    score = np.empty((len(frames), len(cands)))
    energy = np.empty(len(frames))
    for a in range(0, len(frames), _CHUNK):  # bounded memory on long sources
        spec = np.sqrt(np.abs(np.fft.rfft(frames[a : a + _CHUNK] * win, _NFFT, axis=1))[:, : kern.shape[0]])
        energy[a : a + _CHUNK] = (spec**4).sum(axis=1)  # = Σ|X|², for the level gate
        norm = np.sqrt((spec**2).sum(axis=1, keepdims=True)) + 1e-12  # unit-norm √-magnitude spectra
        score[a : a + _CHUNK] = (spec / norm) @ kern
    path = _viterbi(score, _OCTAVE_COST * np.arange(len(cands)) / _PER_OCTAVE)
    # parabolic refinement on the log-frequency grid
    rows = np.arange(len(path))
    j = np.clip(path, 1, len(cands) - 2)
    lo, mid, hi = score[rows, j - 1], score[rows, j], score[rows, j + 1]
    denom = lo - 2 * mid + hi
    delta = np.where(np.abs(denom) > 1e-12, 0.5 * (lo - hi) / np.where(denom == 0, 1, denom), 0.0)
    f0 = cands[j] * 2.0 ** (np.clip(delta, -0.5, 0.5) / _PER_OCTAVE)
    level = 10 * np.log10(energy + 1e-20)
    periodicity = np.concatenate(
        [_nacf(frames[a : a + _CHUNK], ANALYSIS_RATE / f0[a : a + _CHUNK]) for a in range(0, len(frames), _CHUNK)]
    )
    voiced = (periodicity >= voicing) & (level > level.max() - floor_db)
    return F0Track(times, f0, voiced, periodicity)


def _nacf(frames: np.ndarray, period: np.ndarray) -> np.ndarray:
    """Normalised autocorrelation of each frame at its own period (linear interpolation between
    integer lags): ~0.7–1 for voiced speech whatever its H1 level, < 0.4 for noise."""
    n = frames.shape[1]
    spec = np.fft.rfft(frames - frames.mean(axis=1, keepdims=True), 2 * n, axis=1)
    ac = np.fft.irfft(np.abs(spec) ** 2, axis=1)[:, :n]
    lag = np.clip(period, 1, n - 2)
    i0 = np.floor(lag).astype(int)
    a = lag - i0
    rows = np.arange(len(lag))
    r = ac[rows, i0] * (1 - a) + ac[rows, i0 + 1] * a
    unbiased = n / np.maximum(n - lag, 1)  # the lagged overlap is shorter
    return np.clip(r * unbiased / (ac[:, 0] + 1e-20), -1, 1)


@dataclass(frozen=True)
class F0Stats:
    median: float  # Hz, 0 when nothing is voiced
    p10: float
    p90: float
    voiced_seconds: float


def f0_stats(voiced_f0: np.ndarray, hop_s: float = 0.01) -> F0Stats:
    """Median and 10th/90th percentiles of the voiced frames' F0 (Hz)."""
    v = np.asarray(voiced_f0, dtype=np.float64)
    if len(v) == 0:
        return F0Stats(0.0, 0.0, 0.0, 0.0)
    p10, med, p90 = np.percentile(v, [10, 50, 90])
    return F0Stats(float(med), float(p10), float(p90), len(v) * hop_s)


def local_f0(x: np.ndarray, rate: int, start: float, end: float, margin: float = 0.05) -> float:
    """Median F0 (Hz) of the periodic frames of `x` between `start` and `end` seconds, e.g. of
    the recorded word a new one replaces; 0.0 when nothing there is voiced. The comb runs on a
    `margin` wider stretch so the word's edge frames have whole windows."""
    a = max(0, int((start - margin) * rate))
    b = min(len(x), int((end + margin) * rate))
    if b - a < int(0.03 * rate):
        return 0.0
    track = f0_track(np.asarray(x[a:b], dtype=np.float64), rate)
    inside = (track.times >= start - a / rate) & (track.times <= end - a / rate)
    return f0_stats(track.f0[track.voiced & inside]).median


def cepstrum_f0(
    x: np.ndarray, rate: int, fmin: float = 50.0, fmax: float = 500.0, hop_s: float = 0.01, win_s: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Real-cepstrum F0 per frame and its peak height: an independent check of the comb (it
    reads the spacing of the log spectrum, so a weak H1 does not matter to it either, but its
    errors — formant ripple, low-quefrency leakage — are different ones). Verification only."""
    y = resample(x, rate, ANALYSIS_RATE)
    n = int(win_s * ANALYSIS_RATE)
    hop = int(hop_s * ANALYSIS_RATE)
    if len(y) < n:
        y = np.pad(y, (0, n - len(y)))
    frames = np.lib.stride_tricks.sliding_window_view(y, n)[::hop] * np.hanning(n)
    ceps = np.fft.irfft(np.log(np.abs(np.fft.rfft(frames, _NFFT, axis=1)) + 1e-9), axis=1)
    q = np.arange(ceps.shape[1]) / ANALYSIS_RATE
    sel = (q >= 1.0 / fmax) & (q <= 1.0 / fmin)
    k = ceps[:, sel].argmax(axis=1)
    return 1.0 / q[sel][k], ceps[:, sel].max(axis=1)


__all__ = [
    "ANALYSIS_RATE",
    "F0Stats",
    "F0Track",
    "candidates",
    "cepstrum_f0",
    "f0_stats",
    "f0_track",
    "local_f0",
    "resample",
]
