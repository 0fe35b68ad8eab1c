"""The tracker on real media: presence, landmark sanity, mouth aperture against the audio,
smoothing that removes head jitter but not lip motion, which face is followed when there are two,
gaps of black frames, and a still image."""

from __future__ import annotations

import numpy as np
import pytest

from tests.face.conftest import APPEAR, CLIPS, frames_of, write_video
from tests.media import shared_media
from vpipe.data.face import FaceTrack
from vpipe.face import landmarks as L
from vpipe.face.pose import absolute_pose, head_pose
from vpipe.face.tracker import DEFAULT_SMOOTH_HZ, track_image, track_video

pytestmark = pytest.mark.media


def _jitter(lm: np.ndarray, t: np.ndarray, idx: tuple[int, ...] = (168, 6, 197)) -> float:
    """RMS second difference of the nose-bridge points (px/frame² at 30 fps, VFR-aware)."""
    p = lm[:, list(idx), :2].astype(np.float64)
    dt = np.diff(t)[:, None, None]
    acc = 2 * np.diff(np.diff(p, axis=0) / dt, axis=0) / (dt[1:] + dt[:-1])
    return float(np.sqrt((acc**2).sum(-1).mean())) / 30**2


@pytest.mark.parametrize("name", CLIPS)
def test_face_on_every_frame_inside_the_image(raw_tracks, name: str) -> None:  # type: ignore[no-untyped-def]
    track: FaceTrack = raw_tracks[name]
    assert track.frames > 100 and track.present.all() and (track.faces == 1).all()
    assert track.usable.all()  # every clip is within 35° of frontal
    assert track.landmarks.shape == (track.frames, L.NUM_LANDMARKS, 3) and track.landmarks.dtype == np.float32
    x, y = track.landmarks[..., 0], track.landmarks[..., 1]
    assert (x >= 0).all() and (x < track.width).all() and (y >= 0).all() and (y < track.height).all()
    assert np.all(np.diff(track.times) > 0) and track.frame_at(track.times[7]) == 7
    # a face, not noise: mouth width / eye distance is 0.56-0.58 on the three speakers and 0.41 on
    # the illustrated presenter
    ratio = np.median(L.mouth_width(track.landmarks) / L.inter_ocular(track.landmarks))
    assert 0.35 < ratio < 0.7


@pytest.mark.parametrize("name", CLIPS)
def test_yaw_of_frontal_clips(raw_tracks, name: str) -> None:  # type: ignore[no-untyped-def]
    track: FaceTrack = raw_tracks[name]
    yaw = track.pose[:, 0]
    assert abs(np.median(yaw)) < 20.0 and np.abs(yaw).max() < 25.0
    # the composed pose (mean-shape axes × rigid fit) agrees with the noisier per-frame geometry
    direct = absolute_pose(track.landmarks.astype(np.float64))[:, 0]
    assert np.abs(direct - yaw).mean() < 2.0
    assert np.array_equal(track.usable, track.present & (np.abs(yaw) <= 35.0))


def test_mouth_aperture_follows_speech(raw_tracks) -> None:  # type: ignore[no-untyped-def]
    from vpipe.media.decode import read_audio

    track: FaceTrack = raw_tracks["interview_man"]
    ap = L.mouth_aperture(track.landmarks.astype(np.float64))
    closed, open_ = np.flatnonzero(ap < 0.05), np.flatnonzero(ap > 0.2)
    assert closed.size and open_.size and closed.min() < open_.max()  # closed, then open later
    # loudness (dB, 40 ms around each frame) against aperture: the notes measured r = 0.42 at lag 0
    # and 0.56 with the mouth 2 frames behind the audio
    audio = read_audio(shared_media("interview_man.mp4"), rate=16000, mono=True)
    pcm, half = audio.samples[:, 0], int(0.02 * audio.rate)
    centres = track.times + np.append(np.diff(track.times), 1 / 30) / 2
    db = []
    for t in centres:
        c = round((t - audio.start) * audio.rate)
        db.append(20 * np.log10(np.sqrt(np.mean(pcm[max(0, c - half) : c + half] ** 2)) + 1e-4))
    r = [np.corrcoef(ap[k:], np.asarray(db)[: len(db) - k])[0, 1] for k in range(5)]
    assert r[0] > 0.35 and max(r) > 0.5 and int(np.argmax(r)) in (1, 2, 3), r


