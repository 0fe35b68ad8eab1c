"""Warp animation of a still portrait (vpipe.lipsync.animate, the `warp` backend) on
matplotlib's public-domain grace_hopper.jpg, found the way the product finds it
(vpipe.sample.portrait).

A 2.5 s phrase with pauses at both ends and alternating closures and open vowels is
animated at 25 fps; the frames are then measured, not inspected: the mouth by re-tracking
them with the product's face tracker, the eyelids by the brightness inside the eyes, the
rest of the picture by fitting one affine motion to the pixels far from the face."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pytest

from vpipe.data.alignment import Segment
from vpipe.face import landmarks as L
from vpipe.lipsync.animate import Motion, animate, motions
from vpipe.lipsync.meshwarp import build_mesh
from vpipe.lipsync.visemes import predicted_aperture
from vpipe.qc.visual import psnr

FPS = 25
WORDS = ["SIL", "HH", "AH", "L", "OW", "W", "ER", "L", "D", "P", "AA", "P", "AA", "M", "AA", "SIL"]


@dataclass(frozen=True)
class Animated:
    image: np.ndarray
    landmarks: np.ndarray  # (478, 3) of the portrait
    phones: list[Segment]
    times: np.ndarray
    frames: list[np.ndarray]
    motions: list[Motion]
    aperture: np.ndarray  # measured on the animated frames, tracked afresh


@cache
def _animated() -> Animated:
    import cv2

    from vpipe.face.tracker import track_frames, track_image
    from vpipe.sample import portrait

    image = cv2.imread(str(portrait()), cv2.IMREAD_COLOR)
    track = track_image(image)
    assert track.present[0]
    lm = track.landmarks[0]
    phones, t = [], 0.0
    for p in WORDS:
        d = 0.3 if p == "SIL" else 0.12
        phones.append(Segment(p, t, t + d))
        t += d
    times = np.arange(0.0, t + 0.2, 1.0 / FPS)
    out = animate(image, lm, phones, times)
    retracked = track_frames(out, times)
    assert retracked.present.all()
    aperture = np.asarray(L.mouth_aperture(retracked.landmarks), np.float64)
    return Animated(image, lm, phones, times, out, motions(phones, times), aperture)


def test_mouth_opens_with_the_phones() -> None:
    """The re-tracked mouth aperture of the animated frames correlates with the aperture the
    phones predict (r > 0.9; measured 0.99); in the leading pause the mouth stays as closed
    as the portrait's (< 0.02), and the open vowels open it wide (max > 0.25)."""
    a = _animated()
    assert len(a.frames) == len(a.times) and a.frames[0].shape == a.image.shape
    predicted = predicted_aperture(a.phones, a.times)
    r = float(np.corrcoef(a.aperture, predicted)[0, 1])
    assert r > 0.9
    own = float(L.mouth_aperture(a.landmarks))
    lead = a.times < 0.2
    assert own < 0.02 and a.aperture[lead].max() < 0.02
    assert a.aperture.max() > 0.25


def test_blinks_close_the_eyes() -> None:
    """Frames the motion plan marks as blinking (closure ≥ 0.5; at least one in 2.5 s) are
    brighter inside the portrait's eye outlines (eyelid skin over the dark iris) than every
    open-eyed frame, by more than 5 levels (measured: 65-70 vs 54.6-59.1)."""
    import cv2

    a = _animated()
    eyes = np.zeros(a.image.shape[:2], np.uint8)
    for loop in (L.EYE_LOOP_LEFT, L.EYE_LOOP_RIGHT):
        cv2.fillPoly(eyes, [np.round(a.landmarks[list(loop), :2]).astype(np.int32)], 255)
    luma = np.array([cv2.cvtColor(f, cv2.COLOR_BGR2GRAY)[eyes > 0].mean() for f in a.frames])
    blink = np.array([m.blink for m in a.motions])
    closed, open_ = blink >= 0.5, blink == 0
    assert closed.any() and open_.sum() > 0.8 * len(blink)
    assert luma[closed].min() > luma[open_].max() + 5


