"""QC reads a window frame's luma only in regions (its face, its lips), so it converts only
those (media/decode.py `LumaRegions`, qc/pairs.py `luma_regions_of`): each region must be
`luma(frame)`'s, bit for bit, and the shape luma's, on every format and shape:
- 8-bit planar frames shown as stored (yuv420p/yuvj420p/yuv422p/yuvj422p/yuv444p/yuvj444p,
  gray, nv12; video and full range; odd and even sizes) convert only the region read, each
  sample on its own (luma itself is never called);
- any other frame (10-bit, packed RGB, a display matrix at each quarter turn) is converted
  whole by luma, once, and sliced;
- real decoded frames of a tuning clip and of the held-out portrait clip;
- a recording's stored picture (RecordingPicture) reads its Y rows the same way.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from tests.media import shared_media
from vpipe.media import decode
from vpipe.media.decode import LumaRegions, luma
from vpipe.qc.pairs import RecordingPicture, luma_regions_of


def _frame(rng: np.random.Generator, w: int, h: int, fmt: str, color_range: int = 1) -> Any:
    import av

    frame = av.VideoFrame(w, h, fmt)
    for plane in frame.planes:
        plane.update(rng.integers(0, 256, plane.buffer_size, dtype=np.uint8).tobytes())
    frame.color_range = color_range
    return frame


def _regions(h: int, w: int, rng: np.random.Generator) -> list[tuple[slice, slice]]:
    out = [(slice(None), slice(None)), (slice(0, 1), slice(0, 1)), (slice(h - 1, h), slice(w - 1, w))]
    for _ in range(10):
        y0, x0 = int(rng.integers(0, h)), int(rng.integers(0, w))
        out.append((slice(y0, int(rng.integers(y0 + 1, h + 1))), slice(x0, int(rng.integers(x0 + 1, w + 1)))))
    out.append((slice(-5, None), slice(3, -2)))  # any slices numpy takes
    return out


def _same_regions(frame: Any, regions: Any, rng: np.random.Generator) -> None:
    whole = luma(frame)
    assert regions.shape == whole.shape
    for key in _regions(*whole.shape, rng):
        got = regions[key]
        assert got.dtype == np.float32 and got.tobytes() == whole[key].tobytes(), key


EIGHT_BIT = ("yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "gray", "nv12")


@pytest.mark.parametrize("fmt", EIGHT_BIT)
def test_eight_bit_planar_frames_convert_only_the_region_read(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(5)
    sizes = [(2, 2), (64, 48), (524, 524), (1080, 1920), (700, 700)]
    if fmt in ("yuv444p", "yuvj444p", "gray"):
        sizes += [(63, 47), (17, 3), (1, 1)]
    for (w, h), color_range in itertools.product(sizes, (1, 2)):
        frame = _frame(rng, w, h, fmt, color_range)
        before = [bytes(p) for p in frame.planes]
        whole = luma(frame)
        with monkeypatch.context() as patched:  # the region path never converts the whole frame
            patched.setattr(decode, "luma", lambda _: pytest.fail("converted whole"))
            regions = LumaRegions(frame)
            got = [(key, regions[key]) for key in _regions(h, w, rng)]
        assert regions.shape == whole.shape == (h, w)
        for key, part in got:
            assert part.dtype == np.float32 and part.tobytes() == whole[key].tobytes(), (fmt, w, h, key)
        assert [bytes(p) for p in frame.planes] == before  # only read


@pytest.mark.parametrize("fmt", ["yuv420p10le", "yuv444p10le", "rgb24", "bgr24"])
def test_other_frames_are_converted_whole_once(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(6)
    real = decode.luma
    calls: list[int] = []
    monkeypatch.setattr(decode, "luma", lambda f: calls.append(1) or real(f))
    for w, h in ((64, 48), (62, 46), (524, 524)):
        frame = _frame(rng, w, h, fmt)
        calls.clear()
        regions = LumaRegions(frame)
        for key in _regions(h, w, rng):
            assert regions[key].tobytes() == real(frame)[key].tobytes()
        assert calls == [1]


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_a_display_matrix_turns_the_whole_frame_as_luma_does(turns: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(7)
    monkeypatch.setattr(decode, "quarter_turns", lambda frame: turns)
    for w, h in ((64, 48), (524, 300)):
        frame = _frame(rng, w, h, "yuv420p")
        regions = LumaRegions(frame)
        assert regions.shape == ((w, h) if turns % 2 else (h, w))
        _same_regions(frame, regions, rng)


@pytest.mark.media
@pytest.mark.parametrize("clip", ["glasses_woman.mp4", "portrait_hd.mp4"])
def test_real_decoded_frames(clip: str) -> None:
    rng = np.random.default_rng(8)
    frames = [f for i, _, f in decode.iter_decoded(shared_media(clip)) if i < 6]
    assert len(frames) == 6
    for frame in frames:
        _same_regions(frame, luma_regions_of(frame), rng)


def test_a_recordings_picture_reads_its_y_rows_the_same_way() -> None:
    rng = np.random.default_rng(9)
    for h, w in ((48, 64), (1920, 1080), (2, 2)):
        yuv = rng.integers(0, 256, (h * 3 // 2, w), dtype=np.uint8)
        picture = RecordingPicture(yuv)
        assert luma_regions_of(picture) is picture
        whole = picture.luma()
        assert picture.shape == whole.shape == (h, w)
        for key in _regions(h, w, rng):
            assert picture[key].dtype == np.float32 and picture[key].tobytes() == whole[key].tobytes()
