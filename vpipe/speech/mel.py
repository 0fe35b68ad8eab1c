"""A power mel spectrogram in numpy, equal bit for bit to `librosa.feature.melspectrogram` with
its defaults (periodic Hann window, centred frames zero-padded, power 2, Slaney mel bands from
0 Hz to Nyquist, Slaney norm).

Why: the speaker encoder (resemblyzer) computes its input with librosa, and the first call
imports librosa's feature and filter modules, which import scipy.signal and numba: ~3.4 s of
CPU in every process that runs QC (measured), for a 400-point FFT and a 40-band matrix.

The steps are librosa's own, in the same order and the same dtypes (the frames times the
float64 window, scipy.fft on the same batches of frames, stored as complex64 for float32
input in a Fortran-ordered matrix, the same einsum with the float32 mel matrix), so the
result is identical, not merely close: tests/speech/test_mel.py compares it with librosa's
on signal lengths from 0 samples to 10 s, float32 and float64.
"""

from __future__ import annotations

import functools

import numpy as np


def hann(n: int) -> np.ndarray:
    """Periodic Hann window of `n` points (scipy.signal.get_window("hann", n, fftbins=True))."""
    if n <= 1:
        return np.ones(n, dtype=np.float64)
    fac = np.linspace(-np.pi, np.pi, n + 1, dtype=np.float64)
    w = np.zeros(n + 1, dtype=np.float64)
    for k, a in enumerate(np.asarray([0.5, 0.5], dtype=np.float64)):
        w += a * np.cos(k * fac)
    return w[:-1]


def _hz_to_mel(hz: float) -> float:
    """Slaney's mel scale (linear below 1 kHz, logarithmic above), librosa's scalar path."""
    f_sp = 200.0 / 3
    mels = hz / f_sp
    min_log_hz = 1000.0
    if hz >= min_log_hz:
        mels = min_log_hz / f_sp + np.log(hz / min_log_hz) / (np.log(6.4) / 27.0)
    return float(mels)


def _mel_to_hz(mels: np.ndarray) -> np.ndarray:
    f_sp = 200.0 / 3
    freqs = f_sp * mels
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    log_t = mels >= min_log_mel
    freqs[log_t] = min_log_hz * np.exp(logstep * (mels[log_t] - min_log_mel))
    return freqs


@functools.lru_cache(maxsize=4)
def mel_basis(sr: int, n_fft: int, n_mels: int) -> np.ndarray:
    """(n_mels, 1 + n_fft // 2) float32 triangular filters (librosa.filters.mel, Slaney, 0 Hz to sr/2)."""
    weights = np.zeros((n_mels, 1 + n_fft // 2), dtype=np.float32)
    fftfreqs = np.fft.rfftfreq(n=n_fft, d=1.0 / sr)
    mels = np.linspace(_hz_to_mel(0.0), _hz_to_mel(float(sr) / 2), n_mels + 2)
    mel_f = _mel_to_hz(mels)
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    enorm = 2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels])
    weights *= enorm[:, np.newaxis]
    weights.setflags(write=False)  # cached and shared
    return weights


MAX_MEM_BLOCK = 2**8 * 2**10  # librosa.util.MAX_MEM_BLOCK: the frames go through the FFT in blocks this big


def _frame(x: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """(n_fft, count) view: column t is x[t * hop : t * hop + n_fft] (librosa.util.frame)."""
    count = 1 + (len(x) - n_fft) // hop
    return np.lib.stride_tricks.as_strided(
        x, shape=(n_fft, count), strides=(x.strides[0], hop * x.strides[0]), writeable=False
    )


def stft(y: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """librosa.stft(y, n_fft=n_fft, hop_length=hop) for a 1-D float signal (centred, zero
    padding, periodic Hann). Long on purpose: librosa's own sequence (the padded first and
    last frames apart, then the rest in blocks of MAX_MEM_BLOCK bytes, through scipy.fft) is
    kept step for step, so each FFT sees the very batch it sees in librosa; a different
    batching may take another SIMD path and differ in the last bit."""
    import scipy.fft  # librosa's FFT library (~0.4 s to import, against ~3.4 s for librosa's feature module)

    window = hann(n_fft)[:, np.newaxis]
    half = n_fft // 2
    start_k = int(np.ceil(half / hop))
    tail_k = (len(y) + half - n_fft) // hop + 1
    pre = post = None
    if tail_k <= start_k:
        start = 0
        y = np.pad(y, (half, half), mode="constant")
    else:
        start = start_k * hop - half
        pre = _frame(np.pad(y[: (start_k - 1) * hop - half + n_fft + 1], (half, 0), mode="constant"), n_fft, hop)
        pre = pre[..., :start_k]
        if tail_k * hop - half + n_fft <= len(y) + half:
            post = _frame(np.pad(y[tail_k * hop - half :], (0, half), mode="constant"), n_fft, hop)
    frames = _frame(y[start:], n_fft, hop)
    extra = (pre.shape[-1] if pre is not None else 0) + (post.shape[-1] if post is not None else 0)
    out = np.zeros(
        (1 + half, frames.shape[-1] + extra), np.complex64 if y.dtype == np.float32 else np.complex128, order="F"
    )
    off = 0
    if pre is not None:
        off = pre.shape[-1]
        out[..., :off] = scipy.fft.rfft(window * pre, axis=-2)
        if post is not None and post.shape[-1] > 0:
            out[..., -post.shape[-1] :] = scipy.fft.rfft(window * post, axis=-2)
    columns = max(int(MAX_MEM_BLOCK // (n_fft * frames.itemsize)), 1)
    for a in range(0, frames.shape[-1], columns):
        b = min(a + columns, frames.shape[-1])
        out[..., a + off : b + off] = scipy.fft.rfft(window * frames[..., a:b], axis=-2)
    return out


def melspectrogram(y: np.ndarray, sr: int, n_fft: int, hop_length: int, n_mels: int) -> np.ndarray:
    """(n_mels, frames) power mel spectrogram of the 1-D float32 or float64 signal `y`;
    frames = 1 + len(y) // hop_length (centred, zero-padded by n_fft // 2 each side)."""
    y = np.asarray(y)
    if y.ndim != 1 or y.dtype not in (np.float32, np.float64):
        raise ValueError(f"melspectrogram wants a 1-D float32/float64 signal, not {y.dtype} {y.shape}")
    power = np.abs(stft(y, n_fft, hop_length)) ** 2.0
    out: np.ndarray = np.einsum("...ft,mf->...mt", power, mel_basis(sr, n_fft, n_mels), optimize=True)
    return out
