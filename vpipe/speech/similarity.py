"""Speaker similarity with resemblyzer (GE2E d-vectors; weights ship inside the wheel).

Used to check, without listening, that a matched word sounds more like the recorded speaker
than the raw synthetic voice. Research numbers on these machines (notes §6): the same speaker
scores 0.91–0.96 on overlapping ≥3 s audio and ~0.81 on two disjoint 3 s halves; different
speakers 0.41–0.70; piper joe vs the interview man 0.49–0.52. Embeddings of < ~1 s of speech
are noisy (resemblyzer averages 1.6 s partials and zero-pads shorter input), so compare
sentence-length audio where possible.

resemblyzer imports torch (seconds), so every import is inside a function and the encoder is
loaded once per process, lazily, on the CPU.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

_ENCODER: Any = None
_LOCK = threading.Lock()
EMBED_RATE = 16000  # resemblyzer's model rate


def encoder() -> Any:
    """The process-wide `VoiceEncoder` on the CPU (loaded on first use, ~2 s with torch)."""
    global _ENCODER
    with _LOCK:
        if _ENCODER is None:
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # pkg_resources / torch deprecation chatter
                from resemblyzer import VoiceEncoder

                _ENCODER = VoiceEncoder(device="cpu", verbose=False)
        return _ENCODER


def _prepare(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mono float32 at 16 kHz with resemblyzer's own preprocessing (volume normalisation to
    -30 dBFS, long-silence trimming). Falls back to the untrimmed audio when the VAD trims
    everything away (very short or very quiet input), so an embedding always exists."""
    from resemblyzer import preprocess_wav

    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 2:
        x = x.mean(axis=1)
    if rate != EMBED_RATE:
        from fractions import Fraction

        from vpipe.speech.resample import resample_poly  # scipy's, in numpy (scipy.signal: ~1.2 s to import)

        ratio = Fraction(EMBED_RATE, rate)
        x = resample_poly(x.astype(np.float64), ratio.numerator, ratio.denominator).astype(np.float32)
    y = preprocess_wav(x, source_sr=None)
    if len(y) < EMBED_RATE // 4:  # the VAD dropped (almost) all of it
        y = x
    return np.asarray(y, dtype=np.float32)


def embed(samples: np.ndarray, rate: int) -> np.ndarray:
    """256-d L2-normalised speaker embedding of `samples` (mono or (n, ch) float).

    resemblyzer's `embed_utterance` step by step (partials 1.6 s apart at 1.3 per second, the
    last one kept at 75 % coverage), except that the mel spectrogram comes from
    vpipe.speech.mel, equal bit for bit to the librosa call it replaces: librosa's feature
    module costs ~3.4 s of CPU to import in every process (tests/speech/test_mel.py)."""
    import torch
    from resemblyzer import hparams

    from vpipe.speech.mel import melspectrogram

    enc = encoder()
    wav = _prepare(samples, rate)
    wav_slices, mel_slices = enc.compute_partial_slices(len(wav), 1.3, 0.75)
    if wav_slices[-1].stop >= len(wav):
        wav = np.pad(wav, (0, wav_slices[-1].stop - len(wav)), "constant")
    mel = (
        melspectrogram(
            wav,
            hparams.sampling_rate,
            int(hparams.sampling_rate * hparams.mel_window_length / 1000),
            int(hparams.sampling_rate * hparams.mel_window_step / 1000),
            hparams.mel_n_channels,
        )
        .astype(np.float32)
        .T
    )
    with torch.no_grad():
        partial = enc(torch.from_numpy(np.array([mel[s] for s in mel_slices])).to("cpu")).cpu().numpy()
    raw = np.mean(partial, axis=0)
    return np.asarray(raw / np.linalg.norm(raw, 2), dtype=np.float32)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two embeddings (they are L2-normalised, so this is a dot product)."""
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


def similarity(a: np.ndarray, rate_a: int, b: np.ndarray, rate_b: int) -> float:
    """Cosine similarity of the speaker embeddings of two recordings (about -1…1; same
    speaker ≥ ~0.8 on seconds of speech, different speakers mostly ≤ 0.7)."""
    return cosine(embed(a, rate_a), embed(b, rate_b))


__all__ = ["EMBED_RATE", "cosine", "embed", "encoder", "similarity"]