@pytest.mark.parametrize("name", CLIPS)
def test_smoothing_removes_jitter_keeps_lips(raw_tracks, name: str) -> None:  # type: ignore[no-untyped-def]
    raw: FaceTrack = raw_tracks[name]
    pose, smooth = head_pose(raw.landmarks, raw.present, raw.times, DEFAULT_SMOOTH_HZ)
    before, after = _jitter(raw.landmarks, raw.times), _jitter(smooth, raw.times)
    assert after < 0.6 * before, (before, after)  # ≥ 40 % less (measured 60-80 %)
    ap_raw = L.mouth_aperture(raw.landmarks.astype(np.float64))
    ap_smooth = L.mouth_aperture(smooth.astype(np.float32).astype(np.float64))
    assert np.abs(ap_smooth - ap_raw).max() < 1e-6  # lips keep their raw shape (float32 rounding)
    assert np.abs(smooth - raw.landmarks).max() < 0.1 * np.median(L.inter_ocular(raw.landmarks))
    assert np.abs(pose[:, 0] - raw.pose[:, 0]).max() < 5.0


def test_track_video_smooths_by_default(raw_tracks) -> None:  # type: ignore[no-untyped-def]
    raw: FaceTrack = raw_tracks["glasses_woman"]
    track = track_video(shared_media("glasses_woman.mp4"))
    pose, smooth = head_pose(raw.landmarks, raw.present, raw.times, DEFAULT_SMOOTH_HZ)
    assert np.allclose(track.landmarks, smooth, atol=1e-3) and np.allclose(track.pose, pose, atol=1e-3)
    assert np.array_equal(track.times, raw.times) and (track.width, track.height) == (raw.width, raw.height)


@pytest.fixture(scope="module")
def two_face_tracks(two_face_video):  # type: ignore[no-untyped-def]
    cache: dict[tuple[str, str, int], FaceTrack] = {}

    def get(layout: str, select: str, index: int = 0) -> FaceTrack:
        key = (layout, select, index)
        if key not in cache:
            cache[key] = track_video(two_face_video(layout), select=select, index=index)
        return cache[key]

    return get


def _box(track: FaceTrack, i: int) -> np.ndarray:
    return L.face_box(track.landmarks[i].astype(np.float64))


def _area(box: np.ndarray) -> float:
    return float((box[2] - box[0]) * (box[3] - box[1]))


def test_two_faces_index_follows_left_and_right(two_face_tracks, raw_tracks) -> None:  # type: ignore[no-untyped-def]
    left, right = two_face_tracks("equal", "index", 0), two_face_tracks("equal", "index", 1)
    assert (left.faces == 2).mean() > 0.9 and left.width == 1400
    for track, lo, hi in ((left, 0, 700), (right, 700, 1400)):
        assert track.present.mean() > 0.95
        x = track.landmarks[track.present, :, 0]
        assert (x >= lo).all() and (x < hi).all()
    # the same people as in their own clips, at the same places
    n = left.frames
    for track, name, dx in ((left, "interview_man", 0.0), (right, "studio_woman", 700.0)):
        own = raw_tracks[name].landmarks[:n].astype(np.float64)
        both = track.present
        err = np.abs(track.landmarks[both, :, :2] - own[both, :, :2] - [dx, 0.0]).mean()
        assert err < 3.0, (name, err)


def test_two_faces_largest_and_center(two_face_tracks) -> None:  # type: ignore[no-untyped-def]
    left, right = two_face_tracks("equal", "index", 0), two_face_tracks("equal", "index", 1)
    larger = left if _area(_box(left, 0)) > _area(_box(right, 0)) else right
    largest = two_face_tracks("equal", "largest")
    assert np.allclose(largest.landmarks[largest.present], larger.landmarks[largest.present], atol=2.0)
    dist = [np.hypot(*(_box(t, 0).reshape(2, 2).mean(0) - [700, 350])) for t in (left, right)]
    nearer = (left, right)[int(np.argmin(dist))]
    center = two_face_tracks("equal", "center")
    assert np.allclose(center.landmarks[center.present], nearer.landmarks[center.present], atol=2.0)
    # a third face was asked for: nobody is followed, the counts still say what was seen
    third = two_face_tracks("equal", "index", 2)
    assert not third.present.any() and np.isnan(third.landmarks).all() and (third.faces >= 2).mean() > 0.9


