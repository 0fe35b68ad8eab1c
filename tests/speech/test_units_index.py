"""The unit search's per-phone facts, gathered once per library (units._index), are the
functions they replace applied phone by phone (frame by frame), to the bit, on a real clip's
library as it is and looped 25 times (the 122 s scaling source); and a library is gathered
once however many searches read it (the row's cost no longer scans the recording)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tests.speech.test_units import library, new_word
from tests.speech.test_units_blocks import looped
from vpipe.speech import units

pytestmark = pytest.mark.media


def _edge(lib: units.UnitLibrary, i: int, end: bool) -> np.ndarray:
    """A phone's edge envelope as the search read it phone by phone before the index."""
    return lib.log_sp[lib.frame(lib.ends[i] - units.FRAME_S if end else lib.starts[i])].astype(np.float32)


@pytest.mark.parametrize("times", [1, 25])
def test_the_index_is_the_per_phone_functions(times: int) -> None:
    lib = looped(library("glasses_woman"), times)
    index = units._gather(lib)
    n = len(lib.labels)
    assert n > 40 * times
    for label in set(lib.labels):
        want = [
            i for i, lab in enumerate(lib.labels) if lab == label and lib.ends[i] - lib.starts[i] >= units.MIN_UNIT_S
        ]
        assert list(index.by_label.get(label, ())) == want, label
    assert index.f0.dtype == np.float64 and index.f0.tolist() == [units._unit_f0(lib, i) for i in range(n)]
    assert (index.f0 > 0).sum() > n // 4  # voiced phones carry their F0
    for field, end in (("ends", True), ("starts", False)):
        got, want = getattr(index, field), np.stack([_edge(lib, i, end) for i in range(n)])
        assert got.dtype == want.dtype == np.float32 and np.array_equal(got, want), field
    classes = units._frame_classes(lib)
    assert index.classes.dtype == classes.dtype and np.array_equal(index.classes, classes)


def test_a_library_is_gathered_once_for_every_search(monkeypatch: pytest.MonkeyPatch) -> None:
    lib = looped(library("glasses_woman"), 2)
    gathered = []
    gather = units._gather
    monkeypatch.setattr(units, "_gather", lambda lib: gathered.append(1) or gather(lib))
    *_, phones = new_word("glasses_woman")
    first = units.select(lib, phones)
    assert any(c.unit is not None for c in first)
    assert units.select(lib, phones) == first and units.select(lib, phones, substitute=False)
    assert len(gathered) == 1


@pytest.mark.parametrize("times", [1, 25])
def test_the_joins_scored_are_the_whole_tables_argmin_and_min(monkeypatch: pytest.MonkeyPatch, times: int) -> None:
    """_best_joins against the whole (predecessors, units) table, as the search computed it
    before, for every pair of labels that follow each other in a real word, with path costs
    coarse enough to tie often (25 times: every unit has 24 exact twins) and spread wide."""
    lib = looped(library("glasses_woman"), times)
    index = units._gather(lib)
    *_, phones = new_word("glasses_woman")
    rng = np.random.default_rng(3)
    scored: list[int] = []  # predecessors whose joins were computed, per search step
    joins = units._joins
    monkeypatch.setattr(units, "_joins", lambda e, s: scored.append(len(e)) or joins(e, s))
    pairs = [(a.label, b.label) for a, b in itertools.pairwise(phones)]
    checked = skipped = 0
    for left, right in pairs:
        prev, cur = np.array(units._candidates(lib, left)), np.array(units._candidates(lib, right))
        if not len(prev) or not len(cur):
            continue
        for scale in (0.5, 5.0):
            cost = np.round(rng.uniform(0, scale, len(prev)), 1)
            join = units._joins(index.ends[prev], index.starts[cur])
            join[prev[:, None] + 1 == cur[None, :]] = 0.0
            total = cost[:, None] + join
            pick, reached = units._best_joins(cost, prev, cur, index)
            assert scored[-1] <= len(prev)
            skipped += scored[-1] < len(prev)
            assert np.array_equal(pick, np.argmin(total, axis=0)) and np.array_equal(reached, total.min(axis=0))
            checked += 1
    assert checked >= 10 and skipped >= 1  # some predecessors were left out, and the result is the same
