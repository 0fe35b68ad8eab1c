"""Choosing a source mouth per frame (vpipe.lipsync.select) on the real inventory of
glasses_woman.mp4: the Viterbi path is the cheapest on its own cost (checked by brute force
on a small inventory, and against a greedy per-frame choice on the full one), `max_offset`
restricts the choice to the frame's neighbours, and a frame that asks for its own mouth
gets it."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from tests.lipsync.sources import source
from vpipe.lipsync.inventory import MouthInventory
from vpipe.lipsync.select import (
    FrameTarget,
    Weights,
    choose_mouths,
    match_costs,
    shape_distances,
    transition_costs,
    viterbi,
    viterbi_pruned,
)
from vpipe.lipsync.visemes import INDEX

pytestmark = pytest.mark.media

WORD = ["PP", "aa", "aa", "PP", "oh", "oh", "E", "SS", "PP", "aa", "DD", "ih", "kk", "sil"]


def _inventory() -> MouthInventory:
    return source("glasses_woman").inventory


def _path_cost(costs: np.ndarray, trans: np.ndarray, paths: np.ndarray) -> np.ndarray:
    """Total cost of each path (rows of entry indices): match costs plus transitions."""
    paths = np.atleast_2d(paths)
    k = paths.shape[1]
    total = costs[np.arange(k), paths].sum(axis=1)
    return total + trans[paths[:, :-1], paths[:, 1:]].sum(axis=1)


def _slot_targets(inv: MouthInventory, first_frame: int, visemes: list[str]) -> list[FrameTarget]:
    """In-slot targets asking for these visemes at this speaker's typical aperture."""
    return [
        FrameTarget(first_frame + k, INDEX[v], float(inv.viseme_aperture[INDEX[v]]), True)
        for k, v in enumerate(visemes)
    ]


def _subset(inv: MouthInventory, entries: list[int]) -> MouthInventory:
    sel = np.asarray(entries)
    return dataclasses.replace(
        inv,
        frames=inv.frames[sel],
        visemes=inv.visemes[sel],
        aperture=inv.aperture[sel],
        shape=inv.shape[sel],
        pose=inv.pose[sel],
        luma=inv.luma[sel],
        crops=inv.crops[sel],
        crop_origin=inv.crop_origin[sel],
    )


def test_viterbi_is_optimal_by_brute_force() -> None:
    """On an 8-entry inventory (runs of consecutive frames, so continuing a run is free) and
    a 5-frame slot mixing in-slot and own-mouth targets, the DP's path costs exactly the
    minimum over all 8^5 paths."""
    full = _inventory()
    entries = [10, 11, 12, 40, 41, 42, 80, 81]
    inv = _subset(full, entries)
    f = [int(x) for x in inv.frames]
    targets = [
        FrameTarget(f[0], INDEX["PP"], float(full.viseme_aperture[INDEX["PP"]]), True),
        FrameTarget(f[1], INDEX["aa"], float(full.viseme_aperture[INDEX["aa"]]), True),
        FrameTarget(f[2], INDEX["aa"], float(full.viseme_aperture[INDEX["aa"]]), True),
        FrameTarget(f[3], INDEX["ih"], float(full.viseme_aperture[INDEX["ih"]]), True),
        FrameTarget(f[4], int(inv.visemes[4]), float(inv.aperture[4]), False),
    ]
    w = Weights()
    costs, trans = match_costs(inv, targets, w, None), transition_costs(inv, w)
    every = np.array(list(itertools.product(range(len(entries)), repeat=len(targets))))
    best = _path_cost(costs, trans, every).min()
    chosen = choose_mouths(inv, targets)
    assert _path_cost(costs, trans, chosen)[0] == pytest.approx(best, abs=1e-9)


@pytest.mark.parametrize("start", [20, 50, 90])
def test_dp_never_worse_than_greedy(start: int) -> None:
    """On the full inventory, for a 14-frame slot of varied visemes: the DP's total cost is at
    most the greedy per-frame choice's and the own-frames path's, on the DP's own cost."""
    inv = _inventory()
    targets = _slot_targets(inv, start, WORD)
    w = Weights()
    costs, trans = match_costs(inv, targets, w, None), transition_costs(inv, w)
    dp = _path_cost(costs, trans, choose_mouths(inv, targets))[0]
    greedy = _path_cost(costs, trans, costs.argmin(axis=1))[0]
    own = _path_cost(costs, trans, np.array([inv.entry_of(t.pose_frame) for t in targets]))[0]
    assert dp <= greedy + 1e-9
    assert dp <= own + 1e-9


