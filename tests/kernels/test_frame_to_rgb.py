"""QC hands the tracker its window frames in RGB straight from the decoded frame
(media/convert.py frame_to_rgb, decode.to_rgb) instead of BGR that the tracker swapped:
the same image, bit for bit, as cv2.COLOR_BGR2RGB of frame_to_bgr / to_bgr, at every even
size of cv2's I420 path (random planes), on real decoded frames of the three tuning clips,
for the other formats and ranges (swapped as before), and turned upright."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest

from tests.media import shared_media
from vpipe.media import decode
from vpipe.media.convert import frame_to_bgr, frame_to_rgb


def _swapped(bgr: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)  # what the tracker did (face/tracker.py _rgb)


def _frame(rng: np.random.Generator, w: int, h: int, fmt: str = "yuv420p", color_range: int = 1):  # type: ignore[no-untyped-def]
    import av

    frame = av.VideoFrame(w, h, fmt)
    for plane in frame.planes:
        plane.update(rng.integers(0, 256, plane.buffer_size, dtype=np.uint8).tobytes())
    frame.color_range = color_range
    return frame


def test_every_even_size_of_the_i420_path() -> None:
    rng = np.random.default_rng(11)
    sizes = list(itertools.product(range(2, 98, 2), (2, 4, 6, 10, 34, 66)))
    sizes += [(524, 524), (1920, 1080), (1080, 1920), (1278, 720), (4096, 2)]
    for w, h in sizes:
        frame = _frame(rng, w, h)
        got, expected = frame_to_rgb(frame), _swapped(frame_to_bgr(frame))
        assert got.shape == expected.shape == (h, w, 3) and got.dtype == expected.dtype == np.uint8, (w, h)
        assert got.tobytes() == expected.tobytes(), (w, h)


@pytest.mark.parametrize(
    "fmt,color_range,size",
    [("yuv420p", 2, (64, 48)), ("yuvj420p", 2, (64, 48)), ("yuv420p", 1, (63, 47)), ("yuv444p", 1, (40, 30))],
)
def test_other_frames_are_swapped_as_before(fmt: str, color_range: int, size: tuple[int, int]) -> None:
    frame = _frame(np.random.default_rng(12), *size, fmt, color_range)
    assert frame_to_rgb(frame).tobytes() == _swapped(frame_to_bgr(frame)).tobytes()


@pytest.mark.parametrize("clip", ["glasses_woman.mp4", "interview_man.mp4", "studio_woman.mp4"])
def test_real_frames_and_every_quarter_turn(clip: str, monkeypatch: pytest.MonkeyPatch) -> None:
    frames = [f for i, _, f in decode.iter_decoded(shared_media(clip)) if i < 12]
    assert len(frames) == 12
    for turns in range(4):
        monkeypatch.setattr(decode, "quarter_turns", lambda frame, turns=turns: turns)
        for frame in frames:
            got, expected = decode.to_rgb(frame), _swapped(decode.to_bgr(frame))
            assert got.flags.c_contiguous and got.tobytes() == expected.tobytes() and got.shape == expected.shape
