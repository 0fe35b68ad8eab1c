"""vpipe's numpy resampling and K-weighting are scipy's (resample_poly; lfilter through
pyloudnorm's biquads), on every rate pair vpipe meets, short and long signals, noise, tones
and silence — they exist only so that no row's audio imports scipy.signal (~1.2 s of CPU)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy.signal import lfilter
from scipy.signal import resample_poly as scipy_resample_poly

from vpipe.speech.loudness import _k_filters, k_weight
from vpipe.speech.resample import resample_poly

RATES = (8000, 16000, 22050, 24000, 44100, 48000)
LENGTHS = (0, 1, 2, 3, 7, 64, 1001, 22050)


def _signals(n: int, rate: int) -> list[np.ndarray]:
    rng = np.random.default_rng(n)
    t = np.arange(n) / rate
    return [rng.standard_normal(n) * 0.3, 0.5 * np.sin(2 * np.pi * 440 * t), np.zeros(n)]


@pytest.mark.parametrize("rate_in", RATES)
@pytest.mark.parametrize("rate_out", RATES)
def test_resample_poly_is_scipys(rate_in: int, rate_out: int) -> None:
    from fractions import Fraction

    r = Fraction(rate_out, rate_in)
    for n in LENGTHS:
        for x in _signals(n, rate_in):
            ours = resample_poly(x, r.numerator, r.denominator)
            theirs = scipy_resample_poly(x, r.numerator, r.denominator)
            assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
            assert np.allclose(ours, theirs, rtol=0, atol=1e-12), (rate_in, rate_out, n)


@pytest.mark.parametrize(("up", "down"), [(1, 1), (3, 3), (2, 1), (1, 2), (7, 3), (3, 7), (1, 10), (10, 1)])
def test_small_ratios_and_unreduced_ones_too(up: int, down: int) -> None:
    for n in LENGTHS:
        for x in _signals(n, 1000):
            assert np.allclose(resample_poly(x, up, down), scipy_resample_poly(x, up, down), rtol=0, atol=1e-12)
    with pytest.raises(ValueError):
        resample_poly(np.zeros((2, 2)), 2, 1)


@pytest.mark.parametrize("rate", RATES)
def test_k_weighting_is_pyloudnorms_filters_through_lfilter(rate: int) -> None:
    import pyloudnorm

    theirs_filters = [(np.asarray(f.b), np.asarray(f.a)) for f in pyloudnorm.Meter(rate)._filters.values()]
    for (b, a), (ours_b, ours_a) in zip(theirs_filters, _k_filters(rate), strict=True):
        assert np.array_equal(b, ours_b) and np.array_equal(a, ours_a)  # the same coefficients, bit for bit
    for n in (*LENGTHS, 3 * rate):
        for x in _signals(n, rate):
            theirs = x
            for b, a in theirs_filters:
                theirs = lfilter(b, a, theirs)
            ours = k_weight(x, rate)
            assert ours.shape == theirs.shape
            assert np.allclose(ours, theirs, rtol=0, atol=1e-12 * max(1.0, float(np.abs(theirs).max(initial=0)))), (
                rate,
                n,
            )


def test_speaking_a_row_does_not_import_scipy_signal() -> None:
    """What a row's audio needs (resampling, loudness) leaves scipy.signal unimported."""
    code = (
        "import sys, numpy as np\n"
        "from vpipe.speech.splice import resample\n"
        "from vpipe.speech.loudness import speech_loudness\n"
        "from vpipe.speech.pitch import resample as pitch_resample\n"
        "x = np.random.default_rng(0).standard_normal(22050).astype(np.float32)\n"
        "y = resample(x, 22050, 48000); pitch_resample(y, 48000, 16000); speech_loudness(y, 48000)\n"
        "print('scipy.signal' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
