"""Face crops for the neural lip-sync models, from vpipe's own FaceMesh track, and paste-back.

No extra face detector: the tracked 478 landmarks (smoothed by the tracker) place every crop,
and a frame without a usable face is passed through untouched instead of aborting the run.

- MuseTalk 1.5: the face's box (forehead to chin, made square) with `CHIN_MARGIN` extra at
  the chin (v1.5's `extra_margin` 10 px), resized to 256². Paste-back blends only the lower
  face through a feathered mask from the landmarks (MuseTalk uses BiSeNet "jaw" parsing; vpipe
  has no parser and uses the jaw line it already tracks), never the square box.
- LatentSync: a similarity warp that puts both eyebrow centres and the nose centre on the
  published template (`affine_transform.py`: (17, 20), (58, 20), (37.5, 40) × 2.8 in a
  210 × 280 face at 256, scaled with the resolution), then stretched to the square input;
  paste-back by the inverse warp through an eroded, feathered mask (their restorer's method).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vpipe.face import landmarks as L
from vpipe.lipsync.geometry import lower_face_polygon, similarity_transform

CHIN_MARGIN = 10  # pixels below the chin, MuseTalk v1.5 `extra_margin`
BROW_LEFT = (70, 63, 105, 66, 107)  # FaceMesh eyebrow points, image-left
BROW_RIGHT = (300, 293, 334, 296, 336)
NOSE_CENTRE = (195, 5, 4, 1)
TEMPLATE_256 = np.array([[17.0, 20.0], [58.0, 20.0], [37.5, 40.0]]) * 2.8
FACE_SIZE_256 = (75 * 2.8, 100 * 2.8)  # (width, height) of their aligned face before the resize


@dataclass(frozen=True)
class Crop:
    """Where a model's square input comes from: `matrix` maps frame pixels to crop pixels."""

    matrix: np.ndarray  # 2×3 float64
    size: int


def musetalk_crop(lm: np.ndarray, size: int = 256, margin: float = CHIN_MARGIN) -> Crop:
    oval = lm[list(L.FACE_OVAL), :2].astype(np.float64)
    x0, y0 = oval.min(axis=0)
    x1, y1 = oval.max(axis=0)
    y1 += margin
    side = max(x1 - x0, y1 - y0)
    cx = (x0 + x1) / 2
    x0, y0 = cx - side / 2, y1 - side  # keep the chin margin: grow upwards
    s = size / side
    return Crop(np.array([[s, 0.0, -x0 * s], [0.0, s, -y0 * s]]), size)


def latentsync_crop(lm: np.ndarray, size: int) -> Crop:
    points = np.stack(
        [
            lm[list(BROW_LEFT), :2].mean(axis=0),
            lm[list(BROW_RIGHT), :2].mean(axis=0),
            lm[list(NOSE_CENTRE), :2].mean(axis=0),
        ]
    ).astype(np.float64)
    k = size / 256.0
    m = similarity_transform(points, TEMPLATE_256 * k)
    stretch = np.diag([size / (FACE_SIZE_256[0] * k), size / (FACE_SIZE_256[1] * k)])
    return Crop(_stretch(m, stretch), size)


def _stretch(m: np.ndarray, s: np.ndarray) -> np.ndarray:
    return np.hstack([s @ m[:, :2], (s @ m[:, 2])[:, None]])


def cut(frame: np.ndarray, crop: Crop) -> np.ndarray:
    import cv2

    return cv2.warpAffine(
        frame, crop.matrix, (crop.size, crop.size), flags=cv2.INTER_LANCZOS4, borderMode=cv2.BORDER_REPLICATE
    )


def lower_face_alpha(lm: np.ndarray, shape: tuple[int, int], scale: float) -> np.ndarray:
    """Feathered (h, w) float32 mask of the lower face (below the nose, inside the jaw line)."""
    import cv2

    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(lower_face_polygon(lm, scale)).astype(np.int32)], 255)
    k = max(1, round(0.04 * scale))
    mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1, 2 * k + 1)))
    return cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), max(0.5, 0.07 * scale))


def paste(
    frame: np.ndarray, face: np.ndarray, crop: Crop, region: np.ndarray | None, strength: float = 1.0
) -> np.ndarray:
    """`frame` with the model's output `face` warped back. `region` (frame-sized, 0–1) limits
    where it lands (the lower face); None uses the whole crop, eroded and feathered. Only pixels
    under the mask change."""
    import cv2

    h, w = frame.shape[:2]
    inverse = cv2.invertAffineTransform(crop.matrix)
    back = cv2.warpAffine(face, inverse, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    inside = cv2.warpAffine(np.full((crop.size, crop.size), 255, np.uint8), inverse, (w, h), flags=cv2.INTER_NEAREST)
    edge = max(2, crop.size // 64)
    inside = cv2.erode(inside, np.ones((2 * edge + 1, 2 * edge + 1), np.uint8))
    alpha = cv2.GaussianBlur(inside.astype(np.float32) / 255.0, (0, 0), edge)
    alpha *= inside > 0
    if region is not None:
        alpha = np.minimum(alpha, region)
    alpha = (alpha * float(np.clip(strength, 0.0, 1.0)))[..., None]
    out = frame.astype(np.float32) * (1 - alpha) + back.astype(np.float32) * alpha
    return np.clip(np.round(out), 0, 255).astype(np.uint8)