def test_largest_keeps_the_same_person_when_sizes_change(two_face_tracks) -> None:  # type: ignore[no-untyped-def]
    """The left person starts larger and ends smaller: "largest" is decided once and kept."""
    largest, other = two_face_tracks("shrink_left", "largest"), two_face_tracks("shrink_left", "index", 1)
    both = np.flatnonzero(largest.present & other.present)
    first, last = both[0], both[-1]
    assert first <= 2 and last == largest.frames - 1
    assert _area(_box(largest, first)) > _area(_box(other, first))
    assert _area(_box(largest, last)) < 0.6 * _area(_box(other, last))  # now clearly the smaller one
    assert largest.present.mean() > 0.95
    assert (largest.landmarks[largest.present, :, 0] < 700).all()  # still the left person


def test_second_person_entering_later(two_face_tracks) -> None:  # type: ignore[no-untyped-def]
    """A one-face start that turns into two faces: the detector check switches to multi-face
    tracking, the first person stays chosen, and index 1 starts when the second one appears."""
    first = two_face_tracks("appear_right", "largest")
    assert first.present.all() and (first.landmarks[..., 0] < 700).all()
    assert (first.faces[:APPEAR] == 1).all() and (first.faces[APPEAR + 2 :] == 2).mean() > 0.9
    second = two_face_tracks("appear_right", "index", 1)
    assert not second.present[:APPEAR].any() and second.present[APPEAR + 2 :].all()
    assert (second.landmarks[second.present, :, 0] >= 700).all()


def test_black_frames_are_absent_exactly(tmp_path) -> None:  # type: ignore[no-untyped-def]
    frames = frames_of("glasses_woman")
    black = np.zeros_like(frames[0])
    video = write_video(tmp_path / "gap.mp4", frames[:40] + [black] * 10 + frames[40:])
    track = track_video(video)
    gap = np.zeros(track.frames, dtype=bool)
    gap[40:50] = True
    assert track.frames == len(frames) + 10
    assert np.array_equal(track.present, ~gap) and np.array_equal(track.usable, ~gap)
    assert np.isnan(track.landmarks[gap]).all() and np.isnan(track.pose[gap]).all()
    assert np.isfinite(track.landmarks[~gap]).all() and np.isfinite(track.pose[~gap]).all()
    assert (track.faces[gap] == 0).all() and (track.faces[~gap] == 1).all()


def test_video_without_any_face(tmp_path) -> None:  # type: ignore[no-untyped-def]
    video = write_video(tmp_path / "empty.mp4", [np.full((96, 128, 3), 90, np.uint8)] * 12)
    track = track_video(video)
    assert track.frames == 12 and not track.present.any() and not track.usable.any()
    assert np.isnan(track.landmarks).all() and (track.faces == 0).all() and (track.width, track.height) == (128, 96)


def test_still_image_grace_hopper() -> None:
    import cv2
    from matplotlib import cbook

    image = cv2.imread(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    track = track_image(image)
    assert track.frames == 1 and track.present[0] and track.usable[0] and track.faces[0] == 1
    assert np.array_equal(track.times, [0.0]) and (track.width, track.height) == (512, 600)
    lm = track.landmarks[0].astype(np.float64)
    assert L.mouth_aperture(lm) < 0.05  # closed mouth (notes: 0.002)
    assert np.allclose(L.face_box(lm), [173, 132, 356, 334], atol=6.0)  # notes' measured extent
    assert L.inter_ocular(lm) == pytest.approx(118.7, abs=4.0)
    assert abs(track.pose[0, 0]) < 10.0
    nobody = track_image(np.zeros_like(image))
    assert not nobody.present[0] and nobody.faces[0] == 0 and np.isnan(nobody.pose).all()
    with pytest.raises(ValueError, match="select"):
        track_image(image, select="biggest")


def test_fast_landmark_read_equals_protobuf_fields() -> None:
    """The numpy read of the serialized landmarks is bit-identical to the attribute reads."""
    import cv2
    from matplotlib import cbook

    from vpipe.face.tracker import _face_mesh, _landmark_array

    image = cv2.imread(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    with _face_mesh(static=True, max_faces=1) as mesh:
        face = mesh.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB)).multi_face_landmarks[0]
    slow = np.array([(p.x, p.y, p.z) for p in face.landmark], dtype=np.float32)
    assert np.array_equal(_landmark_array(face), slow)
    face.landmark[3].visibility = 0.5  # another wire layout: falls back to the fields
    assert np.array_equal(_landmark_array(face), slow)
