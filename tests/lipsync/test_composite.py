"""Mouth transplant (vpipe.lipsync.composite) between real frames of glasses_woman.mp4 and
interview_man.mp4: the widest-open mouth of each clip moved onto its most closed one.

What is checked is measured on the pixels: the untouched part of the frame is bit-identical,
the re-tracked result shows the donor's mouth opening, the blend strength and the colour
match behave as documented."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from tests.lipsync.sources import frames, source
from vpipe.face import landmarks as L
from vpipe.lipsync.composite import Donor, transplant
from vpipe.qc.visual import psnr

pytestmark = pytest.mark.media

CLIPS = ("glasses_woman", "interview_man")


@dataclass(frozen=True)
class Case:
    target: np.ndarray  # BGR frame with a closed mouth
    target_lm: np.ndarray
    donor: Donor  # the clip's widest-open mouth
    donor_aperture: float
    self_donor: Donor  # the target frame's own crop
    scale: float


def _case(name: str) -> Case:
    src = source(name)
    inv = src.inventory
    order = np.argsort(inv.aperture)
    closed, wide = int(order[0]), int(order[-1])

    def donor(entry: int) -> Donor:
        origin = (int(inv.crop_origin[entry][0]), int(inv.crop_origin[entry][1]))
        return Donor(inv.crops[entry], origin, src.face.landmarks[inv.frames[entry]])

    f = int(inv.frames[closed])
    return Case(
        frames(src.path)[f],
        src.face.landmarks[f],
        donor(wide),
        float(inv.aperture[wide]),
        donor(closed),
        inv.scale,
    )


def _outside(shape: tuple[int, ...], box: tuple[int, int, int, int]) -> np.ndarray:
    x0, y0, x1, y1 = box
    mask = np.ones(shape[:2], bool)
    mask[y0:y1, x0:x1] = False
    return mask


@pytest.mark.parametrize("name", CLIPS)
@pytest.mark.parametrize("poisson", [False, True])
def test_only_the_lower_face_changes(name: str, poisson: bool) -> None:
    """Outside the returned box every pixel is bit-identical to the target; inside it, the rows
    at and above the eyes and the columns beyond the face's sides (+0.1 inter-ocular) are too;
    the mouth itself does change (PSNR of the box < 32 dB)."""
    c = _case(name)
    out, box = transplant(c.target, c.target_lm, c.donor, c.scale, poisson=poisson)
    assert box != (0, 0, 0, 0)
    outside = _outside(c.target.shape, box)
    assert outside.any() and np.array_equal(out[outside], c.target[outside])
    changed = np.nonzero(np.any(out != c.target, axis=2))
    eyes_bottom = c.target_lm[list(L.EYE_LOOP_LEFT + L.EYE_LOOP_RIGHT), 1].max()
    margin = 0.1 * c.scale
    face_x0, face_x1 = c.target_lm[:, 0].min() - margin, c.target_lm[:, 0].max() + margin
    assert changed[0].min() > eyes_bottom
    assert changed[1].min() >= face_x0 and changed[1].max() <= face_x1
    x0, y0, x1, y1 = box
    assert psnr(out[y0:y1, x0:x1], c.target[y0:y1, x0:x1]) < 32


@pytest.mark.parametrize("name", CLIPS)
def test_transplanted_mouth_is_open_when_re_tracked(name: str) -> None:
    """The closed-mouth frame with the open donor mouth, tracked afresh as a still: its aperture
    is the donor's (within 0.05; measured 0.31 vs 0.30 and 0.28 vs 0.25), the target's own is
    ~0 (< 0.02)."""
    from vpipe.face.tracker import track_image

    c = _case(name)
    out, _ = transplant(c.target, c.target_lm, c.donor, c.scale)
    before = float(L.mouth_aperture(track_image(c.target).landmarks[0]))
    after = float(L.mouth_aperture(track_image(out).landmarks[0]))
    assert before < 0.02
    assert after == pytest.approx(c.donor_aperture, abs=0.05)


@pytest.mark.parametrize("name", CLIPS)
def test_strength_zero_and_self_donor_are_identity(name: str) -> None:
    """strength 0 returns the frame unchanged; the frame's own crop as donor gives back the
    frame (PSNR ≥ 45 dB in the box); strengths 1/3 < 2/3 < 1 change the box progressively."""
    c = _case(name)
    out, _ = transplant(c.target, c.target_lm, c.donor, c.scale, strength=0.0)
    assert np.array_equal(out, c.target)
    same, box = transplant(c.target, c.target_lm, c.self_donor, c.scale)
    x0, y0, x1, y1 = box
    assert psnr(same[y0:y1, x0:x1], c.target[y0:y1, x0:x1]) >= 45
    scores = []
    for s in (1 / 3, 2 / 3, 1.0):
        blended, _ = transplant(c.target, c.target_lm, c.donor, c.scale, strength=s)
        scores.append(psnr(blended[y0:y1, x0:x1], c.target[y0:y1, x0:x1]))
    assert scores[0] > scores[1] > scores[2]


@pytest.mark.parametrize("name", CLIPS)
@pytest.mark.parametrize("delta", [30, -30])
def test_colour_mean_is_matched_to_the_target(name: str, delta: int) -> None:
    """A donor crop brightened (or darkened) by 30 levels gives nearly the same result as the
    original donor: its mean colour is shifted back to the target's skin. Without the match the
    pasted region would be 30 levels off; measured < 1 level mean difference."""
    c = _case(name)
    plain, box = transplant(c.target, c.target_lm, c.donor, c.scale)
    shifted_crop = np.clip(c.donor.crop.astype(np.int16) + delta, 0, 255).astype(np.uint8)
    shifted = Donor(shifted_crop, c.donor.origin, c.donor.landmarks)
    out, box2 = transplant(c.target, c.target_lm, shifted, c.scale)
    assert box2 == box
    x0, y0, x1, y1 = box
    pasted = np.any(plain[y0:y1, x0:x1] != c.target[y0:y1, x0:x1], axis=2)
    diff = out[y0:y1, x0:x1].astype(np.float64) - plain[y0:y1, x0:x1]
    assert pasted.sum() > 1000
    assert np.abs(diff[pasted].mean(axis=0)).max() < 2.0
