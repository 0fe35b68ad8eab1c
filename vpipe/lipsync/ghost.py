"""Double exposure and sharpness of a mouth, measured on luma pictures.

Double exposure: a frame whose mouth is a cross-dissolve of two different mouths.

Alpha-blending the recorded mouth with a transplanted one (at the ease into or out of a
re-animated run) shows both at once: see-through teeth over closed lips. Natural motion
never looks like that: between two frames, lips and teeth *move*, they do not fade. So a
frame is suspicious when, inside its lips' box, a pixel-wise mix of its two neighbours
(k − 1 and k + 1) explains it much better than either neighbour alone:

    ghost = min(|F − A|, |F − B|) / |F − (α·A + (1 − α)·B)|     (mean absolute luma)

with α fitted by least squares. A frame equal to a neighbour scores ≈ 1; a mid-motion
frame of real speech scores low (a blend of the neighbours has two edges where the frame
has one); a 50 % dissolve of the neighbours scores high. Only frames whose neighbours
differ clearly (mean |A − B| ≥ MIN_CHANGE) are scored: where nothing changes, there is
nothing to expose twice. The source's own frames give the natural value of the measure.

Sharpness: the variance of the Laplacian inside the lips' box (teeth, lip lines and mouth
corners are where it lives). A re-animated frame shows a source mouth moved onto it; its
sharpness against that same mouth's in the source says what the transplant lost.
"""

from __future__ import annotations

import numpy as np

# Mean absolute luma difference of the neighbours below which a frame is not scored. Measured on
# studio_woman (lips box): the eased-in mixes of two mouths sit between neighbours 10-23 levels
# apart; below ~5 levels the ratio is noise (a still mouth scored 2.65 at 4.3 levels).
MIN_CHANGE = 6.0
FLOOR = 0.75  # luma levels: a blend residual below this is codec noise


def ghost_score(previous: np.ndarray, frame: np.ndarray, following: np.ndarray) -> tuple[float, float]:
    """(ghost, alpha) of `frame` between its neighbours (same-size float luma crops);
    ghost is NaN where the neighbours hardly differ."""
    a = previous.astype(np.float64)
    b = following.astype(np.float64)
    f = frame.astype(np.float64)
    d = a - b
    if float(np.abs(d).mean()) < MIN_CHANGE:
        return float("nan"), float("nan")
    alpha = float(np.clip(((f - b) * d).sum() / max(float((d * d).sum()), 1e-9), 0.0, 1.0))
    blend = float(np.abs(f - (b + alpha * d)).mean())
    single = min(float(np.abs(f - a).mean()), float(np.abs(f - b).mean()))
    return single / max(blend, FLOOR), alpha


def lips_box(landmarks: np.ndarray, shape: tuple[int, int], grow: float = 0.25) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) around the outer lips of one frame's landmarks, grown by `grow` of its size."""
    from vpipe.face import landmarks as L

    lips = landmarks[list(L.OUTER_LIPS), :2]
    if not np.isfinite(lips).all():
        return None
    (x0, y0), (x1, y1) = lips.min(axis=0), lips.max(axis=0)
    gx, gy = (x1 - x0) * grow, (y1 - y0) * grow + 0.1 * (x1 - x0)
    h, w = shape
    box = (int(max(0, x0 - gx)), int(max(0, y0 - gy)), int(min(w, x1 + gx + 1)), int(min(h, y1 + gy + 1)))
    return box if box[2] - box[0] >= 4 and box[3] - box[1] >= 4 else None


def ghost_scores(lumas: list[np.ndarray], boxes: list[tuple[int, int, int, int] | None]) -> np.ndarray:
    """Ghost score of every frame of a sequence (NaN at the ends, where a box is missing, or
    where the neighbours hardly differ). `boxes[k]` is frame k's lips box."""
    out = np.full(len(lumas), np.nan)
    for k in range(1, len(lumas) - 1):
        box = boxes[k]
        if box is None:
            continue
        x0, y0, x1, y1 = box
        out[k] = ghost_score(lumas[k - 1][y0:y1, x0:x1], lumas[k][y0:y1, x0:x1], lumas[k + 1][y0:y1, x0:x1])[0]
    return out


def mouth_sharpness(luma: np.ndarray, landmarks: np.ndarray) -> float:
    """Variance of the Laplacian of `luma` in the lips' box of `landmarks` (NaN: no box)."""
    import cv2

    box = lips_box(landmarks, luma.shape[:2])
    if box is None:
        return float("nan")
    x0, y0, x1, y1 = box
    crop = np.ascontiguousarray(luma[y0:y1, x0:x1], np.float32)
    return float(cv2.Laplacian(crop, cv2.CV_32F).var())
