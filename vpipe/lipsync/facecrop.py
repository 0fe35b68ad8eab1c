"""Square face crops from the FaceMesh track, for models trained on detector boxes.

Wav2Lip was trained on S3FD boxes (forehead to chin, 10 px more below, averaged over 5
frames) resized to 96×96. vpipe runs no second detector: the box is the extent of the
tracked (already smoothed) landmarks, made square around its centre, with a little room
below the chin, then averaged over the neighbouring usable frames. Frames whose face is
absent or turned too far have no box (NaN) and are passed through by the renderer.
"""

from __future__ import annotations

import numpy as np

GROW = 0.06  # × box side, on every side
CHIN_ROOM = 0.04  # × box side, extra below the chin (the authors' 10 px at 720p)
SMOOTH = 5  # frames averaged (centred), usable frames only


def face_boxes(landmarks: np.ndarray, usable: np.ndarray, smooth: int = SMOOTH) -> np.ndarray:
    """(N, 4) float boxes x0, y0, x1, y1 in pixels, NaN where the face is not usable."""
    n = landmarks.shape[0]
    raw = np.full((n, 4), np.nan)
    ok = np.asarray(usable, bool) & np.isfinite(landmarks[:, :, :2]).all(axis=(1, 2))
    if ok.any():
        xy = landmarks[ok, :, :2].astype(np.float64)
        lo, hi = xy.min(axis=1), xy.max(axis=1)
        centre = (lo + hi) / 2
        side = (hi - lo).max(axis=1) * (1 + 2 * GROW)
        centre[:, 1] += side * CHIN_ROOM / 2
        side = side * (1 + CHIN_ROOM)
        raw[ok] = np.column_stack([centre - side[:, None] / 2, centre + side[:, None] / 2])
    out = raw.copy()
    half = max(0, smooth // 2)
    idx = np.nonzero(ok)[0]
    for i in idx:
        near = idx[(idx >= i - half) & (idx <= i + half)]
        out[i] = raw[near].mean(axis=0)
    return out


def int_box(box: np.ndarray) -> tuple[int, int, int, int]:
    """The box on whole pixels (it may reach outside the frame)."""
    x0, y0 = int(np.floor(box[0])), int(np.floor(box[1]))
    side = max(2, round(max(box[2] - box[0], box[3] - box[1])))
    return x0, y0, x0 + side, y0 + side


def crop(image: np.ndarray, box: tuple[int, int, int, int], size: int) -> np.ndarray:
    """The box's pixels resized to size×size (parts outside the frame replicate its edge)."""
    import cv2

    x0, y0, x1, y1 = box
    sx, sy = size / (x1 - x0), size / (y1 - y0)
    m = np.array([[sx, 0, -x0 * sx], [0, sy, -y0 * sy]], np.float64)
    return cv2.warpAffine(image, m, (size, size), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)


def uncrop(patch: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """A size×size patch back at the box's own pixel size (placed at the box's origin)."""
    import cv2

    x0, y0, x1, y1 = box
    return cv2.resize(patch, (x1 - x0, y1 - y0), interpolation=cv2.INTER_CUBIC)
