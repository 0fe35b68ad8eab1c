"""mediapipe FaceMesh topology (478 points with refine_landmarks) and small measures on landmarks.

The index loops are written out rather than derived from `mediapipe.solutions.face_mesh_connections`
at import time so that this module needs only numpy; `tests/face/test_landmarks.py` checks them
against mediapipe's own connection sets. "Left"/"right" below always mean the IMAGE side (the
subject's right eye is image-left).

Every function takes landmarks of shape (..., 478, 2|3) in pixels (x right, y down) and uses only
x, y, so it works for one frame (478, k) or a whole track (N, 478, k); NaN (absent) frames give NaN.
"""

from __future__ import annotations

import numpy as np

NUM_LANDMARKS = 478  # 468 mesh points + 10 iris points (refine_landmarks=True)

# Index tables stay compact (one table per line group), not one number per line.
# fmt: off

# Outer lip contour, from the image-left mouth corner along the upper lip, back along the lower lip.
OUTER_LIPS: tuple[int, ...] = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409,
                               291, 375, 321, 405, 314, 17, 84, 181, 91, 146)
# Inner lip contour (the mouth opening), same orientation, from the image-left inner corner.
INNER_LIPS: tuple[int, ...] = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415,
                               308, 324, 318, 402, 317, 14, 87, 178, 88, 95)
LIPS: tuple[int, ...] = OUTER_LIPS + INNER_LIPS

MOUTH_CORNERS: tuple[int, int] = (61, 291)  # outer corners, image-left, image-right
MOUTH_CORNERS_INNER: tuple[int, int] = (78, 308)
UPPER_LIP_OUTER, LOWER_LIP_OUTER = 0, 17  # vermilion border, centre
UPPER_LIP_INNER, LOWER_LIP_INNER = 13, 14  # inner lip centre (the aperture pair)
# Vertical inner-lip pairs (upper, lower) across the opening: image-left, centre, image-right.
# Averaging three pairs makes the aperture robust to an asymmetric or slightly turned mouth.
INNER_LIP_PAIRS: tuple[tuple[int, int], ...] = ((82, 87), (13, 14), (312, 317))
OUTER_LIP_PAIRS: tuple[tuple[int, int], ...] = ((37, 84), (0, 17), (267, 314))

NOSE_TIP = 1
SUBNASALE = 2  # under the nose, where the septum meets the upper lip
NOSE_BRIDGE = 168  # between the eyes
NOSE_RIDGE: tuple[int, ...] = (168, 6, 197, 195, 5, 4, 1)  # bridge down to the tip
CHIN = 152
FOREHEAD = 10  # top of the face oval

# Face oval, 36 points, from the forehead top (10) clockwise in the image.
FACE_OVAL: tuple[int, ...] = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365,
                              379, 378, 400, 377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93,
                              234, 127, 162, 21, 54, 103, 67, 109)
# Jaw line: the lower part of the oval, ear to ear through the chin, image-left to image-right.
JAW: tuple[int, ...] = (234, 93, 132, 58, 172, 136, 150, 149, 176, 148, 152,
                        377, 400, 378, 379, 365, 397, 288, 361, 323, 454)

EYE_OUTER: tuple[int, int] = (33, 263)  # outer eye corners, image-left, image-right
EYE_INNER: tuple[int, int] = (133, 362)
IRIS_CENTERS: tuple[int, int] = (468, 473)  # only with refine_landmarks=True
# Eye contours (16 points each) as closed loops, image-left eye then image-right eye.
EYE_LOOP_LEFT: tuple[int, ...] = (7, 33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163)
EYE_LOOP_RIGHT: tuple[int, ...] = (249, 263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374,
                                   373, 390)

# Points that do not move with speech or expression (forehead, nose ridge, eye corners, temples;
# no lips, jaw or brows): what head pose and stabilisation are fitted on.
RIGID: tuple[int, ...] = (10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 2, 98, 327, 33, 133, 362, 263,
                          127, 356, 234, 454, 162, 389, 54, 284, 103, 332, 67, 297, 109, 338)
# fmt: on


def _dist(lm: np.ndarray, a: int, b: int) -> np.ndarray:
    return np.linalg.norm(lm[..., a, :2] - lm[..., b, :2], axis=-1)


def mouth_width(lm: np.ndarray) -> np.ndarray | float:
    """Distance between the outer mouth corners (61-291) in pixels."""
    return _dist(lm, *MOUTH_CORNERS)


def inter_ocular(lm: np.ndarray) -> np.ndarray | float:
    """Distance between the outer eye corners (33-263) in pixels: the face scale that does not
    change with speech (mouth width does, a little, with smiles and rounded vowels)."""
    return _dist(lm, *EYE_OUTER)


def lip_gap(lm: np.ndarray) -> np.ndarray | float:
    """Mean inner-lip opening over the three vertical pairs, in pixels."""
    return np.mean([_dist(lm, a, b) for a, b in INNER_LIP_PAIRS], axis=0)


def mouth_aperture(lm: np.ndarray) -> np.ndarray | float:
    """Inner-lip gap divided by mouth width: scale-free, ~0.000-0.003 closed, 0.25-0.45 wide open.

    Normalising by the mouth's own width (not the image) makes the value comparable across
    speakers, zoom and distance (measured mouth width/IOD is 0.56-0.58 on all three speakers)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return lip_gap(lm) / mouth_width(lm)


def mouth_center(lm: np.ndarray) -> np.ndarray:
    """Mean of the outer lip contour (x, y): where a mouth patch is centred."""
    return np.mean(lm[..., list(OUTER_LIPS), :2], axis=-2)


def face_box(lm: np.ndarray) -> np.ndarray:
    """Landmark extent (x0, y0, x1, y1) in pixels; NaN for an absent frame."""
    xy = lm[..., :2]
    return np.concatenate([xy.min(axis=-2), xy.max(axis=-2)], axis=-1)


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0
