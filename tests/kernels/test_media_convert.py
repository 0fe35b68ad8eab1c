"""Decoding to BGR and converting back is the identity within rounding, at every size and
pixel format: a re-rendered frame keeps the colours of the untouched frames around it. Measured
on a real frame (glasses_woman.mp4) resized to each shape; the sizes include odd sides and
heights that are 2 mod 4, which the old hand-written I420 packing could not take."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.media import shared_media
from vpipe.media.convert import bgr_to_frame, frame_to_bgr

SIZES = [(524, 524), (590, 590), (640, 362), (853, 480), (853, 481), (360, 640), (201, 113)]
FORMATS = ["yuv420p", "yuv422p", "yuv444p", "yuv420p10le"]
# lowest PSNR (dB) of a round trip, luma and chroma: measured ≥ 62 dB luma and ≥ 59.7 dB chroma
# over this matrix (swscale's default yuv→bgr alone gives 44-47 dB of luma); 10-bit loses its
# two low bits in BGR.
LUMA_FLOOR, CHROMA_FLOOR = 60.0, 55.0


@pytest.fixture(scope="module")
def natural() -> np.ndarray:
    import av

    with av.open(str(shared_media("glasses_woman.mp4"))) as c:
        for i, frame in enumerate(c.decode(video=0)):
            if i == 30:
                return frame.to_ndarray(format="bgr24")
    raise AssertionError("glasses_woman.mp4 is shorter than 30 frames")


def planes(frame) -> list[np.ndarray]:  # type: ignore[no-untyped-def]
    dtype = np.uint16 if frame.format.name.endswith("10le") else np.uint8
    out = []
    for plane in frame.planes:
        view = np.frombuffer(plane, dtype).reshape(-1, plane.line_size // np.dtype(dtype).itemsize)
        out.append(view[: plane.height, : plane.width].astype(np.float64))
    return out


def psnr(a: np.ndarray, b: np.ndarray, peak: float) -> float:
    mse = float(np.mean((a - b) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(peak**2 / mse)


def decoded_frame(image: np.ndarray, size: tuple[int, int], pix_fmt: str, colorspace: int | None = None):  # type: ignore[no-untyped-def]
    """A frame as a decoder hands it over: `image` cropped or resized, in `pix_fmt`, maybe tagged."""
    import av
    import cv2

    w, h = size
    if w <= image.shape[1] and h <= image.shape[0]:  # a crop keeps the detail of a real frame
        y0, x0 = (image.shape[0] - h) // 2, (image.shape[1] - w) // 2
        resized = image[y0 : y0 + h, x0 : x0 + w]
    else:
        resized = cv2.resize(image, size, interpolation=cv2.INTER_CUBIC)
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(resized), format="bgr24").reformat(format=pix_fmt)
    if colorspace is not None:
        frame.colorspace = colorspace
    return frame


@pytest.mark.media
@pytest.mark.parametrize("pix_fmt", FORMATS)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_decode_then_encode_gives_the_frame_back(natural: np.ndarray, size: tuple[int, int], pix_fmt: str) -> None:
    frame = decoded_frame(natural, size, pix_fmt)
    image = frame_to_bgr(frame)
    assert image.shape == (size[1], size[0], 3) and image.dtype == np.uint8
    back = bgr_to_frame(image, pix_fmt)
    assert (back.width, back.height, back.format.name) == (frame.width, frame.height, pix_fmt)
    peak = 1023.0 if pix_fmt.endswith("10le") else 255.0
    scores = [psnr(a, b, peak) for a, b in zip(planes(frame), planes(back), strict=True)]
    summary = f"{size} {pix_fmt}: Y/U/V {[round(s, 1) for s in scores]} dB"
    assert scores[0] >= LUMA_FLOOR and min(scores[1:]) >= CHROMA_FLOOR, summary


@pytest.mark.media
def test_a_bt709_tag_does_not_shift_the_colours_of_re_rendered_frames(natural: np.ndarray) -> None:
    """Both directions read the planes as BT.601, whatever the stream's tag says: a 709-tagged
    frame (portrait_hd.mp4 is one) comes back with its own values, at even and odd sizes."""
    for size, pix_fmt in (((640, 362), "yuv420p"), ((853, 481), "yuv444p")):
        frame = decoded_frame(natural, size, pix_fmt, colorspace=1)
        back = bgr_to_frame(frame_to_bgr(frame), pix_fmt)
        assert psnr(planes(frame)[0], planes(back)[0], 255.0) >= 55


def test_pure_colours_convert_as_bt601_video_range() -> None:
    """Grey levels and primaries land on BT.601 video-range values (16-235 luma, 128 neutral
    chroma) at an odd size: no full-range or BT.709 confusion, no plane shifted or swapped."""
    image = np.zeros((17, 33, 3), np.uint8)
    image[:, :11] = (0, 0, 0)
    image[:, 11:22] = (255, 255, 255)
    image[:, 22:] = (255, 0, 0)  # blue in BGR
    frame = bgr_to_frame(image, "yuv444p")
    y, u, v = planes(frame)
    assert np.abs(y[:, :11] - 16).max() <= 1 and np.abs(y[:, 11:22] - 235).max() <= 1
    assert np.abs(u[:, :22] - 128).max() <= 1 and np.abs(v[:, :22] - 128).max() <= 1
    # BT.601 blue: Y 41, U 240, V 110 (BT.709 would give Y 32, V 118)
    assert np.abs(y[:, 22:] - 41).max() <= 1 and np.abs(u[:, 22:] - 240).max() <= 1
    assert np.abs(v[:, 22:] - 110).max() <= 1
    assert np.array_equal(frame_to_bgr(frame)[:, :22], image[:, :22])