@pytest.mark.parametrize("pick", ["first", "blink", "widest", "last"])
def test_far_pixels_move_only_by_the_sway(pick: str) -> None:
    """Away from the face (outside the warp mesh's box grown by 20 px) the frame is the
    portrait moved by one global affine: fitted to those pixels (ECC), it reproduces them at
    > 50 dB (the unmoved portrait: ~17 dB). That affine is the planned sway: 2 % zoom about
    the nose tip, the nose moved by the sway's (dx, dy) within 0.1 px, rotated by its angle
    within 0.05°. Near the mouth the frame is more than that motion (< 35 dB when open)."""
    import cv2

    a = _animated()
    k = {
        "first": 0,
        "blink": int(np.argmax([m.blink for m in a.motions])),
        "widest": int(np.argmax(a.aperture)),
        "last": len(a.frames) - 1,
    }[pick]
    frame, motion = a.frames[k], a.motions[k]
    h, w = a.image.shape[:2]
    x0, y0, x1, y1 = build_mesh(a.landmarks, (w, h)).box
    far = np.full((h, w), 255, np.uint8)
    far[max(0, y0 - 20) : y1 + 20, max(0, x0 - 20) : x1 + 20] = 0
    g0 = cv2.cvtColor(a.image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    g1 = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, 1e-6)
    _, m = cv2.findTransformECC(g0, g1, np.eye(2, 3, dtype=np.float32), cv2.MOTION_AFFINE, criteria, far, 5)
    moved = cv2.warpAffine(a.image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)
    sel = far > 0
    assert psnr(moved[sel], frame[sel]) > 50
    assert psnr(a.image[sel], frame[sel]) < 25
    rot, dx, dy = motion.sway
    nose = a.landmarks[L.NOSE_TIP, :2].astype(np.float64)
    shift = m[:, :2].astype(np.float64) @ nose + m[:, 2] - nose
    assert shift == pytest.approx([dx, dy], abs=0.1)
    sv = np.linalg.svd(m[:, :2].astype(np.float64), compute_uv=False)
    assert sv == pytest.approx([1.02, 1.02], abs=0.002)
    angle = float(np.degrees(np.arctan2(m[1, 0], m[0, 0])))
    assert abs(angle) == pytest.approx(abs(rot), abs=0.05)
    if pick == "widest":
        c = L.mouth_center(a.landmarks).astype(int)
        r = int(0.5 * float(L.mouth_width(a.landmarks)))
        mouth = (slice(c[1] - r, c[1] + r), slice(c[0] - 2 * r, c[0] + 2 * r))
        assert psnr(moved[mouth], frame[mouth]) < 35


def test_motion_plan_is_deterministic_and_subtle() -> None:
    """The same narration gives the same frames (a 10-frame narration rendered twice is
    bit-identical; the full plan computed again is equal). The sway stays subtle
    (|rotation| ≤ 0.85°, |dx| ≤ 1.6 px, |dy| ≤ 1.1 px, the sums of its sine amplitudes),
    blink closures lie in [0, 1], and another seed gives another plan."""
    a = _animated()
    once = animate(a.image, a.landmarks, a.phones, a.times[:10])
    twice = animate(a.image, a.landmarks, a.phones, a.times[:10])
    assert all(np.array_equal(x, y) for x, y in zip(once, twice, strict=True))
    assert motions(a.phones, a.times) == a.motions
    sway = np.abs(np.array([m.sway for m in a.motions])).max(axis=0)
    assert (sway <= [0.85, 1.6, 1.1]).all() and (sway > 0).all()
    assert all(0.0 <= m.blink <= 1.0 for m in a.motions)
    other = motions(a.phones, a.times, seed=8)
    assert [m.sway for m in other] != [m.sway for m in a.motions]
