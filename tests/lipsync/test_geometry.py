"""Face geometry for compositing (vpipe.lipsync.geometry) and the landmark mesh warp
(vpipe.lipsync.meshwarp), on a real frame of glasses_woman.mp4 and its tracked landmarks.

Expected motions come from an independent implementation: OpenCV's warpAffine of the whole
frame by the same affine map the landmarks were moved by."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.lipsync.sources import frames, source
from vpipe.face import landmarks as L
from vpipe.lipsync.geometry import (
    MARGIN,
    NOSE_CUT,
    apply,
    down_axis,
    face_size,
    lower_face_box,
    lower_face_polygon,
    similarity_transform,
)
from vpipe.lipsync.meshwarp import build_mesh, warp
from vpipe.qc.visual import psnr

FRAME = 30


def _similarity(angle_deg: float, scale: float, tx: float, ty: float) -> np.ndarray:
    a = math.radians(angle_deg)
    return np.array(
        [[scale * math.cos(a), -scale * math.sin(a), tx], [scale * math.sin(a), scale * math.cos(a), ty]], np.float64
    )


def _real() -> tuple[np.ndarray, np.ndarray, float]:
    src = source("glasses_woman")
    return frames(src.path)[FRAME], src.face.landmarks[FRAME].astype(np.float64), src.inventory.scale


def test_similarity_transform_recovers_a_known_similarity() -> None:
    """Points moved by a rotation + uniform scale + translation give back that matrix;
    NaN points (absent landmarks) are ignored; `apply` maps points by it."""
    rng = np.random.default_rng(3)
    src = rng.uniform(0, 500, (32, 2))
    m = _similarity(17.0, 1.3, 40.0, -25.0)
    dst = src @ m[:, :2].T + m[:, 2]
    assert np.allclose(similarity_transform(src, dst), m, atol=1e-9)
    src_nan = src.copy()
    src_nan[[3, 9]] = np.nan
    dst_noisy = dst.copy()
    dst_noisy[[3, 9]] = 1e6  # would ruin the fit if used
    assert np.allclose(similarity_transform(src_nan, dst_noisy), m, atol=1e-9)
    assert np.allclose(apply(m, src), dst)


@pytest.mark.media
def test_lower_face_polygon_on_a_real_face() -> None:
    """The polygon lies below the cut under the nose (along the head's own down axis), holds
    the whole mouth, and does not reach up to the eyes."""
    import cv2

    _, lm, scale = _real()
    poly = lower_face_polygon(lm, scale)
    d = down_axis(lm)
    cut = lm[L.SUBNASALE, :2] + NOSE_CUT * scale * d
    assert ((poly - cut) @ d >= -1e-6).all()
    contour = poly.astype(np.float32).reshape(-1, 1, 2)
    for p in lm[list(L.LIPS), :2]:
        assert cv2.pointPolygonTest(contour, (float(p[0]), float(p[1])), False) > 0
    eyes = lm[list(L.EYE_LOOP_LEFT + L.EYE_LOOP_RIGHT), 1]
    assert poly[:, 1].min() > eyes.max()
    box = lower_face_box(lm, scale)
    grow = MARGIN * scale
    assert box[:2] == pytest.approx(poly.min(axis=0) - grow) and box[2:] == pytest.approx(poly.max(axis=0) + grow)


@pytest.mark.media
def test_lower_face_polygon_turns_with_a_tilted_head() -> None:
    """Rotating the landmarks by 25° rotates the polygon with them: the cut follows the
    head's axis, not the image rows."""
    _, lm, scale = _real()
    centre = lm[:, :2].mean(axis=0)
    r = _similarity(25.0, 1.0, 0.0, 0.0)
    r[:, 2] = centre - r[:, :2] @ centre
    tilted = lm.copy()
    tilted[:, :2] = apply(r, lm)
    assert np.allclose(lower_face_polygon(tilted, scale), apply(r, lower_face_polygon(lm, scale)), atol=1e-6)


def test_lower_face_polygon_degenerate_falls_back_to_the_mouth() -> None:
    """A jaw that lies entirely above the nose cut (garbage landmarks) gives the mouth's
    outline grown by 1.6 about its centre, not an empty region."""
    lm = np.zeros((L.NUM_LANDMARKS, 3))
    lm[L.NOSE_BRIDGE, :2] = (100, 50)
    lm[L.CHIN, :2] = (100, 60)
    lm[L.SUBNASALE, :2] = (100, 200)
    angles = np.linspace(0, 2 * np.pi, len(L.OUTER_LIPS), endpoint=False)
    lips = np.stack([100 + 20 * np.cos(angles), 230 + 8 * np.sin(angles)], axis=1)
    lm[list(L.OUTER_LIPS), :2] = lips
    poly = lower_face_polygon(lm, 50.0)
    assert np.allclose(poly, lips.mean(axis=0) + (lips - lips.mean(axis=0)) * 1.6)


@pytest.mark.media
def test_identity_warp_changes_nothing() -> None:
    """Landmarks left where they are: the warped frame equals the frame, bit for bit."""
    img, lm, _ = _real()
    mesh = build_mesh(lm, (img.shape[1], img.shape[0]))
    out = warp(img, mesh, lm[:, :2])
    assert np.array_equal(out, img)


@pytest.mark.media
@pytest.mark.parametrize(
    ("angle", "scale", "tx", "ty"), [(0.0, 1.0, 6.0, 4.0), (3.0, 1.05, -2.0, 3.0), (-4.0, 0.97, 1.5, -2.5)]
)
def test_affine_displacement_moves_the_face_by_that_affine(angle: float, scale: float, tx: float, ty: float) -> None:
    """All landmarks moved by one affine map A (about the face centre): inside the landmarks'
    hull (away from the fixed ring) the warped frame matches the whole frame warped by A with
    OpenCV (PSNR > 50 dB; measured ∞ for the pure shift, 72 dB otherwise), while that region
    differs from the unmoved frame (PSNR < 30 dB; measured 19.5-21 dB); outside the mesh's box
    nothing changes."""
    import cv2

    img, lm, _ = _real()
    centre = lm[:, :2].mean(axis=0)
    a = _similarity(angle, scale, 0.0, 0.0)
    a[:, 2] = centre - a[:, :2] @ centre + (tx, ty)
    mesh = build_mesh(lm, (img.shape[1], img.shape[0]))
    out = warp(img, mesh, apply(a, lm))
    expected = cv2.warpAffine(img, a, (img.shape[1], img.shape[0]), flags=cv2.INTER_LINEAR)
    hull = cv2.convexHull(apply(a, lm).astype(np.float32)).astype(np.int32)
    inside = np.zeros(img.shape[:2], np.uint8)
    cv2.fillConvexPoly(inside, hull, 255)
    inside = cv2.erode(inside, np.ones((15, 15), np.uint8)) > 0
    assert psnr(out[inside], expected[inside]) > 50
    assert psnr(out[inside], img[inside]) < 30
    x0, y0, x1, y1 = mesh.box
    outside = np.ones(img.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert outside.any() and np.array_equal(out[outside], img[outside])


@pytest.mark.media
def test_face_size_is_the_scale_the_similarity_fits() -> None:
    """On studio_woman (her head moves: sizes differ by up to ~10 %), the similarity fitted from
    one frame's rigid points to another's scales by the ratio of their face sizes, to within
    1 % (Cauchy-Schwarz makes the ratio an upper bound: equal when the two point sets differ
    by a similarity only); and a known similarity scales the size exactly."""
    lm = source("studio_woman").face.landmarks.astype(np.float64)
    size = face_size(lm)
    frames_ = [k for k in range(0, len(lm), 7) if np.isfinite(size[k])]
    assert len(frames_) >= 10 and np.nanmax(size) / np.nanmin(size) > 1.05
    for a, b in zip(frames_, frames_[1:] + frames_[:1], strict=True):
        m = similarity_transform(lm[a, list(L.RIGID), :2], lm[b, list(L.RIGID), :2])
        fitted = math.sqrt(abs(np.linalg.det(m[:, :2])))
        assert fitted <= size[b] / size[a] + 1e-9
        assert fitted == pytest.approx(size[b] / size[a], rel=0.01)
    moved = lm[frames_[0]].copy()
    moved[:, :2] = apply(_similarity(12.0, 1.3, 40.0, -7.0), moved[:, :2])
    assert face_size(moved[None])[0] == pytest.approx(1.3 * size[frames_[0]])
