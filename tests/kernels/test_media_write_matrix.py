"""The encoder over a matrix of frame sizes and pixel formats: odd sides, heights that are
2 mod 4 (590×590, 640×362, 1080×1350 — common social-media sizes that crashed the hand-written
I420 packing), portrait, 4:2:2, 4:4:4 and 10-bit. Each re-rendered (BGR) frame is encoded
losslessly (x264 at crf 0), decoded again, and compared plane by plane with PyAV's own
accurate conversion of the same image: the writer may round differently by a level, never
more, and never crashes or shifts the picture."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from vpipe.data.audio import Audio
from vpipe.media.write import VideoSettings, WriteError, encode

SIZES = [(590, 590), (640, 362), (1080, 1350), (854, 480), (64, 66), (360, 640)]
ODD_SIZES = [(853, 480), (853, 481), (33, 17)]
FORMATS = ["yuv420p", "yuv422p", "yuv444p", "yuv420p10le"]
TB = Fraction(1, 25)


def picture(w: int, h: int, i: int) -> np.ndarray:
    """A BGR frame with smooth gradients, sharp colour edges and a moving square."""
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([(xx * 255 // max(w - 1, 1)), (yy * 255 // max(h - 1, 1)), (xx + yy + 40 * i) % 256], -1)
    img = img.astype(np.uint8)
    s = max(4, min(w, h) // 5)
    x0, y0 = (7 + 11 * i) % max(w - s, 1), (5 + 7 * i) % max(h - s, 1)
    img[y0 : y0 + s, x0 : x0 + s] = (30, 200, 250)
    img[h // 3 :: 7, :] = (250, 20, 60)  # one-pixel stripes of saturated colour: chroma edges
    return img


def pyav_planes(image: np.ndarray, pix_fmt: str) -> list[np.ndarray]:
    """PyAV's own conversion (swscale, accurate rounding, BT.601) of a BGR image, as planes."""
    import av
    from av.video.reformatter import Colorspace, Interpolation

    flags = Interpolation.AREA | Interpolation.ACCURATE_RND | Interpolation.FULL_CHR_H_INP
    frame = av.VideoFrame.from_ndarray(image, format="bgr24").reformat(
        format=pix_fmt, interpolation=flags, dst_colorspace=Colorspace.ITU601
    )
    return planes(frame)


def planes(frame) -> list[np.ndarray]:  # type: ignore[no-untyped-def]
    dtype = np.uint16 if frame.format.name.endswith("10le") else np.uint8
    out = []
    for plane in frame.planes:
        view = np.frombuffer(plane, dtype).reshape(-1, plane.line_size // np.dtype(dtype).itemsize)
        out.append(view[: plane.height, : plane.width].copy())
    return out


def encode_images(images: list[np.ndarray], target: Path, pix_fmt: str, codec: str = "h264", crf: int = 0) -> int:
    h, w = images[0].shape[:2]
    audio = Audio(np.zeros((1600, 1), np.float32), 16000)
    return encode(
        lambda: ((i * float(TB), img) for i, img in enumerate(images)),
        (w, h),
        TB,
        audio,
        target,
        VideoSettings(codec=codec, crf=crf, preset="ultrafast"),
        pix_fmt,
    )


def decoded(path: Path) -> list:  # type: ignore[type-arg]
    import av

    with av.open(str(path)) as c:
        return list(c.decode(c.streams.video[0]))


def psnr(a: np.ndarray, b: np.ndarray, peak: float) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(peak**2 / mse)


@pytest.mark.parametrize("pix_fmt", FORMATS)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_rendered_frames_encode_as_pyav_converts_them(size: tuple[int, int], pix_fmt: str, tmp_path: Path) -> None:
    w, h = size
    images = [picture(w, h, i) for i in range(2)]
    out = tmp_path / f"{w}x{h}-{pix_fmt}.mp4"
    assert encode_images(images, out, pix_fmt) == 2
    frames = decoded(out)
    assert len(frames) == 2
    peak = 1023.0 if pix_fmt.endswith("10le") else 255.0
    level = 4 if pix_fmt.endswith("10le") else 1  # one 8-bit level
    for frame, image in zip(frames, images, strict=True):
        assert (frame.width, frame.height, frame.format.name) == (w, h, pix_fmt)
        got, want = planes(frame), pyav_planes(image, pix_fmt)
        assert [p.shape for p in got] == [p.shape for p in want]
        luma_error = int(np.abs(got[0].astype(np.int32) - want[0]).max())
        assert luma_error <= level, f"{w}x{h} {pix_fmt}: luma differs from PyAV's by {luma_error}"
        for name, g, e in zip("YUV", got, want, strict=True):
            assert psnr(g, e, peak) >= 50, f"{w}x{h} {pix_fmt} {name}: {psnr(g, e, peak):.1f} dB from PyAV's"


@pytest.mark.parametrize("size", ODD_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_odd_sizes_encode_where_the_codec_allows_them(size: tuple[int, int], tmp_path: Path) -> None:
    """x264 takes odd sides in 4:4:4, VP9 in 4:2:0 too (lossy: compared within codec noise);
    x264 refuses 4:2:0 at odd sides, which is a clean WriteError, not a crash."""
    w, h = size
    images = [picture(w, h, i) for i in range(2)]
    out444 = tmp_path / "odd444.mp4"
    encode_images(images, out444, "yuv444p")
    for frame, image in zip(decoded(out444), images, strict=True):
        got, want = planes(frame), pyav_planes(image, "yuv444p")
        assert (frame.width, frame.height) == (w, h)
        assert int(np.abs(got[0].astype(np.int32) - want[0]).max()) <= 1
    out_vp9 = tmp_path / "odd420.webm"
    encode_images(images, out_vp9, "yuv420p", codec="vp9", crf=4)
    for frame, image in zip(decoded(out_vp9), images, strict=True):
        got, want = planes(frame), pyav_planes(image, "yuv420p")
        assert [p.shape for p in got] == [p.shape for p in want]
        assert psnr(got[0], want[0], 255) >= 38
    with pytest.raises(WriteError):
        encode_images(images, tmp_path / "odd-h264.mp4", "yuv420p")
