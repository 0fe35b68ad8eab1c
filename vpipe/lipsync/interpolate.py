"""Motion-compensated frame interpolation: the picture between two source frames.

An elastic slot plays its window slower or faster than it was recorded, so most of its
output frames show a moment between two source frames. Repeating the nearer frame makes the
head stutter (a frame shown twice, then a jump); cross-fading the two doubles every edge.
Instead, dense optical flow (OpenCV's DIS) is measured both ways between the frames, each is
warped to the in-between moment along it, and the two are blended by how close the moment
is to each. Landmarks, which are points, are interpolated linearly.

Between adjacent frames of a talking head the motion is a few pixels and smooth, so the
flow and the sampling maps are computed on a copy at most FLOW_WIDTH wide and scaled up;
only the final sampling runs at full size (measured: the same PSNR as flow at full size,
~10-20 ms per 524-700 px frame on one core).
"""

from __future__ import annotations

import functools

import numpy as np

FLOW_WIDTH = 320  # frames wider than this get their flow measured at half size or less


def between(
    a: np.ndarray, b: np.ndarray, phase: float, region: tuple[int, int, int, int] | None = None
) -> np.ndarray:
    """The BGR image `phase` (0..1) of the way from frame `a` to frame `b`; with `region`
    (x0, y0, x1, y1, inside the frame) only that part of it, the same pixels: the flow and the
    sampling maps are the whole frame's, and each pixel is sampled and blended on its own
    (QC draws only the face region of a head: qc/heads.py)."""
    import cv2

    x0, y0, x1, y1 = region if region is not None else (0, 0, a.shape[1], a.shape[0])
    if phase <= 0.0:
        return a if region is None else a[y0:y1, x0:x1]
    if phase >= 1.0:
        return b if region is None else b[y0:y1, x0:x1]
    h, w = a.shape[:2]
    scale = 1
    while w // scale > FLOW_WIDTH:
        scale *= 2
    small = (w // scale, h // scale)
    gray_a = cv2.resize(cv2.cvtColor(a, cv2.COLOR_BGR2GRAY), small, interpolation=cv2.INTER_AREA)
    gray_b = cv2.resize(cv2.cvtColor(b, cv2.COLOR_BGR2GRAY), small, interpolation=cv2.INTER_AREA)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
    forward = dis.calc(gray_a, gray_b, None)  # a(x) ≈ b(x + forward(x)), in small pixels
    backward = dis.calc(gray_b, gray_a, None)
    # The in-between pixel at x came from a at x − phase·forward and from b at x − (1 − phase)·backward
    # (the flow at x stands in for the flow at the unknown origin: motion is small and smooth).
    # The sampling maps are built at the flow's size and scaled up: the field is smooth.
    # (a small pixel's centre is at scale·x + (scale − 1)/2 in the full frame)
    centres = _grid(small[1], small[0]) * scale + (scale - 1) / 2
    part = (slice(y0, y1), slice(x0, x1))
    from_a = _sample(a, centres - (phase * scale) * forward, (w, h), part)
    from_b = _sample(b, centres - ((1 - phase) * scale) * backward, (w, h), part)
    return cv2.addWeighted(from_a, 1 - phase, from_b, phase, 0.0)


@functools.cache
def _grid(height: int, width: int) -> np.ndarray:
    """(x, y) of every pixel centre, float32 (height, width, 2)."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    return np.dstack([xs, ys])


def _sample(
    image: np.ndarray, where: np.ndarray, size: tuple[int, int], part: tuple[slice, slice]
) -> np.ndarray:
    """`image` sampled at the positions `where` (a coarse map in full-size pixels), scaled to
    `size`, over `part` of it (remap reads each output pixel's own map entry only)."""
    import cv2

    if where.shape[1] != size[0]:
        where = cv2.resize(where, size, interpolation=cv2.INTER_LINEAR)
    return cv2.remap(image, np.ascontiguousarray(where[part]), None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def between_points(a: np.ndarray, b: np.ndarray, phase: float) -> np.ndarray:
    """Landmarks `phase` of the way from `a` to `b` (a where b is missing)."""
    if not np.isfinite(b).all():
        return a
    return (1 - phase) * a + phase * b
