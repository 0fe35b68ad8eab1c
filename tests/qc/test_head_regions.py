"""QC draws only the face region of an interpolated head (qc/heads.py: the seam measure reads
nothing else), and that region must be, pixel for pixel, the whole head's:
- `interpolate.between(..., region)` is the whole in-between picture's region on real frames
  of the three tuning clips, at every phase kind, for regions inside, at the borders, of one
  pixel and of the whole frame (the flow and the maps stay the whole frame's; each pixel is
  sampled and blended on its own);
- the writer's conversion (`bgr_to_frame` to yuv420p, then `decode.luma`) gives each pixel's
  luma from that pixel alone: a region converted on its own is the whole image's luma there,
  on every frame size (odd and even) and at every offset (odd ones too);
- `interpolated_references(..., box)` on a real spliced row is the whole heads, drawn as
  before this change (kept here as the oracle), cropped to the box: for a box inside the
  frame, one the frame clamps, and none.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from tests.lipsync.sources import frames
from tests.media import shared_media
from tests.qc.test_around_slots import _row
from vpipe.lipsync.interpolate import between
from vpipe.media.convert import bgr_to_frame
from vpipe.media.decode import luma
from vpipe.qc.copied_figures import crop, face_region
from vpipe.qc.heads import interpolated_references


def _regions(h: int, w: int, rng: np.random.Generator) -> list[tuple[int, int, int, int]]:
    fixed = [(0, 0, w, h), (0, 0, 1, 1), (w - 1, h - 1, w, h), (0, h // 3, w // 2, h), (w // 4, 0, w, h // 2)]
    for _ in range(12):
        x0, y0 = int(rng.integers(0, w - 1)), int(rng.integers(0, h - 1))
        fixed.append((x0, y0, int(rng.integers(x0 + 1, w + 1)), int(rng.integers(y0 + 1, h + 1))))
    return fixed


@pytest.mark.media
@pytest.mark.parametrize("name", ["interview_man", "glasses_woman", "studio_woman"])
def test_a_region_of_the_in_between_picture_is_the_whole_ones(name: str) -> None:
    images = frames(shared_media(f"{name}.mp4"))
    rng = np.random.default_rng(7)
    h, w = images[0].shape[:2]
    for k, phase in ((40, 0.3), (41, 0.75), (90, 0.5), (12, 0.0), (13, 1.0)):
        a, b = images[k], images[k + 1]
        whole = between(a, b, phase)
        for x0, y0, x1, y1 in _regions(h, w, rng):
            np.testing.assert_array_equal(between(a, b, phase, (x0, y0, x1, y1)), whole[y0:y1, x0:x1])


def test_a_region_of_a_small_or_odd_frame_is_the_whole_ones() -> None:
    """Frames no wider than the flow's width (maps at full size: not scaled) and odd sizes."""
    rng = np.random.default_rng(3)
    for h, w in ((48, 64), (37, 51), (241, 333), (590, 590)):
        a = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        b = np.roll(a, (2, 3), axis=(0, 1))  # a small motion for the flow to find
        whole = between(a, b, 0.4)
        for x0, y0, x1, y1 in _regions(h, w, rng):
            np.testing.assert_array_equal(between(a, b, 0.4, (x0, y0, x1, y1)), whole[y0:y1, x0:x1])


def test_the_writers_conversion_gives_each_pixels_luma_from_that_pixel_alone() -> None:
    rng = np.random.default_rng(11)
    for h, w in ((524, 524), (700, 700), (590, 590), (481, 853), (1920, 1080), (15, 17), (2, 2), (1, 3)):
        image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        whole = luma(bgr_to_frame(image, "yuv420p"))
        regions = _regions(h, w, rng) if h > 1 and w > 1 else [(0, 0, w, h), (1, 0, 2, 1)]
        for x0, y0, x1, y1 in regions:
            part = luma(bgr_to_frame(image[y0:y1, x0:x1], "yuv420p"))
            np.testing.assert_array_equal(part, whole[y0:y1, x0:x1])


def test_face_region_is_crops_clamped_box() -> None:
    image = np.arange(20 * 30).reshape(20, 30)
    assert face_region(image.shape, (5, 4, 12, 9)) == (5, 4, 12, 9)
    assert face_region(image.shape, (-3, -2, 40, 25)) == (0, 0, 30, 20)
    assert face_region(image.shape, None) is None and face_region(image.shape, (10, 5, 10, 9)) is None
    assert face_region(image.shape, (31, 0, 40, 5)) is None  # wholly outside: the whole image
    np.testing.assert_array_equal(crop(image, (5, 4, 12, 9)), image[4:9, 5:12])
    assert crop(image, (10, 5, 10, 9)) is image


def _whole_heads(path: Path, report: dict[str, object], source_index: np.ndarray) -> dict[int, np.ndarray]:
    """The oracle: every referenced head drawn over the whole frame and converted whole, as
    interpolated_references did before it drew only the face region."""
    images = frames(path)
    out = {}
    for k, phase in report["interpolated"]:  # type: ignore[attr-defined]
        f = int(source_index[k])
        head = between(images[f], images[f + 1], float(phase))
        out[int(k)] = luma(bgr_to_frame(head, "yuv420p")).astype(np.float32)
    return out


@pytest.mark.media
def test_references_are_the_whole_heads_face_region(tmp_path: Path) -> None:
    from vpipe.media.decode import frame_timing
    from vpipe.qc import visual as qv
    from vpipe.qc.pairs import stream_gops

    _, frames_, _ = _row(1, tmp_path / "x1")
    report = {**(frames_.report or {}), "interpolated": [[40, 0.25], [51, 0.75]]}
    interp = dataclasses.replace(frames_, report=report)
    seams = qv._seams(interp)
    src_pts = frame_timing(frames_.source).pts
    keys = stream_gops(frames_.source).starts
    whole = _whole_heads(frames_.source, report, interp.source_index)
    assert sorted(whole) == [40, 51]
    for box in ([180, 210, 340, 420], [-20, 300, 600, 700], None):  # inside, clamped, none
        got = interpolated_references(interp, report, seams, src_pts, keys, box=box)
        assert sorted(got) == [40, 51]
        for k in got:
            assert got[k].dtype == np.float32
            np.testing.assert_array_equal(got[k], crop(whole[k], box))
    # the oracle sees the heads: another phase gives another face region
    other = {**report, "interpolated": [[40, 0.5], [51, 0.75]]}
    box = [180, 210, 340, 420]
    moved = interpolated_references(dataclasses.replace(frames_, report=other), other, seams, src_pts, keys, box=box)
    assert not np.array_equal(moved[40], crop(whole[40], box))
