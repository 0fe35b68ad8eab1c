"""WSOLA time-scaling: exact output length, the pitch kept (measured with the harmonic comb on
real speech, against a plain resampling that does shift it), the content kept in order, and no
discontinuities (a stretched sine stays a clean sine at constant level)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from tests.speech.realclips import audio, frame_levels
from vpipe.speech.pitch import f0_stats, f0_track
from vpipe.speech.stretch import wsola


@cache
def speech() -> tuple[np.ndarray, int]:
    """2.7 s of the glasses woman ("bringing in reforms to tighten that regulation"), mono."""
    a = audio("glasses_woman")
    return a.mono()[: int(2.7 * a.rate)], a.rate


def median_f0(x: np.ndarray, rate: int) -> tuple[float, int]:
    """(median F0 of the voiced frames, number of voiced 10 ms frames)."""
    track = f0_track(x, rate)
    return f0_stats(track.voiced_f0()).median, int(track.voiced.sum())


@pytest.mark.parametrize("n", [1, 3, 4, 5, 100, 2205, 22050])
def test_output_length_is_exact(n: int) -> None:
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n).astype(np.float32)
    for target in sorted({0, 1, 2, 3, max(1, n // 2), max(1, n - 1), n, n + 1, round(1.23 * n) + 1, 2 * n + 7}):
        y = wsola(x, 22050, target)
        assert len(y) == target and y.dtype == np.float32 and np.all(np.isfinite(y)), (n, target)


def test_unchanged_length_returns_the_input() -> None:
    x = np.random.default_rng(0).standard_normal(5000).astype(np.float32)
    np.testing.assert_array_equal(wsola(x, 16000, len(x)), x)


@pytest.mark.media
@pytest.mark.parametrize("factor", [0.8, 1.25])
def test_pitch_is_preserved_on_real_speech(factor: float) -> None:
    """Median F0 within 3 % after a ±20–25 % stretch (measured 0.3–1.2 %), while resampling the
    same speech to the same length moves it by the factor (the measure does see pitch); the
    voiced time scales with the factor (±15 %)."""
    x, rate = speech()
    f0, voiced = median_f0(x, rate)
    y = wsola(x, rate, round(len(x) * factor))
    naive = np.interp(np.linspace(0, len(x) - 1, len(y)), np.arange(len(x)), x)
    f0_y, voiced_y = median_f0(y, rate)
    f0_naive, _ = median_f0(naive, rate)
    print(f"x{factor}: F0 {f0:.1f} -> {f0_y:.1f} Hz (resampled {f0_naive:.1f}); voiced frames {voiced} -> {voiced_y}")
    assert 140 < f0 < 260
    assert abs(f0_y / f0 - 1) < 0.03
    assert abs(f0_naive / f0 - 1 / factor) < 0.05
    assert abs(voiced_y / voiced / factor - 1) < 0.15


@pytest.mark.media
@pytest.mark.parametrize("factor", [0.8, 1.25])
def test_content_stays_in_order_without_new_jumps(factor: float) -> None:
    """The 20 ms level envelope of the stretched speech, mapped back onto the original time
    axis, follows the original's (correlation ≥ 0.9); no sample-to-sample jump exceeds the
    source's largest (measured ≤ 1.0×)."""
    x, rate = speech()
    y = wsola(x, rate, round(len(x) * factor))
    t_x, lx = frame_levels(x, rate)
    t_y, ly = frame_levels(y, rate)
    back = np.interp(t_x, t_y / factor, ly)
    r = float(np.corrcoef(lx, back)[0, 1])
    print(f"x{factor}: envelope correlation {r:.3f}")
    assert r >= 0.9
    assert np.abs(np.diff(y)).max() <= np.abs(np.diff(x)).max() * 1.0001


@pytest.mark.parametrize("factor", [0.8, 1.25])
def test_a_stretched_sine_stays_a_clean_sine(factor: float) -> None:
    """A 200 Hz sine scaled by WSOLA: level constant within 0.1 dB (no beating from misaligned
    overlaps), the frequency unchanged, and ≥ 99.99 % of the energy at the tone (a phase jump
    would spread it)."""
    rate = 22050
    t = np.arange(rate) / rate
    x = 0.5 * np.sin(2 * np.pi * 200 * t)
    y = wsola(x, rate, round(len(x) * factor)).astype(np.float64)
    core = y[int(0.03 * rate) : -int(0.03 * rate)]  # the edges have half windows
    _, levels = frame_levels(core, rate, 0.01)
    assert np.ptp(levels) < 0.1
    spec = np.abs(np.fft.rfft(core * np.hanning(len(core)))) ** 2
    freqs = np.fft.rfftfreq(len(core), 1 / rate)
    peak = int(spec.argmax())
    assert abs(freqs[peak] - 200) < 1.0
    assert spec[peak - 5 : peak + 6].sum() / spec.sum() > 0.9999
    assert np.abs(np.diff(y)).max() <= np.abs(np.diff(x)).max() * 1.01
