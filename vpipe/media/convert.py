"""Pixel conversion between decoded frames and the BGR images the lip-sync edits.

The two directions are a pair: a frame decoded to BGR and converted back gives the frame's
own planes again (62-99 dB on the shared clips, tests/kernels/test_media_convert.py), whatever
its size or pixel format, so re-rendered frames keep the colours of the untouched frames
around them. Both directions read the planes as BT.601 video range (what OpenCV's I420
conversion does); the stream's colour tag is ignored on both sides, so the pair stays inverse.

- BGR → frame is PyAV's own `reformat` (swscale) for every size and format, with accurate
  rounding and area-averaged chroma.
- frame → BGR keeps OpenCV's I420 conversion for 8-bit 4:2:0 at even sides (the common case,
  decoded for every frame the tracker sees): it is the better inverse of the step above (swscale's
  yuv→bgr loses 15 dB of luma on the round trip unless it interpolates chroma at full
  resolution, which costs 5-10× OpenCV's time). Other frames go through swscale with full
  chroma interpolation and accurate rounding.

Full-range frames (yuvj formats, or a full-range tag) are the one exception to "video range":
their samples are read as full range, and `bgr_to_frame(..., full_range=True)` writes them
back so, which keeps the pair inverse for them too.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _swscale(to_bgr: bool, full_range: bool = False) -> dict[str, Any]:
    from av.video.reformatter import Colorspace, Interpolation

    flags = Interpolation.ACCURATE_RND
    flags |= Interpolation.BILINEAR | Interpolation.FULL_CHR_H_INT if to_bgr else Interpolation.AREA
    side = "src" if to_bgr else "dst"
    return {
        "interpolation": flags,
        f"{side}_colorspace": Colorspace.ITU601,
        f"{side}_color_range": "JPEG" if full_range else "MPEG",
    }


def is_full_range(frame: Any) -> bool:
    """The frame's samples use the full 0-255 range (JPEG range) rather than video range."""
    return bool(frame.format.name.startswith("yuvj") or int(frame.color_range) == 2)


def plane_arrays(frame: Any) -> list[np.ndarray]:
    """Views of an 8-bit planar frame's planes, without their line padding."""
    out = []
    for plane in frame.planes:
        view = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
        out.append(view[: plane.height, : plane.width])
    return out


def frame_to_bgr(frame: Any) -> np.ndarray:
    """A decoded av.VideoFrame as a BGR uint8 image (height × width × 3)."""
    import cv2

    i420 = _i420(frame)
    if i420 is not None:
        return cv2.cvtColor(i420, cv2.COLOR_YUV2BGR_I420)
    return frame.reformat(format="bgr24", **_swscale(True, is_full_range(frame))).to_ndarray()


def frame_to_rgb(frame: Any) -> np.ndarray:
    """frame_to_bgr's image in RGB order, bit for bit (what cv2.COLOR_BGR2RGB makes of it): cv2
    converts I420 to RGB by the same arithmetic as to BGR, writing the channels the other way
    round (tests/kernels/test_frame_to_rgb.py, every even size); other frames are swapped."""
    import cv2

    i420 = _i420(frame)
    if i420 is not None:
        return cv2.cvtColor(i420, cv2.COLOR_YUV2RGB_I420)
    return cv2.cvtColor(frame_to_bgr(frame), cv2.COLOR_BGR2RGB)


def _i420(frame: Any) -> np.ndarray | None:
    """A video-range yuv420p frame of even sides (cv2's I420) as one (h·3/2, w) array, else None."""
    w, h = frame.width, frame.height
    if frame.format.name == "yuv420p" and w % 2 == 0 and h % 2 == 0 and not is_full_range(frame):
        y, u, v = plane_arrays(frame)
        return np.concatenate([y.reshape(-1), u.reshape(-1), v.reshape(-1)]).reshape(h * 3 // 2, w)
    return None


def bgr_to_frame(image: np.ndarray, pix_fmt: str, full_range: bool = False) -> Any:
    """A BGR uint8 image as an av.VideoFrame in `pix_fmt` (full-range samples when
    `full_range` or a yuvj format): PyAV's own conversion, any size."""
    import av

    source = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
    return source.reformat(format=pix_fmt, **_swscale(False, full_range or pix_fmt.startswith("yuvj")))
