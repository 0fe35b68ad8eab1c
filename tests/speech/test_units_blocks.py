"""The unit library's analysis and the unit search's join and fill distances, computed with
fewer whole-length arrays alive (in place, in blocks of rows: units.build_library,
units.join_jump, units.nearest), equal the whole-array computation they replace, to the bit,
on real clips' libraries: as they are and looped 25 times (the 122 s scaling source), with
blocks of one row, of a size that leaves a remainder, the default size, and one block (the
old code).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tests.speech.test_units import library, new_word
from tests.speech.test_voice_match import CASES, source
from vpipe.data.alignment import Segment
from vpipe.speech import units
from vpipe.speech.pitch import ANALYSIS_RATE, f0_track, local_f0, resample
from vpipe.speech.profile import pyworld
from vpipe.speech.units import (
    FRAME_S,
    KNN,
    UnitLibrary,
    build_library,
    cepstra,
    envelope_hook,
    join_jump,
    nearest,
    select,
)
from vpipe.speech.voice_match import match_voice

pytestmark = pytest.mark.media

WHOLE = 1 << 62  # one block: the whole array, as before blocking


def looped(lib: UnitLibrary, times: int) -> UnitLibrary:
    """`lib` as if its recording were repeated `times` times (frames, phones and times shifted)."""
    n, span = len(lib.log_sp), len(lib.log_sp) * FRAME_S
    return replace(
        lib,
        log_sp=np.tile(lib.log_sp, (times, 1)),
        ap=np.tile(lib.ap, (times, 1)),
        f0=np.tile(lib.f0, times),
        labels=lib.labels * times,
        starts=np.concatenate([lib.starts + k * span for k in range(times)]),
        ends=np.concatenate([lib.ends + k * span for k in range(times)]),
        features=np.tile(lib.features, (times, 1)),
        speech=np.concatenate([lib.speech + k * n for k in range(times)]),
    )


def _old_library(mono: np.ndarray, rate: int, phones: tuple[Segment, ...]) -> UnitLibrary:
    """build_library as it was: every WORLD array whole and alive at once."""
    pw = pyworld()
    y = np.ascontiguousarray(resample(np.asarray(mono, np.float64), rate, ANALYSIS_RATE), dtype=np.float64)
    track = f0_track(y, ANALYSIS_RATE, hop_s=FRAME_S, voicing=-1.0)
    f0 = np.ascontiguousarray(np.where(track.voiced, track.f0, 0.0))
    times = np.ascontiguousarray(track.times)
    sp = pw.cheaptrick(y, f0, times, ANALYSIS_RATE)
    ap = pw.d4c(y, f0, times, ANALYSIS_RATE)
    periodic = np.where(track.strength >= 0.5, f0, 0.0)
    log_sp = np.log(np.maximum(sp, 1e-30))
    m = np.max(log_sp, axis=1, keepdims=True)
    energy = (m + np.log(np.sum(np.exp(log_sp - m), axis=1, keepdims=True)))[:, 0]
    inside = np.zeros(len(log_sp), bool)
    for p in phones:
        if p.label != "SIL":
            inside[int(p.start / FRAME_S) : int(np.ceil(p.end / FRAME_S))] = True
    inside[: len(log_sp)] &= energy > energy.max() - units._FILL_FLOOR_DB / (10 / np.log(10))
    return UnitLibrary(
        log_sp.astype(np.float16),
        ap.astype(np.float16),
        periodic.astype(np.float32),
        tuple(p.label for p in phones),
        np.array([p.start for p in phones], np.float64),
        np.array([p.end for p in phones], np.float64),
        cepstra(log_sp).astype(np.float32),
        np.flatnonzero(inside[: len(log_sp)]),
    )


@pytest.mark.parametrize(
    ("name", "block"),
    [
        ("glasses_woman", 513 * 8 * 100),
        pytest.param("glasses_woman", units.BLOCK_BYTES, marks=pytest.mark.slow),
        pytest.param("interview_man", 513 * 8 * 100, marks=pytest.mark.slow),
        pytest.param("interview_man", units.BLOCK_BYTES, marks=pytest.mark.slow),
    ],
)
def test_the_library_equals_the_whole_array_analysis(monkeypatch: pytest.MonkeyPatch, name: str, block: int) -> None:
    """Every field, dtype and value, with the energy in 100-frame blocks (a remainder left)
    and in the default blocks."""
    src = source(name)
    want = _old_library(src.mono, src.rate, src.alignment.phones)
    monkeypatch.setattr(units, "BLOCK_BYTES", block)
    got = build_library(src.mono, src.rate, src.alignment.phones)
    assert len(got.log_sp) > 300 and 0 < len(got.speech) < len(got.log_sp)
    for field in ("log_sp", "ap", "f0", "starts", "ends", "features", "speech"):
        a, b = getattr(got, field), getattr(want, field)
        assert a.dtype == b.dtype and np.array_equal(a, b), field
    assert got.labels == want.labels


def _old_jump(ends: np.ndarray, starts: np.ndarray) -> np.ndarray:
    return np.abs(ends[:, None, :] - starts[None, :, :]).mean(axis=2)


def _old_nearest(points: np.ndarray, bank: np.ndarray, k: int) -> np.ndarray:
    dist = ((points[:, None, :] - bank[None, :, :]) ** 2).sum(axis=2)
    return np.argpartition(dist, k - 1, axis=1)[:, :k]


@pytest.mark.parametrize("block", [1, 7 * 150 * 513 * 4, units.BLOCK_BYTES, WHOLE])
def test_the_join_jump_in_blocks_equals_the_whole_array(monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    """Unit edges as the Viterbi stacks them (float32 log envelopes): 200 ends against 150
    starts of the glasses library (7 rows a block leaves a remainder; the default size
    takes 27 rows a block here)."""
    lib = library("glasses_woman")
    rng = np.random.default_rng(0)
    ends = lib.log_sp[rng.choice(len(lib.log_sp), 200, replace=False)].astype(np.float32)
    starts = lib.log_sp[rng.choice(len(lib.log_sp), 150, replace=False)].astype(np.float32)
    monkeypatch.setattr(units, "BLOCK_BYTES", block)
    got, want = join_jump(ends, starts), _old_jump(ends, starts)
    assert got.dtype == want.dtype and got.shape == want.shape == (200, 150)
    assert np.array_equal(got, want)


@pytest.mark.parametrize("times", [1, 25])
@pytest.mark.parametrize("block", [1, 3 * 4096 * 20 * 8 + 8, units.BLOCK_BYTES, WHOLE])
def test_the_fill_neighbours_in_blocks_equal_the_whole_array(
    monkeypatch: pytest.MonkeyPatch, times: int, block: int
) -> None:
    """The kNN fill: 60 frames' mel-cepstra (float64, as the word's are) against every speech
    frame of the library (float32), looped 25 times too: every frame then has 25 exact
    twins, so the partition breaks ties, and must break them the same way."""
    lib = looped(library("glasses_woman"), times)
    frames = np.random.default_rng(1).choice(len(lib.log_sp), 60, replace=False)
    points = cepstra(lib.log_sp[frames].astype(np.float64))
    bank = lib.features[lib.speech]
    monkeypatch.setattr(units, "BLOCK_BYTES", block)
    got, want = nearest(points, bank, KNN), _old_nearest(points, bank, KNN)
    assert got.dtype == want.dtype and got.shape == want.shape == (60, KNN)
    assert np.array_equal(got, want)


@pytest.mark.slow
def test_a_new_word_on_the_looped_library_is_the_same_in_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole path on the 25-times library (the 122 s source): the units chosen and the
    matched word's samples are identical with one-row blocks and with one block."""
    case, src = CASES["glasses_woman"], source("glasses_woman")
    slot = src.alignment.words[case.transcript.split().index(case.slot)]
    audio, rate, lead, phones = new_word("glasses_woman")
    target = local_f0(src.mono, src.rate, slot.start, slot.end)
    lib = looped(library("glasses_woman"), 25)
    out = {}
    for block in (WHOLE, 1):
        monkeypatch.setattr(units, "BLOCK_BYTES", block)
        choices = select(lib, phones, target)
        hook = envelope_hook(lib, choices, lead)
        out[block] = (choices, match_voice(audio, rate, src.profile, target_f0=target, units=hook, room=False).audio)
    assert out[1][0] == out[WHOLE][0] and any(c.unit is not None for c in out[1][0])
    assert out[1][1].dtype == out[WHOLE][1].dtype and np.array_equal(out[1][1], out[WHOLE][1])