def test_requested_visemes_get_matching_mouths() -> None:
    """Asking for open vowels yields wider source mouths than asking for p/b/m, and every
    p/b/m frame gets a mouth narrower than this speaker's median aperture."""
    inv = _inventory()
    wide = choose_mouths(inv, _slot_targets(inv, 30, ["aa"] * 6))
    closed = choose_mouths(inv, _slot_targets(inv, 30, ["PP"] * 6))
    assert inv.aperture[wide].min() > inv.aperture[closed].max()
    assert (inv.aperture[closed] < np.median(inv.aperture)).all()


@pytest.mark.parametrize("offset", [0, 1, 3])
def test_max_offset_restricts_to_neighbours(offset: int) -> None:
    """The retime backend: every chosen mouth comes from within ±max_offset frames of the
    frame itself; with 0 that is the frame's own mouth."""
    inv = _inventory()
    targets = _slot_targets(inv, 40, WORD)
    chosen = choose_mouths(inv, targets, max_offset=offset)
    pose = np.array([t.pose_frame for t in targets])
    assert np.abs(inv.frames[chosen] - pose).max() <= offset
    if offset == 0:
        assert np.array_equal(inv.frames[chosen], pose)
    unrestricted = choose_mouths(inv, targets)
    assert np.abs(inv.frames[unrestricted] - pose).max() > 3  # the restriction is what kept it near


@pytest.mark.parametrize("in_slot", [False, True])
def test_own_mouth_as_target_picks_the_frame_itself(in_slot: bool) -> None:
    """Frames 40-59 each asking for exactly their own viseme and aperture: the DP returns those
    very frames (the own run costs 0; any other mouth costs more)."""
    inv = _inventory()
    targets = []
    for f in range(40, 60):
        e = inv.entry_of(f)
        assert e is not None
        targets.append(FrameTarget(f, int(inv.visemes[e]), float(inv.aperture[e]), in_slot))
    assert inv.frames[choose_mouths(inv, targets)].tolist() == list(range(40, 60))


def test_transition_costs_reward_continuing_a_run() -> None:
    """Moving to the next source frame is free, holding one costs `hold`, any jump at least
    `jump` plus the lip-shape distance (so jumps to similar lips are cheaper)."""
    inv = _inventory()
    w = Weights()
    trans = transition_costs(inv, w)
    m = inv.size
    nxt = inv.frames[None, :] == inv.frames[:, None] + 1
    assert (trans[nxt] == 0).all() and nxt.sum() == m - 1
    assert np.allclose(np.diag(trans), w.hold)
    jumps = ~nxt & ~np.eye(m, dtype=bool)
    assert (trans[jumps] >= w.jump).all()
    assert choose_mouths(inv, []).shape == (0,)


def _looped(inv: MouthInventory, copies: int) -> MouthInventory:
    """The inventory of the recording repeated `copies` times (every mouth `copies` times)."""
    n = int(inv.frames.max()) + 1
    return dataclasses.replace(
        inv,
        frames=np.concatenate([inv.frames + c * n for c in range(copies)]),
        **{
            f: np.concatenate([getattr(inv, f)] * copies)
            for f in ("visemes", "aperture", "pose", "luma", "shape", "crops", "crop_origin")
        },
    )


@pytest.mark.parametrize("start", [20, 50, 90])
@pytest.mark.parametrize("copies", [1, 3])
def test_pruned_search_finds_the_dense_path_exactly(start: int, copies: int) -> None:
    """The pruned search returns the dense Viterbi's path itself on the real inventory, and on
    the inventory repeated (a looped recording: every mouth several times, costs tied exactly,
    broken towards the lowest entry as np.argmin does), with and without `max_offset`."""
    inv = _looped(_inventory(), copies)
    w = Weights()
    targets = _slot_targets(inv, start, WORD)
    for offset in (None, 3):
        costs = match_costs(inv, targets, w, offset)
        dense = viterbi(costs, transition_costs(inv, w))
        np.testing.assert_array_equal(viterbi_pruned(costs, inv, w), dense)


