"""Audio features the published models were trained on, computed with numpy/scipy.

- `wav2lip_mel`: Wav2Lip's `audio.melspectrogram` (its `hparams.py`): 16 kHz, pre-emphasis
  0.97, STFT n_fft 800 / hop 200 / Hann 800 (centred, reflect-padded, as librosa 0.7 did),
  80 Slaney mel bands 55-7600 Hz, 20·log10(max(1e-5, ·)) − 20 dB, mapped from [−100, 0] dB
  to [−4, 4] and clipped. 80 mel frames per second.
- `mel_windows`: the 1×80×16 window per video frame, starting at mel frame int(t·80) (the
  authors' int(i·80/fps) for a frame at time t = i/fps); windows past the end take the last 16.
- `syncnet_mfcc`: python_speech_features' `mfcc` defaults as syncnet_python calls it on
  int16 samples: 25 ms rectangular frames every 10 ms, 512-point FFT power spectrum,
  26 mel filters 0-8000 Hz, log, DCT-II (orthonormal) to 13 coefficients, lifter 22,
  coefficient 0 replaced by the log frame energy. 100 frames per second.
"""

from __future__ import annotations

from functools import cache

import numpy as np

SAMPLE_RATE = 16000
MEL_FPS = 80  # hop 200 at 16 kHz
MEL_STEP = 16  # mel frames per Wav2Lip window (0.2 s)
N_FFT, HOP, N_MELS, FMIN, FMAX = 800, 200, 80, 55.0, 7600.0


def resample(samples: np.ndarray, rate: int, target: int = SAMPLE_RATE) -> np.ndarray:
    """Mono float audio at `target` Hz (polyphase, no-op when the rate already matches)."""
    x = np.asarray(samples, np.float64)
    if x.ndim == 2:
        x = x.mean(axis=1)
    if rate == target:
        return x
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(int(rate), int(target))
    return resample_poly(x, target // g, int(rate) // g)


@cache
def _mel_basis() -> np.ndarray:
    import librosa

    return librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS, fmin=FMIN, fmax=FMAX)


def _stft_magnitude(x: np.ndarray) -> np.ndarray:
    """|STFT| (freq × frames), centred frames with reflect padding, periodic Hann window."""
    pad = N_FFT // 2
    if len(x) <= pad:
        x = np.pad(x, (0, pad + 1 - len(x)))
    y = np.pad(x, pad, mode="reflect")
    n = 1 + (len(y) - N_FFT) // HOP
    frames = np.lib.stride_tricks.as_strided(y, (n, N_FFT), (y.strides[0] * HOP, y.strides[0]))
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)
    return np.abs(np.fft.rfft(frames * window, axis=1)).T


def wav2lip_mel(samples_16k: np.ndarray) -> np.ndarray:
    """(80, T) float32 mel spectrogram of 16 kHz mono audio, normalised to [−4, 4]."""
    from scipy.signal import lfilter

    x = lfilter([1.0, -0.97], [1.0], np.asarray(samples_16k, np.float64))
    mel = _mel_basis() @ _stft_magnitude(x)
    db = 20.0 * np.log10(np.maximum(1e-5, mel)) - 20.0
    return np.clip(8.0 * (db + 100.0) / 100.0 - 4.0, -4.0, 4.0).astype(np.float32)


def mel_windows(mel: np.ndarray, times: np.ndarray, audio_start: float = 0.0) -> np.ndarray:
    """(N, 1, 80, 16) windows for frames shown at `times` (seconds on the audio's timeline,
    whose first sample plays at `audio_start`)."""
    total = mel.shape[1]
    if total < MEL_STEP:
        mel = np.pad(mel, ((0, 0), (0, MEL_STEP - total)), constant_values=-4.0)
        total = MEL_STEP
    out = np.empty((len(times), 1, N_MELS, MEL_STEP), np.float32)
    for i, t in enumerate(times):
        start = max(0, int((float(t) - audio_start) * MEL_FPS))
        start = min(start, total - MEL_STEP)
        out[i, 0] = mel[:, start : start + MEL_STEP]
    return out


def _hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)


@cache
def _mfcc_filters(nfilt: int = 26, nfft: int = 512, rate: int = SAMPLE_RATE) -> np.ndarray:
    points = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(rate / 2), nfilt + 2))
    bins = np.floor((nfft + 1) * points / rate).astype(int)
    fb = np.zeros((nfilt, nfft // 2 + 1))
    for j in range(nfilt):
        a, b, c = bins[j], bins[j + 1], bins[j + 2]
        for i in range(a, b):
            fb[j, i] = (i - a) / (b - a)
        for i in range(b, c):
            fb[j, i] = (c - i) / (c - b)
    return fb


def syncnet_mfcc(samples_16k: np.ndarray) -> np.ndarray:
    """(13, T) MFCC of 16 kHz mono audio given in [−1, 1] (scaled to int16 units, as
    syncnet_python reads its WAV with scipy), 100 frames per second."""
    from scipy.fft import dct

    eps = np.finfo(float).eps
    x = np.asarray(samples_16k, np.float64) * 32768.0
    x = np.append(x[:1], x[1:] - 0.97 * x[:-1])
    flen, step = 400, 160
    n = 1 if len(x) <= flen else 1 + int(np.ceil((len(x) - flen) / step))
    x = np.pad(x, (0, (n - 1) * step + flen - len(x)))
    idx = np.arange(flen)[None, :] + step * np.arange(n)[:, None]
    power = np.abs(np.fft.rfft(x[idx], 512)) ** 2 / 512.0
    energy = power.sum(axis=1)
    energy = np.where(energy == 0, eps, energy)
    feat = power @ _mfcc_filters().T
    feat = np.log(np.where(feat == 0, eps, feat))
    cep = dct(feat, type=2, axis=1, norm="ortho")[:, :13]
    cep *= 1 + 11.0 * np.sin(np.pi * np.arange(13) / 22.0)
    cep[:, 0] = np.log(energy)
    return cep.T.astype(np.float32)
