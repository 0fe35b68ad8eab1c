"""Head pose from FaceMesh landmarks, and zero-phase smoothing of the rigid head motion.

mediapipe's face_geometry data (canonical model, transformation matrix) is not shipped in the
0.10.21 wheel, and solvePnP with a generic head is unreliable (chin and mouth corners move with
speech), so the pose is built from the landmarks themselves:

* relative: a similarity (Umeyama/Kabsch) fit of the RIGID points (forehead, nose ridge, eye
  corners, temples) of each frame to the speaker's own mean shape. Precise and immune to speech;
  this is what smoothing and frame matching work on.
* absolute: face axes from geometry (x = outer eye corner to outer eye corner, y = nose bridge to
  subnasale, z = x × y), measured once on the noise-free mean shape and carried to every frame by
  the relative rotation. That gives "degrees from frontal" (needed for max_yaw_deg) without the
  per-frame noise of the axes method. Yaw is symmetric by construction (mirror image → −yaw);
  pitch has a constant offset of about −10° for a level face (the bridge→subnasale line leans
  back), so read pitch as relative.

Conventions (camera frame x right, y down, z into the scene): yaw > 0 face points towards
image-left, pitch > 0 nods down, roll > 0 tilts clockwise in the image. Degrees.
"""

from __future__ import annotations

import numpy as np

from vpipe.face.landmarks import EYE_OUTER, LIPS, NOSE_BRIDGE, RIGID, SUBNASALE

# Where the axis points sit inside RIGID (the mean shape holds only the rigid subset).
_R_EYE_L, _R_EYE_R = RIGID.index(EYE_OUTER[0]), RIGID.index(EYE_OUTER[1])
_R_BRIDGE, _R_SUBNASALE = RIGID.index(NOSE_BRIDGE), RIGID.index(SUBNASALE)


