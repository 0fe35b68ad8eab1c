"""16-frame windows over the slot windows (vpipe.neural.windows)."""

from __future__ import annotations

import itertools

import numpy as np

from vpipe.neural import windows as W


def _mask(total: int, *runs: tuple[int, int]) -> np.ndarray:
    m = np.zeros(total, bool)
    for a, b in runs:
        m[a:b] = True
    return m


def test_a_short_run_gets_one_window_centred_with_context() -> None:
    plan = W.plan(_mask(100, (40, 50)))
    assert plan == [W.Window(37, 53)]
    assert plan[0].frames == 16 and plan[0].start <= 40 - W.CONTEXT and plan[0].stop >= 50 + W.CONTEXT


def test_a_long_run_gets_overlapping_windows_covering_it_and_its_context() -> None:
    plan = W.plan(_mask(200, (50, 90)))  # 40 frames + 2 × 2 context = 44
    assert all(w.frames == 16 for w in plan)
    covered = set().union(*(range(w.start, w.stop) for w in plan))
    assert set(range(48, 92)) <= covered
    assert all(b.start < a.stop and a.stop - b.start >= W.OVERLAP for a, b in itertools.pairwise(plan))
    assert len(plan) == 4  # 3 windows overlapping by ≥ 4 cover at most 16 + 2 × 12 = 40 < 44


def test_windows_stay_inside_the_clip_and_two_slots_get_their_own() -> None:
    plan = W.plan(_mask(60, (0, 5), (50, 60)))
    assert plan == [W.Window(0, 16), W.Window(44, 60)]
    assert W.plan(_mask(10, (2, 6))) == [W.Window(0, 10)]  # a clip shorter than a window


def test_evaluation_counts() -> None:
    assert W.evaluations(2, 20, 1.5) == 80
    assert W.evaluations(2, 10, 1.0) == 20
    assert len(W.whole_video(750)) == 47  # 30 s at 25 fps: 46 full windows and a shorter last one
    assert W.whole_video(750)[-1] == W.Window(736, 750)
    weights = W.Window(0, 16).weights()
    assert weights.min() > 0 and weights[7] == weights.max()
