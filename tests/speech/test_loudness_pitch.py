"""Word loudness and F0 measures on signals whose answer is known by construction (tones of a
given level and pitch, noise, silence), cross-checked against pyloudnorm where it applies, and
on real speech against pyloudnorm's integrated loudness."""

from __future__ import annotations

import numpy as np
import pytest

from vpipe.speech.loudness import speech_loudness
from vpipe.speech.pitch import F0Track, candidates, cepstrum_f0, f0_stats, f0_track, local_f0, resample


def harmonic(f0: float, seconds: float, rate: int, h1: float = 1.0) -> np.ndarray:
    """A voiced-like tone: 30 harmonics falling 1/k (the first scaled by `h1`)."""
    t = np.arange(int(seconds * rate)) / rate
    phase = 2 * np.pi * f0 * t
    x = sum((h1 if k == 1 else 1.0 / k) * np.sin(k * phase) for k in range(1, 31) if k * f0 < rate / 2)
    return (0.1 * x / np.abs(x).max()).astype(np.float64)


@pytest.mark.parametrize("freq", [100.0, 1000.0, 5000.0])
def test_loudness_of_a_steady_tone_equals_pyloudnorm(freq: float) -> None:
    """On a steady tone the active-frame measure and BS.1770 integrated loudness (pyloudnorm)
    agree (measured within 0.003 dB); the K-weighting shows: 5 kHz reads ~3 dB louder than
    1 kHz at the same amplitude, 100 Hz ~2 dB quieter."""
    import pyloudnorm

    rate = 48000
    t = np.arange(3 * rate) / rate
    x = 0.1 * np.sin(2 * np.pi * freq * t)
    ours, reference = speech_loudness(x, rate), pyloudnorm.Meter(rate).integrated_loudness(x)
    assert ours == pytest.approx(reference, abs=0.05)
    at_1k = speech_loudness(0.1 * np.sin(2 * np.pi * 1000 * t), rate)
    assert {100.0: -1, 1000.0: 0, 5000.0: 1}[freq] == int(np.sign(round(ours - at_1k)))


