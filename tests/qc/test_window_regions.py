"""QC reads a window frame's luma (and its source frame's) only in regions: the face box for
the seam measure, the lips box for double exposure and sharpness (qc/visual.py `pair`,
`luma_regions_of`). On real spliced rows every visual metric, failure and curve is the same
as with both frames converted whole (the code before); the rows do take the region path;
and the figures do read those regions (a window frame's luma changed there changes them)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from tests.qc.test_around_slots import _row
from tests.qc.test_kept_frames import _measured


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, Any]]:
    file, frames, _ = _row(1, tmp_path_factory.mktemp("window-regions") / "x1")
    report = frames.report or {}
    boxed = {**report, "face_box": [180, 210, 340, 420]}
    heads = {**boxed, "interpolated": [[40, 0.25], [51, 0.75]]}  # heads at both seams
    return file, {
        "no box": frames,
        "face box": dataclasses.replace(frames, report=boxed),
        "heads": dataclasses.replace(frames, report=heads),
    }


@pytest.mark.media
def test_figures_are_the_same_as_with_whole_frames(rows: tuple[Any, dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    import vpipe.qc.visual as qv
    from vpipe.qc.pairs import luma_of

    file, variants = rows
    with monkeypatch.context() as whole:  # as before: every frame's luma converted whole
        whole.setattr(qv, "luma_regions_of", luma_of)
        before = {name: _measured(file, frames) for name, frames in variants.items()}
    made: list[Any] = []
    real = qv.luma_regions_of
    monkeypatch.setattr(qv, "luma_regions_of", lambda frame: made.append(real(frame)) or made[-1])
    for name, frames in variants.items():
        made.clear()
        assert _measured(file, frames) == before[name], name
        assert len(made) >= 12  # the 12 window frames (and their source frames) read by region


@pytest.mark.media
def test_the_figures_read_the_window_frames_regions(
    rows: tuple[Any, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    import vpipe.qc.visual as qv

    file, variants = rows
    frames = variants["face box"]
    before = _measured(file, frames)
    real = qv.luma_regions_of

    class Brighter:  # a window frame's luma 3 levels up wherever it is read
        def __init__(self, frame: Any) -> None:
            self.regions = real(frame)
            self.shape = self.regions.shape

        def __getitem__(self, key: Any) -> np.ndarray:
            return self.regions[key] + np.float32(3.0)

    monkeypatch.setattr(qv, "luma_regions_of", lambda frame: Brighter(frame) if frame is not None else None)
    assert _measured(file, frames) != before


def test_luma_regions_of_stands_for_luma_of() -> None:
    import av

    from vpipe.media.decode import LumaRegions
    from vpipe.qc.pairs import luma_of, luma_regions_of

    frame = av.VideoFrame(64, 48, "yuv420p")
    regions = luma_regions_of(frame)
    assert isinstance(regions, LumaRegions) and regions[:, :].tobytes() == luma_of(frame).tobytes()
