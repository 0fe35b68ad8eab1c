"""Head pose and smoothing: exact recovery on synthetic geometry, and the direction of the
estimate on real images that are mirrored, rotated in-plane, or tilted in perspective."""

from __future__ import annotations

import numpy as np
import pytest

from tests.face.conftest import frames_of
from vpipe.face import landmarks as L
from vpipe.face.pose import euler_deg, head_pose, kabsch, reference_shape, zero_phase_lowpass


def _rot(yaw: float, pitch: float, roll: float) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    # face axes (columns) in camera coordinates: R = Rx(pitch) · Ry(yaw) · Rz(roll)
    return Rotation.from_euler("XYZ", [pitch, yaw, roll], degrees=True).as_matrix()


def test_euler_conventions() -> None:
    for yaw, pitch, roll in [(20.0, 0.0, 0.0), (0.0, 15.0, 0.0), (0.0, 0.0, -10.0), (12.0, -7.0, 5.0)]:
        assert np.allclose(euler_deg(_rot(yaw, pitch, roll)), [yaw, pitch, roll], atol=1e-9)
    # the documented meaning: yaw > 0 the face's forward direction (−z axis) points image-left;
    # pitch > 0 the forehead→chin axis (y) leans away from the camera (nod down);
    # roll > 0 the eye-to-eye axis (x) turns from image-right towards image-down (clockwise)
    assert (-_rot(30.0, 0.0, 0.0)[:, 2])[0] < 0
    assert _rot(0.0, 20.0, 0.0)[2, 1] > 0
    assert _rot(0.0, 0.0, 20.0)[1, 0] > 0


def test_kabsch_recovers_similarity_batched() -> None:
    rng = np.random.default_rng(0)
    src = rng.normal(size=(4, 32, 3)) * 50
    r_true = np.stack([_rot(*rng.uniform(-30, 30, 3)) for _ in range(4)])
    s_true, t_true = rng.uniform(0.5, 2.0, 4), rng.normal(size=(4, 3)) * 100
    dst = s_true[:, None, None] * src @ np.swapaxes(r_true, -1, -2) + t_true[:, None]
    r, s, t = kabsch(src, dst)
    assert np.allclose(r, r_true, atol=1e-9) and np.allclose(s, s_true) and np.allclose(t, t_true)
    r2, s2, _ = kabsch(src[0, :, :2], 2.0 * dst[0, :, :2])  # 2-D works too
    assert r2.shape == (2, 2) and np.isclose(np.linalg.det(r2), 1.0) and s2 > 0


def test_zero_phase_lowpass_no_lag_and_vfr() -> None:
    rng = np.random.default_rng(1)
    t = np.cumsum(rng.choice([1 / 30, 2 / 30], size=300))  # dropped frames, like interview_man
    slow = np.sin(2 * np.pi * 0.5 * t)
    noisy = slow + rng.normal(scale=0.2, size=t.size)
    out = zero_phase_lowpass(noisy[:, None], t, 2.0)[:, 0]
    assert np.std(out - slow) < 0.5 * np.std(noisy - slow)
    lags = range(-5, 6)
    best = max(lags, key=lambda k: np.corrcoef(np.roll(out, k)[10:-10], slow[10:-10])[0, 1])
    assert best == 0  # zero phase: no delay
    short = np.arange(3.0)[:, None]
    assert np.array_equal(zero_phase_lowpass(short, np.arange(3.0) / 30, 2.0), short)


@pytest.mark.media
def test_smoothing_never_crosses_a_gap(raw_tracks) -> None:  # type: ignore[no-untyped-def]
    track = raw_tracks["interview_man"]
    lm, present = track.landmarks.astype(np.float64), track.present.copy()
    present[50:60] = False
    lm[50:60] = np.nan
    _, smooth = head_pose(lm, present, track.times, 2.0)
    moved = lm.copy()
    moved[:50, :, 0] += 40.0  # the head jumps 40 px during the gap
    _, smooth_moved = head_pose(moved, present, track.times, 2.0)
    assert np.allclose(smooth_moved[60:], smooth[60:], atol=1e-3)  # untouched by what came before
    assert np.allclose(smooth_moved[:50, :, 0], smooth[:50, :, 0] + 40.0, atol=1e-3)
    assert np.isnan(smooth[50:60]).all() and np.isfinite(smooth[:50]).all() and np.isfinite(smooth[60:]).all()
    assert np.abs(smooth[:50] - lm[:50]).max() > 0.5  # but it did smooth


