"""Audio features against the implementations the models were trained with, on real speech:
Wav2Lip's mel (its audio.py: librosa STFT, reflect padding, Slaney mel 55-7600 Hz) and
syncnet_python's MFCC (python_speech_features.mfcc on int16 samples)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.media import shared_media
from vpipe.neural.features import MEL_FPS, resample, syncnet_mfcc, wav2lip_mel


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    from vpipe.media.decode import read_audio

    audio = read_audio(shared_media("interview_man.mp4"))
    return resample(audio.mono(), audio.rate)


def test_wav2lip_mel_matches_the_authors_pipeline(speech: np.ndarray) -> None:
    import librosa
    from scipy.signal import lfilter

    spec = librosa.stft(
        y=lfilter([1, -0.97], [1], speech), n_fft=800, hop_length=200, win_length=800, pad_mode="reflect"
    )
    mel = librosa.filters.mel(sr=16000, n_fft=800, n_mels=80, fmin=55, fmax=7600) @ np.abs(spec)
    ref = np.clip(8 * ((20 * np.log10(np.maximum(1e-5, mel)) - 20 + 100) / 100) - 4, -4, 4)
    ours = wav2lip_mel(speech)
    assert ours.shape == ref.shape and abs(ours.shape[1] - len(speech) / 16000 * MEL_FPS) <= 1
    assert np.abs(ours - ref).max() < 1e-4
    assert ours.min() >= -4 and ours.max() <= 4 and ours.std() > 0.5  # speech, not silence


def test_syncnet_mfcc_matches_python_speech_features(speech: np.ndarray) -> None:
    import python_speech_features as psf

    pcm = np.clip(np.round(speech * 32768), -32768, 32767).astype(np.int16)
    ref = psf.mfcc(pcm, 16000).T  # as syncnet_python calls it (all defaults)
    ours = syncnet_mfcc(pcm / 32768.0)
    assert ours.shape == ref.shape == (13, ref.shape[1]) and abs(ref.shape[1] - len(pcm) / 160) <= 2
    assert np.abs(ours - ref).max() < 1e-3 * np.abs(ref).max()