@pytest.mark.parametrize("copies", [1, 4])
def test_shape_distances_in_place_are_the_one_line_formula_bit_for_bit(copies: int) -> None:
    """shape_distances works in place (two (M, M) arrays at a time); its float32 result is the
    one-line expression's, bit for bit, on the real inventory and on it repeated (a looped
    recording)."""
    inv = _inventory()
    inv = dataclasses.replace(inv, shape=np.concatenate([inv.shape] * copies))
    shape = inv.shape / max(inv.scale, 1e-6)
    sq = (shape**2).sum(axis=1)
    expected = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * shape @ shape.T, 0.0) / (shape.shape[1] // 2))
    found = shape_distances(inv)
    assert found.dtype == expected.dtype == np.float32 and found.shape == (len(inv.shape),) * 2
    assert np.array_equal(found.view(np.uint32), expected.view(np.uint32))


@pytest.mark.parametrize("copies", [1, 3])
def test_pruned_search_on_random_costs_with_ties(copies: int) -> None:
    rng = np.random.default_rng(7)
    inv = _looped(_inventory(), copies)
    w = Weights()
    for _ in range(20):
        costs = np.round(rng.uniform(0, 2, (12, inv.size)), 1)  # coarse values: many exact ties
        np.testing.assert_array_equal(viterbi_pruned(costs, inv, w), viterbi(costs, transition_costs(inv, w)))


def test_a_frame_that_must_close_the_lips_gets_a_closure() -> None:
    """A `closed` target (a p, b or m is heard) gets one of the speaker's closures (aperture at
    most the closure level) even when its viseme and aperture terms ask for an open mouth, and
    among open neighbours; without a closure level the same targets get open mouths."""
    from vpipe.lipsync.inventory import closure_level

    inv = _inventory()
    level = closure_level(inv, source("glasses_woman").video.times)
    assert 0.0 <= level < float(np.median(inv.aperture))
    visemes = ["aa", "aa", "aa", "aa", "aa", "aa"]
    targets = [dataclasses.replace(t, closed=k in (0, 3)) for k, t in enumerate(_slot_targets(inv, 30, visemes))]
    chosen = choose_mouths(inv, targets, closure=level)
    assert inv.aperture[chosen[[0, 3]]].max() <= level + 1e-6
    assert inv.aperture[chosen[[1, 2, 4, 5]]].min() > level
    free = choose_mouths(inv, targets)
    assert inv.aperture[free].min() > level


def test_the_distances_are_computed_once_per_inventory_and_the_path_is_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The (M, M) lip-shape distances are the inventory's alone: the second row's search reuses
    the first's (one computation), and finds the same path as the dense search each time; an
    inventory whose distances exceed DISTANCES_KEPT_BYTES gets them computed per search."""
    import vpipe.lipsync.select as S

    inv = dataclasses.replace(_inventory())  # a fresh value: nothing derived from it yet
    calls: list[int] = []

    def counted(i: MouthInventory) -> np.ndarray:
        calls.append(1)
        return shape_distances(i)

    monkeypatch.setattr(S, "shape_distances", counted)
    w = Weights()
    targets = _slot_targets(inv, 20, WORD)
    costs = match_costs(inv, targets, w, None)
    dense = viterbi(costs, transition_costs(inv, w))
    calls.clear()
    for _ in range(2):
        np.testing.assert_array_equal(viterbi_pruned(costs, inv, w), dense)
    assert len(calls) == 1
    monkeypatch.setattr(S, "DISTANCES_KEPT_BYTES", inv.size * inv.size * 4 - 1)
    small = dataclasses.replace(inv)
    for _ in range(2):
        np.testing.assert_array_equal(viterbi_pruned(costs, small, w), dense)
    assert len(calls) == 3


def test_a_big_head_avoids_mouths_recorded_smaller() -> None:
    """With the heads' sizes given, slot frames on the recording's largest head take mouths
    that need less enlargement than the search chooses without them (an enlarged mouth has
    no more detail than it was recorded with); mouths recorded at least as large as the head
    cost nothing more."""
    from tests.lipsync.sources import face
    from vpipe.lipsync.geometry import face_size

    inv = _inventory()
    sizes = face_size(face(source("glasses_woman").path).landmarks)[inv.frames]
    big = float(np.nanmax(sizes))
    targets = [dataclasses.replace(t, size=big) for t in _slot_targets(inv, 30, WORD)]
    with_sizes = choose_mouths(inv, targets, sizes=sizes)
    without = choose_mouths(inv, targets)
    enlarge = lambda chosen: float(np.mean(np.log(big / sizes[chosen])))  # noqa: E731
    assert enlarge(with_sizes) < enlarge(without), (enlarge(with_sizes), enlarge(without))
    assert (
        match_costs(inv, targets, Weights(), None, sizes=np.full(inv.size, 1e9))
        == match_costs(inv, targets, Weights(), None)
    ).all()
