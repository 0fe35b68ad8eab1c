"""Image-plane geometry of the face for compositing: similarity fits and the lower-face region.

The region a mouth transplant may change is the face below the nose: the jaw line from
cheek to cheek, cut by a line just under the nose, perpendicular to the head's vertical
axis (so a tilted head is cut along its own axis, not the image's).
"""

from __future__ import annotations

import numpy as np

from vpipe.face import landmarks as L

NOSE_CUT = 0.03  # the cut line runs this far (× inter-ocular) below the subnasale
MARGIN = 0.12  # crops extend this far (× inter-ocular) beyond the region


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """2×3 matrix M of the similarity (rotation, uniform scale, translation) minimising
    |M·src − dst|² over the points (Umeyama 1991, in the plane). src, dst: (K, 2)."""
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    ok = np.isfinite(src).all(axis=1) & np.isfinite(dst).all(axis=1)
    src, dst = src[ok], dst[ok]
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    a, b = src - mu_s, dst - mu_d
    # In complex numbers the similarity is z ↦ c·z: c = Σ conj(a)·b / Σ |a|².
    za = a[:, 0] + 1j * a[:, 1]
    zb = b[:, 0] + 1j * b[:, 1]
    c = np.vdot(za, zb) / max(np.vdot(za, za).real, 1e-12)
    rot = np.array([[c.real, -c.imag], [c.imag, c.real]])
    t = mu_d - rot @ mu_s
    return np.hstack([rot, t[:, None]])


def face_size(landmarks: np.ndarray) -> np.ndarray:
    """(N,) the RMS distance of each frame's rigid (upper-face) landmarks from their centre, in
    pixels: the size `similarity_transform` scales between (the scale it fits from frame a's
    rigid points to frame b's is about size b / size a). NaN where a point is missing."""
    pts = np.asarray(landmarks, np.float64)[:, list(L.RIGID), :2]
    centred = pts - pts.mean(axis=1, keepdims=True)
    return np.sqrt((centred**2).sum(axis=2).mean(axis=1))


def apply(m: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points[..., :2] @ m[:, :2].T + m[:, 2]


def down_axis(lm: np.ndarray) -> np.ndarray:
    """Unit vector from the nose bridge towards the chin (the head's 'down')."""
    d = lm[L.CHIN, :2] - lm[L.NOSE_BRIDGE, :2]
    return d / max(float(np.linalg.norm(d)), 1e-9)


def lower_face_polygon(lm: np.ndarray, scale: float) -> np.ndarray:
    """Polygon (P, 2) of the lower face: the jaw line below the cut under the nose."""
    d = down_axis(lm)
    cut_point = lm[L.SUBNASALE, :2] + NOSE_CUT * scale * d
    jaw = lm[list(L.JAW), :2].astype(np.float64)
    depth = (jaw - cut_point) @ d  # > 0 below the cut
    poly: list[np.ndarray] = []
    for k in range(len(jaw) - 1):
        p, q, dp, dq = jaw[k], jaw[k + 1], depth[k], depth[k + 1]
        if dp >= 0:
            poly.append(p)
        if (dp >= 0) != (dq >= 0):  # the jaw line crosses the cut: add the crossing
            t = dp / (dp - dq)
            poly.append(p + t * (q - p))
    if depth[-1] >= 0:
        poly.append(jaw[-1])
    if len(poly) < 3:  # degenerate landmarks: fall back to the mouth's hull, grown
        lips = lm[list(L.OUTER_LIPS), :2]
        c = lips.mean(axis=0)
        return c + (lips - c) * 1.6
    return np.asarray(poly)


def lower_face_box(lm: np.ndarray, scale: float) -> np.ndarray:
    """(x0, y0, x1, y1) of the lower-face polygon grown by the crop margin."""
    poly = lower_face_polygon(lm, scale)
    grow = MARGIN * scale
    return np.array(
        [poly[:, 0].min() - grow, poly[:, 1].min() - grow, poly[:, 0].max() + grow, poly[:, 1].max() + grow]
    )
