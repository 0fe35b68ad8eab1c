"""The topology constants agree with mediapipe's own connection sets, and the measures are right
on hand-made landmarks (exact numbers) and batched/NaN input."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from vpipe.face import landmarks as L


def _adjacency(edges: frozenset) -> dict[int, set[int]]:
    adj: dict[int, set[int]] = defaultdict(set)
    for a, b in edges:
        adj[a].add(b)
        adj[b].add(a)
    return adj


def _is_loop(loop: tuple[int, ...], edges: frozenset) -> bool:
    adj = _adjacency(edges)
    return set(loop) == set(adj) and all(loop[(k + 1) % len(loop)] in adj[v] for k, v in enumerate(loop))


@pytest.fixture(scope="module")
def conn():  # type: ignore[no-untyped-def]
    from mediapipe.python.solutions import face_mesh_connections

    return face_mesh_connections


def test_lip_loops_are_mediapipe_lip_rings(conn) -> None:  # type: ignore[no-untyped-def]
    outer = frozenset(e for e in conn.FACEMESH_LIPS if e[0] in L.OUTER_LIPS)
    inner = frozenset(e for e in conn.FACEMESH_LIPS if e[0] in L.INNER_LIPS)
    assert outer | inner == conn.FACEMESH_LIPS and not set(L.OUTER_LIPS) & set(L.INNER_LIPS)
    assert _is_loop(L.OUTER_LIPS, outer) and _is_loop(L.INNER_LIPS, inner)
    # both start at the image-left corner and run along the upper lip first
    assert L.OUTER_LIPS[0] == L.MOUTH_CORNERS[0] and L.OUTER_LIPS.index(L.UPPER_LIP_OUTER) < 10
    assert L.INNER_LIPS[0] == L.MOUTH_CORNERS_INNER[0] and L.INNER_LIPS.index(L.UPPER_LIP_INNER) < 10
    assert L.OUTER_LIPS[10] == L.MOUTH_CORNERS[1] and L.INNER_LIPS[10] == L.MOUTH_CORNERS_INNER[1]
    for upper, lower in L.INNER_LIP_PAIRS:
        assert L.INNER_LIPS.index(upper) < 10 < L.INNER_LIPS.index(lower)


def test_oval_jaw_eyes_match_mediapipe(conn) -> None:  # type: ignore[no-untyped-def]
    assert _is_loop(L.FACE_OVAL, conn.FACEMESH_FACE_OVAL) and L.FACE_OVAL[0] == L.FOREHEAD
    start = L.FACE_OVAL.index(454)
    assert tuple(reversed(L.FACE_OVAL[start : L.FACE_OVAL.index(234) + 1])) == L.JAW
    assert L.JAW[len(L.JAW) // 2] == L.CHIN
    # mediapipe's RIGHT eye is the subject's right = image-left
    assert _is_loop(L.EYE_LOOP_LEFT, conn.FACEMESH_RIGHT_EYE) and L.EYE_OUTER[0] in L.EYE_LOOP_LEFT
    assert _is_loop(L.EYE_LOOP_RIGHT, conn.FACEMESH_LEFT_EYE) and L.EYE_OUTER[1] in L.EYE_LOOP_RIGHT
    iris = {a for e in conn.FACEMESH_IRISES for a in e}
    assert all(c not in iris and c < L.NUM_LANDMARKS for c in L.IRIS_CENTERS)  # centres are not on the rings
    nose = {a for e in conn.FACEMESH_NOSE for a in e}
    assert set(L.NOSE_RIDGE) <= nose


def test_rigid_points_avoid_speech_regions() -> None:
    assert not set(L.RIGID) & (set(L.LIPS) | set(L.JAW[1:-1]) | {L.CHIN})
    assert {*L.EYE_OUTER, L.NOSE_BRIDGE, L.SUBNASALE} <= set(L.RIGID)


def _face(gap: float, width: float = 60.0) -> np.ndarray:
    lm = np.zeros((L.NUM_LANDMARKS, 3))
    lm[:, :2] = [300.0, 300.0]
    lm[L.MOUTH_CORNERS[0], :2] = [270.0, 400.0]
    lm[L.MOUTH_CORNERS[1], :2] = [270.0 + width, 400.0]
    for up, low in L.INNER_LIP_PAIRS:
        lm[up, :2], lm[low, :2] = [300.0, 400.0 - gap / 2], [300.0, 400.0 + gap / 2]
    lm[L.EYE_OUTER[0], :2], lm[L.EYE_OUTER[1], :2] = [250.0, 300.0], [350.0, 300.0]
    lm[L.OUTER_LIPS, :2] = lm[L.OUTER_LIPS, :2] + [5.0, 0.0]
    lm[0, :2], lm[1, :2] = [200.0, 150.0], [420.0, 480.0]
    return lm


def test_measures_on_known_geometry() -> None:
    lm = _face(gap=12.0, width=60.0)
    assert L.mouth_width(lm) == pytest.approx(60.0)
    assert L.lip_gap(lm) == pytest.approx(12.0)
    assert L.mouth_aperture(lm) == pytest.approx(0.2)
    assert L.inter_ocular(lm) == pytest.approx(100.0)
    assert np.allclose(L.face_box(lm), [200.0, 150.0, 420.0, 480.0])
    assert L.mouth_aperture(_face(gap=0.0)) == 0.0
    # scale-free: the same face twice as large has the same aperture
    big = lm.copy()
    big[:, :2] *= 2.0
    assert L.mouth_aperture(big) == pytest.approx(0.2)


def test_measures_batch_and_nan() -> None:
    batch = np.stack([_face(6.0), _face(18.0), np.full((L.NUM_LANDMARKS, 3), np.nan)])
    ap = L.mouth_aperture(batch)
    assert ap.shape == (3,) and np.allclose(ap[:2], [0.1, 0.3]) and np.isnan(ap[2])
    assert L.mouth_center(batch).shape == (3, 2) and L.face_box(batch).shape == (3, 4)
    assert np.isnan(L.face_box(batch)[2]).all()
    assert L.mouth_aperture(batch[:, :, :2])[1] == pytest.approx(0.3)  # (478, 2) works too


def test_box_iou() -> None:
    a = np.array([0.0, 0.0, 10.0, 10.0])
    assert L.box_iou(a, a) == 1.0
    assert L.box_iou(a, a + 20.0) == 0.0
    assert L.box_iou(a, np.array([5.0, 0.0, 15.0, 10.0])) == pytest.approx(50 / 150)
