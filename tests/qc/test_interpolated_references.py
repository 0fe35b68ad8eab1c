"""QC's interpolated references (the head an elastic window's frame next to a seam was drawn
on) decode the source frames around the window's start and around its end each from their own
keyframe, not every frame between: the same pictures, so the same references to the bit."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.qc.test_around_slots import _row
from vpipe.qc.heads import by_gop, interpolated_references


def test_by_gop_splits_where_a_keyframe_lies_between() -> None:
    keys = (0, 12, 24, 36, 48)
    assert by_gop([38, 39, 50, 51], keys) == [[38, 39], [50, 51]]
    assert by_gop([38, 39, 47, 48], keys) == [[38, 39, 47], [48]]
    assert by_gop([47, 48], keys) == [[47], [48]]
    assert by_gop([40, 41, 46], keys) == [[40, 41, 46]]  # one GOP: decoded on
    assert by_gop([3, 40], ()) == [[3, 40]]  # GOPs not known (or not closed): one part
    assert by_gop([3, 40], (5, 12)) == [[3], [40]]  # before the first start: from the start
    assert by_gop([], keys) == []


@pytest.mark.media
def test_references_are_the_same_decoded_in_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import vpipe.media.decode as decode
    from vpipe.media.decode import frame_timing
    from vpipe.qc import visual as qv
    from vpipe.qc.pairs import stream_gops

    _, frames, _ = _row(1, tmp_path / "x1")
    # frames 40 and 51 (the painted run's first and last) drawn on heads between source frames:
    # their references need source frames 40, 41 (GOP 3) and 51, 52 (GOP 4)
    report = {**(frames.report or {}), "interpolated": [[40, 0.25], [51, 0.75]]}
    interp = dataclasses.replace(frames, report=report)
    seams = qv._seams(interp)
    assert 40 in seams and 52 in seams
    src_pts = frame_timing(frames.source).pts
    keys = stream_gops(frames.source).starts
    real = decode.iter_decoded
    counts: list[int] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        counts.append(0)
        for item in real(*args, **kwargs):
            counts[-1] += 1
            yield item

    monkeypatch.setattr(decode, "iter_decoded", counted)
    whole = interpolated_references(interp, report, seams, src_pts)
    decoded_whole, counts[:] = list(counts), []
    parts = interpolated_references(interp, report, seams, src_pts, keys)
    assert sorted(whole) == sorted(parts) == [40, 51]
    for k in whole:
        np.testing.assert_array_equal(parts[k], whole[k])
    assert decoded_whole == [17]  # 36 .. 52, one pass
    assert counts == [6, 5]  # 36 .. 41 and 48 .. 52