@pytest.mark.media
def test_reference_shape_is_speaker_mean(raw_tracks) -> None:  # type: ignore[no-untyped-def]
    lm = raw_tracks["studio_woman"].landmarks.astype(np.float64)
    ref = reference_shape(lm[:, list(L.RIGID)])
    r, s, t = kabsch(lm[:, list(L.RIGID)], ref[None])
    aligned = s[:, None, None] * lm[:, list(L.RIGID)] @ np.swapaxes(r, -1, -2) + t[:, None]
    resid = np.linalg.norm(aligned - ref, axis=-1).mean()
    iod = np.linalg.norm(ref[L.RIGID.index(L.EYE_OUTER[0])] - ref[L.RIGID.index(L.EYE_OUTER[1])])
    assert resid < 0.02 * iod  # the rigid points really are rigid: ~1 % of the eye distance


@pytest.fixture(scope="module")
def stills() -> dict[str, np.ndarray]:
    import cv2
    from matplotlib import cbook

    grace = cv2.imread(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    return {
        "grace_hopper": grace,
        "interview_man": frames_of("interview_man", 1)[0],
        "glasses_woman": frames_of("glasses_woman", 1)[0],
    }


def _pose(img: np.ndarray) -> np.ndarray:
    from vpipe.face.tracker import track_image

    track = track_image(np.ascontiguousarray(img))
    assert track.present[0]
    return track.pose[0].astype(np.float64)


def _centre(img: np.ndarray) -> tuple[float, float]:
    from vpipe.face.tracker import track_image

    box = L.face_box(track_image(img).landmarks[0])
    return float(box[0] + box[2]) / 2, float(box[1] + box[3]) / 2


def _turn(img: np.ndarray, degrees: float, cx: float) -> np.ndarray:
    """The image as a photo turned about the vertical line x = cx (perspective, focal = width):
    positive degrees push the image-left side away, so the face points towards image-left."""
    import cv2

    h, w = img.shape[:2]
    th = np.radians(degrees)
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = []
    for u, v in src:
        x, z = np.cos(th) * (u - cx), -np.sin(th) * (u - cx)
        dst.append([cx + w * x / (w + z), h / 2 + w * (v - h / 2) / (w + z)])
    return cv2.warpPerspective(img, cv2.getPerspectiveTransform(src, np.float32(dst)), (w, h))


@pytest.mark.media
@pytest.mark.parametrize("name", ["grace_hopper", "interview_man", "glasses_woman"])
def test_pose_direction_on_real_images(stills, name: str) -> None:  # type: ignore[no-untyped-def]
    import cv2

    img = stills[name]
    yaw, _, roll = _pose(img)
    # mirror image: yaw and roll change sign (absolute estimate, symmetric by construction)
    m_yaw, _, m_roll = _pose(img[:, ::-1])
    assert abs(m_yaw + yaw) < 3.0 and abs(m_roll + roll) < 3.0
    # in-plane rotation by 15° counter-clockwise (OpenCV's positive angle) → roll −15°
    centre = _centre(img)
    for angle in (15.0, -15.0):
        rotated = cv2.warpAffine(img, cv2.getRotationMatrix2D(centre, angle, 1.0), img.shape[1::-1])
        assert _pose(rotated)[2] - roll == pytest.approx(-angle, abs=3.0)
    # perspective turn: yaw follows the turn monotonically
    yaws = [_pose(_turn(img, d, centre[0]))[0] if d else yaw for d in (-30.0, -15.0, 0.0, 15.0, 30.0)]
    assert all(np.diff(yaws) > 0), yaws
    assert yaws[-1] - yaws[0] > 5.0, yaws
