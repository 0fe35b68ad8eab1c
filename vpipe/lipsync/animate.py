"""Animate a still portrait to a narration: the `warp` backend.

Each frame deforms the face mesh towards the mouth the phones call for (jaw drop, lip
parting, rounding or spreading), paints the opened mouth's interior (a dark cavity with a
hint of upper teeth on open vowels), closes the eyelids now and then, and moves the whole
picture by a slow, subtle sway so the presenter does not look frozen. The motion is
deterministic: the same narration gives the same video.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from vpipe.data.alignment import Segment
from vpipe.face import landmarks as L
from vpipe.lipsync.meshwarp import Mesh, build_mesh, warp
from vpipe.lipsync.visemes import LIP_LEAD, VISEMES, frame_visemes, predicted_aperture

APERTURE_GAIN = 0.42  # viseme aperture 0.85 (open vowel) → lip gap ≈ 0.36 × mouth width
ROUND_GAIN = 0.12  # full rounding narrows the mouth by 12 %
BLINK_SECONDS = 0.16


@dataclass(frozen=True)
class Motion:
    aperture: float  # lip gap / mouth width wanted
    round: float  # −1 spread … +1 rounded
    blink: float  # 0 open … 1 closed
    sway: tuple[float, float, float]  # rotation (deg), dx, dy (pixels)


def motions(phones: list[Segment], times: np.ndarray, seed: int = 7) -> list[Motion]:
    ap = APERTURE_GAIN * predicted_aperture(phones, times)
    names = frame_visemes(phones, times, offset=LIP_LEAD)
    rounds = np.array([VISEMES[n].round for n in names], np.float64)
    if len(rounds) > 2:  # coarticulation: rounding spreads over neighbours
        rounds = np.convolve(np.pad(rounds, 1, mode="edge"), [0.25, 0.5, 0.25], mode="valid")
    rng = np.random.default_rng(seed)
    blinks: list[float] = []
    t = float(rng.uniform(0.8, 2.0))
    end = float(times.max()) if len(times) else 0.0
    while t < end:
        blinks.append(t)
        t += float(rng.uniform(2.5, 5.0))
    phases = rng.uniform(0, 2 * math.pi, 6)
    out = []
    for k, tt in enumerate(times):
        tt = float(tt)
        blink = max((max(0.0, 1 - abs(tt - b) / (BLINK_SECONDS / 2)) for b in blinks), default=0.0)
        rot = 0.6 * math.sin(2 * math.pi * 0.13 * tt + phases[0]) + 0.25 * math.sin(2 * math.pi * 0.31 * tt + phases[1])
        dx = 1.2 * math.sin(2 * math.pi * 0.09 * tt + phases[2]) + 0.4 * math.sin(2 * math.pi * 0.23 * tt + phases[3])
        dy = 0.8 * math.sin(2 * math.pi * 0.11 * tt + phases[4]) + 0.3 * math.sin(2 * math.pi * 0.27 * tt + phases[5])
        out.append(Motion(float(ap[k]), float(rounds[k]), blink, (rot, dx, dy)))
    return out


def _mouth_targets(lm: np.ndarray, m: Motion) -> np.ndarray:
    """Landmarks with the jaw dropped, lips parted and the width rounded/spread."""
    out = lm[:, :2].astype(np.float64).copy()
    width = float(L.mouth_width(lm))
    gap_now = float(L.lip_gap(lm))
    opening = max(0.0, m.aperture * width - gap_now)
    centre = L.mouth_center(lm)
    chin = lm[L.CHIN, :2]
    span_y = max(float(chin[1] - centre[1]), 1.0)
    face_w = max(float(np.ptp(lm[list(L.FACE_OVAL), 0])), 1.0)
    lower = set(L.OUTER_LIPS[11:]) | set(L.INNER_LIPS[11:]) | {L.LOWER_LIP_INNER, L.LOWER_LIP_OUTER}
    upper_inner = set(L.INNER_LIPS[1:10])
    half_width = max(width / 2, 1.0)
    for i in range(len(out)):
        x, y = out[i]
        # lips part most at the centre and not at all at the corners
        taper = math.cos(min(1.0, abs(x - centre[0]) / half_width) * math.pi / 2) ** 0.8
        if i in lower:
            down = opening * (0.25 + 0.75 * taper) if i in L.OUTER_LIPS else opening * taper
        elif i in upper_inner:
            down = -0.15 * opening * taper
        elif y > centre[1] + 0.05 * span_y:  # chin and jaw follow the lower lip, less further out
            depth = min(1.0, (y - centre[1]) / span_y)
            side = math.exp(-(((x - centre[0]) / (0.45 * face_w)) ** 2))
            down = opening * (0.9 - 0.25 * depth) * side
        else:
            down = 0.0
        out[i, 1] += down
    factor = 1.0 - ROUND_GAIN * m.round
    for i in set(L.LIPS):
        out[i, 0] = centre[0] + (out[i, 0] - centre[0]) * factor
    return out


def _eyelid_targets(points: np.ndarray, lm: np.ndarray, closure: float) -> np.ndarray:
    if closure <= 0:
        return points
    out = points.copy()
    for loop in (L.EYE_LOOP_LEFT, L.EYE_LOOP_RIGHT):
        upper = loop[2:9]
        lower = tuple(reversed(loop[10:16] + loop[:1]))
        for u, lo in zip(upper, lower, strict=True):
            out[u, 1] += closure * (lm[lo, 1] - lm[u, 1]) * 0.95
    return out


def _paint_mouth(image: np.ndarray, targets: np.ndarray, m: Motion) -> None:
    """Dark cavity inside the parted inner lips, upper teeth on open vowels."""
    import cv2

    inner = np.round(targets[list(L.INNER_LIPS)]).astype(np.int32)
    x0, y0 = inner.min(axis=0) - 3
    x1, y1 = inner.max(axis=0) + 4
    h, w = image.shape[:2]
    x0, y0, x1, y1 = max(int(x0), 0), max(int(y0), 0), min(int(x1), w), min(int(y1), h)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(mask, [inner - (x0, y0)], 255)
    if mask.sum() < 255 * 6:
        return
    alpha = cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), 1.0)[..., None]
    roi = image[y0:y1, x0:x1].astype(np.float32)
    lips = roi[mask > 0].mean(axis=0)
    cavity = np.empty_like(roi)
    rows = np.linspace(0.0, 1.0, roi.shape[0])[:, None, None]
    # the inside of a mouth: dark, warm (tongue and palate), darkest in the middle
    cavity[:] = lips * np.array([0.20, 0.20, 0.36]) + 8.0 + 22.0 * np.abs(rows - 0.5)
    top = targets[L.UPPER_LIP_INNER, 1] - y0
    gap = targets[L.LOWER_LIP_INNER, 1] - targets[L.UPPER_LIP_INNER, 1]
    if m.aperture > 0.12 and gap > 4:  # upper teeth: a soft band under the upper lip, middle of the mouth
        mouth_w = float(np.ptp(targets[list(L.OUTER_LIPS), 0]))
        teeth_h = min(0.3 * gap, 0.07 * mouth_w)
        yy = np.arange(roi.shape[0])[:, None] - top
        xx = np.arange(roi.shape[1])[None, :] + x0 - targets[L.UPPER_LIP_INNER, 0]
        band = (
            np.clip(1 - yy / max(teeth_h, 1.0), 0, 1) * (yy >= 0) * np.clip(1.3 - np.abs(xx) / (0.28 * mouth_w), 0, 1)
        )
        teeth = np.array([175.0, 182.0, 190.0])
        cavity = cavity * (1 - band[..., None]) + teeth * band[..., None]
    image[y0:y1, x0:x1] = np.clip(roi * (1 - alpha) + cavity * alpha, 0, 255).astype(np.uint8)


def _sway(image: np.ndarray, centre: tuple[float, float], sway: tuple[float, float, float]) -> np.ndarray:
    import cv2

    rot, dx, dy = sway
    m = cv2.getRotationMatrix2D(centre, rot, 1.02)  # slight zoom keeps the borders out of view
    m[:, 2] += (dx, dy)
    return cv2.warpAffine(
        image, m, (image.shape[1], image.shape[0]), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101
    )


def animate(
    image: np.ndarray, lm: np.ndarray, phones: list[Segment], times: np.ndarray, seed: int = 7
) -> list[np.ndarray]:
    """One BGR frame per time in `times`."""
    mesh: Mesh = build_mesh(lm, (image.shape[1], image.shape[0]))
    centre = (float(lm[L.NOSE_TIP, 0]), float(lm[L.NOSE_TIP, 1]))
    frames = []
    for m in motions(phones, times, seed):
        targets = _eyelid_targets(_mouth_targets(lm, m), lm, m.blink)
        frame = warp(image, mesh, targets)
        _paint_mouth(frame, targets, m)
        frames.append(_sway(frame, centre, m.sway))
    return frames
