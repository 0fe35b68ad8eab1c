"""vpipe.speech.mel is librosa's mel spectrogram bit for bit, and the speaker embedding built on it
is resemblyzer's own `embed_utterance`, bit for bit, on real speech."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tests.speech.realclips import audio
from vpipe.speech.mel import hann, mel_basis, melspectrogram

# every branch of librosa's framing: shorter than a window (whole signal padded), the first
# frames apart, with and without separate last frames, one FFT block and several (163 float32
# frames of 400 points fill librosa's 256 KiB block), and lengths one sample off each.
LENGTHS = [0, 1, 199, 200, 201, 360, 361, 399, 400, 401, 560, 561, 4000, 26079, 26080, 26240, 41920, 42079, 160000]


def _librosa_mel(y: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # n_fft too large for the short signals: librosa warns
        import librosa

        return librosa.feature.melspectrogram(y=y, sr=16000, n_fft=400, hop_length=160, n_mels=40)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_equal_to_librosa_on_every_framing(dtype: type) -> None:
    rng = np.random.default_rng(7)
    for n in LENGTHS:
        y = (rng.standard_normal(n) * 0.1).astype(dtype)
        ours, theirs = melspectrogram(y, 16000, 400, 160, 40), _librosa_mel(y)
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape == (40, 1 + n // 160), n
        assert np.array_equal(ours, theirs), n


def test_window_and_filters_equal_the_libraries() -> None:
    import librosa
    import scipy.signal

    for n in (1, 2, 3, 400, 512, 1023):
        assert np.array_equal(hann(n), scipy.signal.get_window("hann", n, fftbins=True)), n
    for sr, n_fft, n_mels in ((16000, 400, 40), (22050, 2048, 128), (8000, 256, 20)):
        theirs = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels)
        assert theirs.dtype == mel_basis(sr, n_fft, n_mels).dtype
        assert np.array_equal(mel_basis(sr, n_fft, n_mels), theirs)


def test_a_non_float_or_multichannel_signal_is_refused() -> None:
    with pytest.raises(ValueError, match="1-D float32"):
        melspectrogram(np.zeros(800, np.int16), 16000, 400, 160, 40)
    with pytest.raises(ValueError, match="1-D float32"):
        melspectrogram(np.zeros((800, 2), np.float32), 16000, 400, 160, 40)


@pytest.mark.media
def test_embedding_equals_resemblyzers_on_real_speech() -> None:
    """embed() is resemblyzer's embed_utterance with the mel computed here: the same vector, to
    the bit, for speech shorter than one partial (0.5 s), about one (1.6 s), several, and a
    whole clip."""
    from vpipe.speech.similarity import _prepare, embed, encoder

    a = audio("glasses_woman")
    mono = a.mono()
    for seconds in (0.5, 1.6, 2.9, len(mono) / a.rate):
        part = mono[: int(seconds * a.rate)]
        theirs = np.asarray(encoder().embed_utterance(_prepare(part, a.rate)), dtype=np.float32)
        assert np.array_equal(embed(part, a.rate), theirs), seconds