def test_loudness_scales_with_gain_and_ignores_pauses() -> None:
    rate = 16000
    x = harmonic(150, 1.0, rate)
    base = speech_loudness(x, rate)
    assert speech_loudness(2 * x, rate) - base == pytest.approx(20 * np.log10(2), abs=1e-6)
    gap = np.zeros(rate)
    room = 1e-4 * np.random.default_rng(0).standard_normal(rate)  # −80 dBFS: far below the 30 dB gate
    assert speech_loudness(np.concatenate([x, gap, x]), rate) == pytest.approx(base, abs=0.05)
    assert speech_loudness(np.concatenate([x, room, x]), rate) == pytest.approx(base, abs=0.05)
    assert speech_loudness(np.zeros(rate), rate) == float("-inf")
    assert speech_loudness(np.ones(rate // 200), rate) == float("-inf")  # shorter than one 10 ms block


@pytest.mark.media
@pytest.mark.parametrize("name", ["interview_man", "glasses_woman", "studio_woman"])
def test_speech_loudness_is_on_the_lufs_scale(name: str) -> None:
    """On the aligned words of a real clip the active-frame loudness is within 1 dB of
    pyloudnorm's gated integrated loudness (measured 0.4–0.7 dB higher: it drops the quiet
    edges of words, which the 400 ms gate keeps)."""
    import pyloudnorm

    from tests.speech.realclips import alignment, audio

    a, al = audio(name), alignment(name)
    mono = a.mono().astype(np.float64)
    speech = np.concatenate([mono[int(w.start * a.rate) : int(w.end * a.rate)] for w in al.words])
    ours, reference = speech_loudness(speech, a.rate), pyloudnorm.Meter(a.rate).integrated_loudness(speech)
    print(f"{name}: {ours:.2f} vs pyloudnorm {reference:.2f} LUFS")
    assert abs(ours - reference) <= 1.0


@pytest.mark.parametrize("f0", [85.0, 150.0, 230.0, 400.0])
def test_f0_of_harmonic_tones(f0: float) -> None:
    """The comb finds the fundamental of steady harmonic tones (also with H1 30 dB down),
    ≥ 95 % of frames voiced, median within 1 %; the cepstrum agrees within 3 %."""
    rate = 22050
    for h1 in (1.0, 0.03):
        track = f0_track(harmonic(f0, 1.0, rate, h1), rate)
        assert track.voiced.mean() >= 0.95
        assert np.median(track.voiced_f0()) == pytest.approx(f0, rel=0.01)
    q, peak = cepstrum_f0(harmonic(f0, 1.0, rate), rate)
    assert np.median(q[peak > 0.1]) == pytest.approx(f0, rel=0.03)


def test_noise_and_silence_are_unvoiced() -> None:
    """White noise is (almost) never voiced; in tone–silence–tone only the tones are."""
    rate = 22050
    noise = np.random.default_rng(0).standard_normal(rate) * 0.1
    assert f0_track(noise, rate).voiced.mean() < 0.05
    x = np.concatenate([harmonic(120, 0.5, rate), np.zeros(rate // 2), harmonic(120, 0.5, rate)])
    track = f0_track(x, rate)
    gap = (track.times > 0.55) & (track.times < 0.95)
    tones = (track.times < 0.45) | ((track.times > 1.05) & (track.times < 1.45))
    assert not track.voiced[gap].any() and track.voiced[tones].mean() > 0.95
    empty = f0_track(np.zeros(0), rate)
    assert len(empty.times) == 0 and len(empty.voiced_f0()) == 0


def test_local_f0_reads_only_its_window() -> None:
    """A 110 Hz tone then a 220 Hz tone: each half's local F0 is its own tone; a window shorter
    than 30 ms or without voicing gives 0."""
    rate = 22050
    x = np.concatenate([harmonic(110, 0.5, rate), harmonic(220, 0.5, rate)])
    assert local_f0(x, rate, 0.1, 0.4) == pytest.approx(110, rel=0.01)
    assert local_f0(x, rate, 0.6, 0.9) == pytest.approx(220, rel=0.01)
    assert local_f0(x, rate, 0.5, 0.51, margin=0.0) == 0.0
    assert local_f0(np.zeros(rate), rate, 0.2, 0.6) == 0.0


def test_track_interpolates_in_log_frequency_and_voicing_is_nearest() -> None:
    track = F0Track(np.array([0.0, 0.01]), np.array([100.0, 400.0]), np.array([True, False]), np.ones(2))
    f, _ = track.at(np.array([0.0, 0.005, 0.01, 0.02]))
    assert f == pytest.approx([100.0, 200.0, 400.0, 400.0])  # halfway in log: the geometric mean
    _, v = track.at(np.array([0.0, 0.004, 0.006, 0.01]))
    assert list(v) == [True, True, False, False]


def test_f0_stats_and_helpers() -> None:
    v = np.array([100.0, 110.0, 120.0, 130.0, 140.0, 150.0, 160.0, 170.0, 180.0, 190.0, 200.0])
    s = f0_stats(v)
    assert (s.median, s.p10, s.p90) == pytest.approx((150.0, 110.0, 190.0)) and s.voiced_seconds == pytest.approx(0.11)
    assert f0_stats(np.zeros(0)).median == 0.0
    c = candidates(50.0, 500.0)
    assert c[0] == 50.0 and c[-1] <= 500.0 and np.allclose(c[1:] / c[:-1], 2 ** (1 / 48))
    assert len(c) == int(np.log2(10) * 48) + 1
    x = np.random.default_rng(0).standard_normal(44100)
    assert resample(x, 44100, 44100) is not None and len(resample(x, 44100, 22050)) == 22050
    np.testing.assert_array_equal(resample(x, 44100, 44100), x)
