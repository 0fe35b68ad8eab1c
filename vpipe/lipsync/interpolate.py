"""Motion-compensated frame interpolation: the picture between two source frames.

An elastic slot plays its window slower or faster than it was recorded, so most of its
output frames show a moment between two source frames. Repeating the nearer frame makes the
head stutter (a frame shown twice, then a jump); cross-fading the two doubles every edge.
Instead, dense optical flow (OpenCV's DIS) is measured both ways between the frames, each is
warped to the in-between moment along it, and the two are blended by how close the moment
is to each. Landmarks, which are points, are interpolated linearly.

Between adjacent frames of a talking head the motion is a few pixels, so the flow is
computed on a half-size copy when the frame is large (the field is smooth; the warp itself
runs at full size).
"""

from __future__ import annotations

import numpy as np

FLOW_WIDTH = 640  # frames wider than this get their flow measured at half size or less


def between(a: np.ndarray, b: np.ndarray, phase: float) -> np.ndarray:
    """The BGR image `phase` (0..1) of the way from frame `a` to frame `b`."""
    import cv2

    if phase <= 0.0:
        return a
    if phase >= 1.0:
        return b
    h, w = a.shape[:2]
    scale = 1
    while w // scale > FLOW_WIDTH:
        scale *= 2
    gray_a = cv2.cvtColor(a, cv2.COLOR_BGR2GRAY)
    gray_b = cv2.cvtColor(b, cv2.COLOR_BGR2GRAY)
    if scale > 1:
        size = (w // scale, h // scale)
        gray_a = cv2.resize(gray_a, size, interpolation=cv2.INTER_AREA)
        gray_b = cv2.resize(gray_b, size, interpolation=cv2.INTER_AREA)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
    forward = dis.calc(gray_a, gray_b, None)  # a(x) ≈ b(x + forward(x))
    backward = dis.calc(gray_b, gray_a, None)
    if scale > 1:
        forward = cv2.resize(forward, (w, h), interpolation=cv2.INTER_LINEAR) * scale
        backward = cv2.resize(backward, (w, h), interpolation=cv2.INTER_LINEAR) * scale
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    # The in-between pixel at x came from a at x − phase·forward and from b at x − (1 − phase)·backward
    # (the flow at x stands in for the flow at the unknown origin: motion is small and smooth).
    from_a = cv2.remap(
        a, xs - phase * forward[..., 0], ys - phase * forward[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    from_b = cv2.remap(
        b,
        xs - (1 - phase) * backward[..., 0],
        ys - (1 - phase) * backward[..., 1],
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return cv2.addWeighted(from_a, 1 - phase, from_b, phase, 0.0)


def between_points(a: np.ndarray, b: np.ndarray, phase: float) -> np.ndarray:
    """Landmarks `phase` of the way from `a` to `b` (a where b is missing)."""
    if not np.isfinite(b).all():
        return a
    return (1 - phase) * a + phase * b
