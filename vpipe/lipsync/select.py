"""Choose a source mouth for every frame of a slot window, by dynamic programming.

Per frame, each inventory entry costs how far its viseme, aperture, head pose,
brightness and phone context (the neighbouring phones and the point in the phone it was
recorded at: lipsync.context) are from what the frame needs; between frames, continuing a
source run (frame j → j+1) is free, holding costs a little, and jumping costs the
lip-shape distance plus a constant. Viterbi finds the cheapest sequence for the whole window at
once (greedy choice per frame would jitter). At the window's edges, where the recording's
own audio plays, the frame's own mouth is the target, so the seams are the source itself.
`max_offset` restricts candidates to ±n frames of the frame itself: the `retime` backend.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vpipe.data.memo import derived
from vpipe.lipsync.context import PhoneContext
from vpipe.lipsync.inventory import MouthInventory
from vpipe.lipsync.visemes import NAMES, distance_matrix

INF = 1e9
# The (M, M) lip-shape distances are the inventory's alone: kept for the next row (vpipe.data.memo)
# up to this size (37 MB at a two-minute recording); a longer one's are computed per row (~900 MB
# at ten minutes would otherwise stay resident).
DISTANCES_KEPT_BYTES = 64 << 20


@dataclass(frozen=True)
class FrameTarget:
    pose_frame: int  # the source frame whose head (and all pixels outside the mouth) is shown
    viseme: int  # index into vpipe.lipsync.visemes.NAMES
    aperture: float  # target aperture, in this speaker's measured units
    in_slot: bool  # the new words play here (else the source's own audio does)
    closed: bool = False  # a p, b or m is heard: the mouth must be one of the speaker's closures
    before: int = -1  # the heard phone's neighbours' visemes and how far through it the frame is
    after: int = -1  # (lipsync.context); -1: no context, none is matched
    phase: float = 0.5
    size: float = float("nan")  # the head's size in this frame (lipsync.geometry.face_size)


@dataclass(frozen=True)
class Weights:
    viseme: float = 1.0
    aperture: float = 1.5
    pose: float = 0.25
    luma: float = 0.15
    keep_original_outside_slot: float = 0.8  # extra cost of a foreign mouth while the source's audio plays
    hold: float = 0.06
    jump: float = 0.25
    shape: float = 2.5
    context: float = 0.3  # per neighbour: its viseme distance from the entry's recorded neighbour
    phase: float = 0.3  # how far apart the frame's and the entry's points in their phones are (0..1)
    magnify: float = 5.0  # per unit of log enlargement a donor mouth needs onto the frame's head
    open_lips: float = 100.0  # a frame that must close the lips showing a mouth that is not closed


def match_costs(
    inv: MouthInventory,
    targets: list[FrameTarget],
    w: Weights,
    max_offset: int | None,
    closure: float = float("nan"),
    pinned: dict[int, int] | None = None,
    context: PhoneContext | None = None,
    sizes: np.ndarray | None = None,
) -> np.ndarray:
    """(K, M) cost of showing entry m at target frame k. A `closed` target (a bilabial is
    heard) rules out every entry more open than `closure`, the speaker's closure level: the
    viseme and aperture terms alone let an entry labelled p/b/m by the alignment but caught
    before or after the lips met win, or average a 40 ms closure away. `pinned` (target →
    entry) rules out every other entry at those targets. `context`: each entry's recorded
    phone context (lipsync.context); a slot target that names its own costs each entry the
    viseme distance of the two neighbours and the distance of the points in their phones, so
    of the mouths for a phone, one recorded between the same neighbours, at the same point of
    its phone, wins (triphone units, as in Video Rewrite). `sizes`: each entry's head size
    (geometry.face_size); a slot target that knows its own costs each entry the enlargement
    the transplant would need (log of the ratio, when above 1): an enlarged mouth has no
    more detail than it was recorded with, so it shows less than the recording (studio_woman,
    whose head size varies by ~10 %: mouth sharpness 0.81 of the donors' without this term,
    0.90 with it; benchmarks/lipsync.py, median of rows)."""
    too_open = inv.aperture > closure + 1e-6 if np.isfinite(closure) else np.zeros(inv.size, bool)
    vis_dist = distance_matrix()
    span = max(float(np.ptp(inv.viseme_aperture)), 1e-3)  # the aperture scale the weights were set on
    k, m = len(targets), inv.size
    costs = np.zeros((k, m), np.float64)
    entry_of_frame = entries_by_frame(inv)
    visemes = derived(inv, "visemes_int", lambda: inv.visemes.astype(int))
    for t, tgt in enumerate(targets):
        c = w.viseme * vis_dist[tgt.viseme, visemes]
        c = c + w.aperture * np.abs(inv.aperture - tgt.aperture) / span
        own = entry_of_frame.get(tgt.pose_frame)
        if own is not None:
            c = c + w.pose * np.linalg.norm(inv.pose - inv.pose[own], axis=1) / 10.0
            c = c + w.luma * np.abs(inv.luma - inv.luma[own]) / 30.0
        if context is not None and tgt.in_slot and tgt.before >= 0:
            c = c + w.context * (vis_dist[tgt.before, context.before] + vis_dist[tgt.after, context.after])
            c = c + w.phase * np.abs(context.phase - tgt.phase)
        if sizes is not None and tgt.in_slot and np.isfinite(tgt.size):
            c = c + w.magnify * np.maximum(0.0, np.nan_to_num(np.log(tgt.size / sizes), nan=0.0))
        if tgt.closed:
            c = c + w.open_lips * too_open
        if pinned is not None and t in pinned:
            c = c + w.open_lips * (np.arange(m) != pinned[t])
        if not tgt.in_slot:
            c = c + w.keep_original_outside_slot
            if own is not None:
                c[own] = 0.0
        if max_offset is not None:
            c = np.where(np.abs(inv.frames - tgt.pose_frame) > max_offset, INF, c)
        costs[t] = c
    return costs


def shape_distances(inv: MouthInventory) -> np.ndarray:
    """(M, M) RMS lip-point distance between entries, in inter-ocular units."""
    shape = inv.shape / max(inv.scale, 1e-6)
    sq = (shape**2).sum(axis=1)
    # sqrt(max(sq_i + sq_j - (2·shape) @ shape.T, 0) / points), the same operations in the same
    # order as the one-line expression, in place: two (M, M) arrays at a time instead of four
    # (M is a frame of the recording: 37 MB each at two minutes)
    d2 = np.add(sq[:, None], sq[None, :])
    np.subtract(d2, 2 * shape @ shape.T, out=d2)
    np.maximum(d2, 0.0, out=d2)
    np.divide(d2, shape.shape[1] // 2, out=d2)
    return np.sqrt(d2, out=d2)


def transition_costs(inv: MouthInventory, w: Weights) -> np.ndarray:
    trans = w.jump + w.shape * shape_distances(inv)
    np.fill_diagonal(trans, w.hold)
    succ = inv.frames[None, :] == inv.frames[:, None] + 1
    trans[succ] = 0.0
    return trans


def viterbi(costs: np.ndarray, trans: np.ndarray) -> np.ndarray:
    """The dense reference: every entry against every entry at each step, O(K·M²)."""
    k, m = costs.shape
    score = costs[0].copy()
    back = np.zeros((k, m), np.int64)
    for t in range(1, k):
        total = score[:, None] + trans  # (prev, next)
        back[t] = np.argmin(total, axis=0)
        score = total[back[t], np.arange(m)] + costs[t]
    return _backtrack(score, back)


def _backtrack(score: np.ndarray, back: np.ndarray) -> np.ndarray:
    k = back.shape[0]
    path = np.zeros(k, np.int64)
    path[-1] = int(np.argmin(score))
    for t in range(k - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


BLOCK = 64  # predecessors scored at once by the pruned search


def viterbi_pruned(costs: np.ndarray, inv: MouthInventory, w: Weights) -> np.ndarray:
    """The same path as `viterbi(costs, transition_costs(inv, w))`, bit for bit (the same
    sums of the same numbers, ties to the lowest index as np.argmin breaks them), without
    scoring every pair of entries at every step: a recording's inventory holds a mouth per
    frame, so the dense search grows with the square of its length.

    Per step, each entry's two cheap predecessors (itself: hold; the frame before it: free)
    are scored first; every other predecessor costs at least its score + `w.jump`, so
    predecessors are scored in blocks in order of their score, and an entry is settled once
    the next block's lowest score + `w.jump` exceeds its best so far (the first block's too:
    an entry settled by its cheap predecessors alone is never scanned)."""
    k, m = costs.shape
    dist = derived(inv, "shape_distances", lambda: shape_distances(inv), DISTANCES_KEPT_BYTES)
    where = entries_by_frame(inv)
    if w.shape < 0 or w.jump < 0 or len(where) != m or not (np.isfinite(costs).all() and np.isfinite(dist).all()):
        return viterbi(costs, transition_costs(inv, w))  # the bound needs jump ≤ every other transition
    prev, nxt = derived(inv, "frame_links", lambda: _links(inv, where))
    entries = np.arange(m)
    score = costs[0].copy()
    back = np.zeros((k, m), np.int64)
    for t in range(1, k):
        best = score + w.hold  # from itself
        arg = entries.copy()
        has = prev >= 0
        free = score[prev[has]] + 0.0  # from the frame before it (trans 0.0, as the dense sum adds it)
        cols = entries[has]
        better = (free < best[cols]) | ((free == best[cols]) & (prev[has] < arg[cols]))
        best[cols[better]], arg[cols[better]] = free[better], prev[has][better]
        order = np.argsort(score, kind="stable")
        # the bound before the first block: an entry its cheap predecessors already bring
        # below the cheapest score + jump is settled without scanning (most are, per step)
        open_ = entries[best >= score[order[0]] + w.jump]
        for pos in range(0, m if open_.size else 0, BLOCK):
            rows = np.sort(order[pos : pos + BLOCK])  # by entry: a tie's first row is its lowest entry
            trans = dist[np.ix_(rows, open_)]  # w.jump + w.shape · dist, in place: the same float32 sums
            trans *= w.shape
            trans += w.jump
            for cheap in (rows, nxt[rows]):  # the two cheap ones were scored above (open_ is sorted)
                at = np.minimum(np.searchsorted(open_, cheap), open_.size - 1)
                hit = np.flatnonzero(open_[at] == cheap)
                trans[hit, at[hit]] = np.inf
            total = score[rows, None] + trans
            pick = np.argmin(total, axis=0)
            low, first = total[pick, np.arange(open_.size)], rows[pick]
            better = (low < best[open_]) | ((low == best[open_]) & (first < arg[open_]))
            best[open_[better]], arg[open_[better]] = low[better], first[better]
            if pos + BLOCK >= m:
                break
            bound = score[order[pos + BLOCK]] + w.jump
            open_ = open_[best[open_] >= bound]
            if open_.size == 0:
                break
        back[t] = arg
        score = best + costs[t]
    return _backtrack(score, back)


def entries_by_frame(inv: MouthInventory) -> dict[int, int]:
    """Source frame → its inventory entry (the last, should one repeat), once per inventory:
    every row's search reads it, and building it scanned the whole recording."""
    return derived(inv, "entries_by_frame", lambda: {int(f): e for e, f in enumerate(inv.frames)})


def _links(inv: MouthInventory, where: dict[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Per entry, the entry of the frame before it and of the frame after it (-1: none)."""
    prev = np.array([where.get(int(f) - 1, -1) for f in inv.frames], np.int64)
    nxt = np.full(inv.size, -1, np.int64)
    nxt[prev[prev >= 0]] = np.nonzero(prev >= 0)[0]
    return prev, nxt


def choose_mouths(
    inv: MouthInventory,
    targets: list[FrameTarget],
    weights: Weights | None = None,
    max_offset: int | None = None,
    closure: float = float("nan"),
    pinned: dict[int, int] | None = None,
    context: PhoneContext | None = None,
    sizes: np.ndarray | None = None,
) -> np.ndarray:
    """Inventory entry for each target frame (`closure`, `pinned`, `context`, `sizes`: see `match_costs`)."""
    if not targets:
        return np.zeros(0, np.int64)
    w = weights or Weights()
    return viterbi_pruned(match_costs(inv, targets, w, max_offset, closure, pinned, context, sizes), inv, w)


def viseme_index(name: str) -> int:
    return NAMES.index(name)
