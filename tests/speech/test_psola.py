"""TD-PSOLA (vpipe.speech.psola) and the units joined on the recording's waveform
(vpipe.speech.concat), on a real speaker: the glasses woman's recorded word 'regulation'.

Measured outcomes only: the pitch marks are one period apart, replaying the word with its
own timing and pitch gives the word back, a pitch change is heard by the F0 tracker at the
asked ratio while the length stays, a stretch keeps the pitch, and a word joined from its own
units in its own timing plays back as recorded.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from tests.speech.test_units import library
from tests.speech.test_voice_match import source
from vpipe.data.alignment import Segment
from vpipe.speech.concat import join
from vpipe.speech.pitch import ANALYSIS_RATE, f0_track, resample
from vpipe.speech.psola import overlap_add, pitch_marks
from vpipe.speech.units import FRAME_S, Choice

pytestmark = pytest.mark.media

NAME = "glasses_woman"


@cache
def word() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the word 'regulation' at ANALYSIS_RATE, its frame F0 (0 unvoiced) at FRAME_S, marks)."""
    src = source(NAME)
    w = next(w for w in src.alignment.words if w.label == "regulation")
    x = resample(src.mono[int(w.start * src.rate) : int(w.end * src.rate)], src.rate, ANALYSIS_RATE)
    track = f0_track(x, ANALYSIS_RATE, hop_s=FRAME_S)
    f0 = np.where(track.voiced, track.f0, 0.0)
    return x, f0, pitch_marks(x, ANALYSIS_RATE, track.times, f0)


def _median_f0(y: np.ndarray) -> float:
    track = f0_track(y, ANALYSIS_RATE, hop_s=FRAME_S)
    return float(np.median(track.f0[track.voiced]))


def test_pitch_marks_are_one_period_apart_at_the_waveform_peak() -> None:
    x, f0, marks = word()
    assert len(marks) > 50 and np.all(np.diff(marks) > 0)
    gaps = np.diff(marks)
    frame = np.minimum(marks // int(FRAME_S * ANALYSIS_RATE), len(f0) - 1)
    stretch = np.cumsum(np.diff(np.concatenate([[0], (f0 > 0).astype(int)])) == 1)  # voiced stretch id per frame
    within = (stretch[frame[:-1]] == stretch[frame[1:]]) & (f0[frame[:-1]] > 0) & (f0[frame[1:]] > 0)
    expected = ANALYSIS_RATE / np.maximum(f0[frame[:-1]], 1.0)
    ok = np.abs(gaps[within] / expected[within] - 1) < 0.15
    assert within.sum() > 50 and ok.mean() > 0.9
    # each mark is its period's largest (smoothed) sample: the same point of every cycle
    smooth = np.convolve(x, np.ones(22) / 22, mode="same")
    peaks = [
        smooth[m] >= smooth[max(0, m - g // 4) : m + g // 4 + 1].max() - 1e-9
        for m, g in zip(marks[1:], gaps, strict=False)
    ]
    assert np.mean(peaks) > 0.9


def test_replaying_with_own_timing_and_pitch_gives_the_word_back() -> None:
    x, f0, marks = word()
    y = overlap_add(x, ANALYSIS_RATE, marks, np.arange(len(x), dtype=np.float64), (f0 > 0) * 1.0, FRAME_S)
    assert len(y) == len(x)
    inner = slice(ANALYSIS_RATE // 50, len(x) - ANALYSIS_RATE // 50)
    err = np.sum((y[inner] - x[inner]) ** 2) / np.sum(x[inner] ** 2)
    assert 10 * np.log10(1 / err) > 10  # SNR in dB


@pytest.mark.parametrize("ratio", [0.8, 1.25])
def test_pitch_moves_by_the_ratio_and_the_length_stays(ratio: float) -> None:
    x, f0, marks = word()
    y = overlap_add(x, ANALYSIS_RATE, marks, np.arange(len(x), dtype=np.float64), (f0 > 0) * ratio, FRAME_S)
    assert len(y) == len(x)
    assert abs(_median_f0(y) / _median_f0(x) / ratio - 1) < 0.04


def test_stretching_keeps_the_pitch() -> None:
    x, f0, marks = word()
    n = int(len(x) * 1.4)
    source_at = np.arange(n) / 1.4
    frames = np.arange(int(np.ceil(n / (FRAME_S * ANALYSIS_RATE))))
    voiced = f0[np.clip((frames / 1.4).astype(int), 0, len(f0) - 1)] > 0
    y = overlap_add(x, ANALYSIS_RATE, marks, source_at, voiced * 1.0, FRAME_S)
    assert len(y) == n
    assert abs(_median_f0(y) / _median_f0(x) - 1) < 0.04
    voiced = f0_track(y, ANALYSIS_RATE, hop_s=FRAME_S).voiced.mean()
    assert abs(voiced - (f0 > 0).mean()) < 0.1


def test_a_word_joined_from_its_own_units_plays_back_as_recorded() -> None:
    src, lib = source(NAME), library(NAME)
    w = next(w for w in src.alignment.words if w.label == "regulation")
    units = [
        i
        for i, (a, b) in enumerate(zip(lib.starts, lib.ends, strict=True))
        if a >= w.start - 1e-6 and b <= w.end + 1e-6
    ]
    choices = [Choice(Segment(lib.labels[i], lib.starts[i] - w.start, lib.ends[i] - w.start), i) for i in units]
    rate, lead = 22050, 0.03
    n = int((w.end - w.start + 2 * lead) * rate)
    recorded = resample(src.mono[int((w.start - lead) * src.rate) :], src.rate, rate)[:n]
    filler = 0.5 * recorded[::-1]  # another sound, at half the level: the units take its level
    spans = [(c.target.start, c.target.end) for c in choices]
    y = join(src.mono, src.rate, lib, choices, spans, filler, rate, lead)
    assert len(y) == n
    a, b = int((lead + spans[0][0] + 0.02) * rate), int((lead + spans[-1][1] - 0.02) * rate)
    assert np.corrcoef(y[a:b], recorded[a:b])[0, 1] > 0.9
    assert abs(np.sqrt(np.mean(y[a:b] ** 2) / np.mean(recorded[a:b] ** 2)) - 0.5) < 0.05