def kabsch(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Similarity (R, s, t) minimising |s R src + t − dst|² (Umeyama 1991), batched.

    src, dst: (..., K, d) with d = 2 or 3. Returns R (..., d, d), s (...), t (..., d). Batched so a
    whole clip is one SVD call (~100× faster than a Python loop)."""
    mu_s, mu_d = src.mean(axis=-2, keepdims=True), dst.mean(axis=-2, keepdims=True)
    p, q = src - mu_s, dst - mu_d
    u, sv, vt = np.linalg.svd(np.swapaxes(q, -1, -2) @ p)
    d = src.shape[-1]
    sign = np.sign(np.linalg.det(u @ vt))
    diag = np.ones(sv.shape)
    diag[..., d - 1] = sign  # reflection guard
    r = (u * diag[..., None, :]) @ vt
    s = (sv * diag).sum(-1) / (p**2).sum(axis=(-1, -2))
    t = mu_d[..., 0, :] - s[..., None] * (r @ mu_s[..., 0, :, None])[..., 0]
    return r, s, t


def euler_deg(r: np.ndarray) -> np.ndarray:
    """(yaw, pitch, roll) in degrees of rotation matrices (..., 3, 3) whose columns are the face's
    x, y, z axes in camera coordinates."""
    yaw = np.degrees(np.arcsin(np.clip(r[..., 0, 2], -1.0, 1.0)))
    pitch = np.degrees(np.arctan2(-r[..., 1, 2], r[..., 2, 2]))
    roll = np.degrees(np.arctan2(-r[..., 0, 1], r[..., 0, 0]))
    return np.stack([yaw, pitch, roll], axis=-1)


def _axes(eye_l: np.ndarray, eye_r: np.ndarray, bridge: np.ndarray, subnasale: np.ndarray) -> np.ndarray:
    x = eye_r - eye_l
    x = x / np.linalg.norm(x, axis=-1, keepdims=True)
    z = np.cross(x, subnasale - bridge)
    z = z / np.linalg.norm(z, axis=-1, keepdims=True)
    y = np.cross(z, x)
    return np.stack([x, y, z], axis=-1)


def axes_rotation(lm: np.ndarray) -> np.ndarray:
    """Absolute face orientation (..., 3, 3) of full (..., 478, 3) landmarks from eye-corner and nose
    geometry alone. Noisy per frame (tracker noise on 4 points); `head_pose` uses it on the mean."""
    return _axes(lm[..., EYE_OUTER[0], :], lm[..., EYE_OUTER[1], :], lm[..., NOSE_BRIDGE, :], lm[..., SUBNASALE, :])


def absolute_pose(lm: np.ndarray) -> np.ndarray:
    """Per-frame (yaw, pitch, roll) from geometry alone, (..., 3) degrees."""
    return euler_deg(axes_rotation(lm))


def reference_shape(rigid: np.ndarray, iters: int = 3) -> np.ndarray:
    """Generalised-Procrustes median of the rigid points of a clip: the speaker's own canonical
    shape (K, 3). rigid: (N, K, 3) with no NaN frames. The median resists blinks and glitches."""
    ref = rigid[0]
    for _ in range(iters):
        r, s, t = kabsch(rigid, ref[None])
        aligned = s[:, None, None] * (rigid @ np.swapaxes(r, -1, -2)) + t[:, None, :]
        ref = np.median(aligned, axis=0)
    return ref


def _rotvec(r: np.ndarray) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    return Rotation.from_matrix(r).as_rotvec()


def _matrix(v: np.ndarray) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    return Rotation.from_rotvec(v).as_matrix()


def _runs(present: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of consecutive present frames."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], present.astype(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def zero_phase_lowpass(x: np.ndarray, times: np.ndarray, cutoff_hz: float, order: int = 2) -> np.ndarray:
    """Forward-backward Butterworth low-pass of x (n, ...) sampled at `times` (possibly VFR).

    Zero phase: no lag, so smoothed head motion never trails the speech (causal filters such as
    One-Euro lag 15-84 ms here and erase bilabial closures). Resamples to a uniform grid at the
    run's fastest usual frame rate (a VFR source with dropped frames keeps its 30 Hz timeline),
    filters, and interpolates back at the true timestamps. Runs too short to filter, or a cut-off
    at or above Nyquist, come back unchanged."""
    from scipy.signal import butter, filtfilt

    n = x.shape[0]
    if n < 4 or cutoff_hz <= 0:
        return x.copy()
    dt = float(np.percentile(np.diff(times), 10))
    fs = min(1.0 / dt, 240.0) if dt > 0 else 240.0
    if cutoff_hz >= 0.5 * fs:
        return x.copy()
    grid = times[0] + np.arange(int(np.ceil((times[-1] - times[0]) * fs - 1e-6)) + 1) / fs
    flat = x.reshape(n, -1)
    uniform = np.stack([np.interp(grid, times, col) for col in flat.T], axis=1)
    b, a = butter(order, cutoff_hz, fs=fs)
    padlen = min(3 * max(len(a), len(b)), len(grid) - 1)
    if padlen < 1:
        return x.copy()
    filtered = filtfilt(b, a, uniform, axis=0, padtype="odd", padlen=padlen)
    back = np.stack([np.interp(times, grid, col) for col in filtered.T], axis=1)
    return back.reshape(x.shape)


def _keep_lip_shape(raw: np.ndarray, moved: np.ndarray) -> np.ndarray:
    """Put the raw lips (n, 40, 3) where the smoothed head carries them, with their raw 2-D shape.

    Re-projecting the raw shape through a smoothed 3-D rotation changes image-space lip ratios a
    little (aperture by up to 0.004 where the head turns fast). The lips instead get the 2-D
    similarity that best takes their raw points to the re-projected ones: a similarity keeps every
    ratio of image distances, so aperture and lip shape equal the raw tracker's (float32 rounding
    only), while the placement differs from the re-projection by at most 0.3-1.0 px on the shared
    clips (largest where the head moves fastest)."""
    r2, s2, t2 = kabsch(raw[..., :2], moved[..., :2])
    out = moved.copy()
    out[..., :2] = s2[:, None, None] * (raw[..., :2] @ np.swapaxes(r2, -1, -2)) + t2[:, None, :]
    return out


def head_pose(
    landmarks: np.ndarray, present: np.ndarray, times: np.ndarray | None = None, smooth_hz: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Absolute head pose per frame, and the landmarks with the rigid head motion smoothed.

    landmarks (N, 478, 3) px, NaN where absent; present (N,) bool; times (N,) s (needed to smooth).
    Each frame is split into a similarity (rotation, scale, centroid of the rigid points = the
    head's motion) and the shape in the reference frame (speech, blinks). With smooth_hz > 0 the
    similarity parameters are low-passed with a zero-phase filter per run of present frames
    (never across a gap) and the frame is recomposed with its own raw shape, so head jitter drops
    (nose bridge 60-80 % less on the shared clips at 2 Hz) while the lips keep their raw 2-D shape
    (up to a similarity): mouth aperture equals the raw value to < 1e-6.

    Returns pose (N, 3) yaw/pitch/roll degrees (NaN where absent) and landmarks (N, 478, 3)."""
    pose = np.full((landmarks.shape[0], 3), np.nan)
    out = landmarks.astype(np.float64, copy=True)
    idx = np.flatnonzero(present)
    if idx.size == 0:
        return pose, out
    rigid_idx, lips = list(RIGID), list(LIPS)
    lm = out[idx]
    ref = reference_shape(lm[:, rigid_idx])
    ref_abs = _axes(ref[_R_EYE_L], ref[_R_EYE_R], ref[_R_BRIDGE], ref[_R_SUBNASALE])
    # current -> reference, written about the centroid c of the current rigid points:
    # ref ≈ s R (p − c) + c_ref, so p = Rᵀ (q − c_ref) / s + c.
    r, s, _ = kabsch(lm[:, rigid_idx], ref[None])
    c = lm[:, rigid_idx].mean(axis=1)
    c_ref = ref.mean(axis=0)
    local = s[:, None, None] * ((lm - c[:, None, :]) @ np.swapaxes(r, -1, -2)) + c_ref
    rotvec, log_s = _rotvec(r), np.log(s)
    if smooth_hz > 0:
        if times is None:
            raise ValueError("smoothing needs the frame times")
        t = times[idx]
        params = np.concatenate([rotvec, log_s[:, None], c], axis=1)
        # positions within idx of each run of consecutive present frames
        pos = np.zeros(present.shape[0], dtype=np.int64)
        pos[idx] = np.arange(idx.size)
        for start, stop in _runs(present):
            a, b = pos[start], pos[stop - 1] + 1
            params[a:b] = zero_phase_lowpass(params[a:b], t[a:b], smooth_hz)
        rotvec, log_s, c = params[:, :3], params[:, 3], params[:, 4:]
        r = _matrix(rotvec)
        s = np.exp(log_s)
        moved = ((local - c_ref) @ r) / s[:, None, None] + c[:, None, :]
        moved[:, lips] = _keep_lip_shape(lm[:, lips], moved[:, lips])
        out[idx] = moved
    # absolute orientation of frame i = (ref -> current rotation) · (face axes of the reference)
    pose[idx] = euler_deg(np.swapaxes(r, -1, -2) @ ref_abs)
    return pose, out
