"""The window mask (lipsync/timeline.py `within`): which output frames QC tracks as
re-rendered, and which frames the lip-sync backends render and keep."""

from __future__ import annotations

import numpy as np

from vpipe.lipsync.timeline import within


def test_within_is_the_frame_loop_it_replaces() -> None:
    """The window mask equals the per-frame loop it replaced on frame times at
    25 fps and irregular ones, windows touching frame times exactly, overlapping, empty."""
    rng = np.random.default_rng(3)
    regular = [k / 25 for k in range(3000)]
    irregular = np.sort(rng.uniform(0, 120, 2000)).tolist()
    window_sets = [[], [(1.0, 2.0)], [(0.04, 0.08), (0.08, 0.2)], [(5.0, 6.5), (6.0, 7.0), (119.96, 200.0)]]
    window_sets += [[tuple(sorted(rng.uniform(0, 120, 2).tolist())) for _ in range(3)] for _ in range(5)]
    for times in (regular, irregular, np.asarray(regular), []):
        for windows in window_sets:
            loop = np.array([any(a <= t < b for a, b in windows) for t in times], dtype=bool)
            assert np.array_equal(within(times, windows), loop)
