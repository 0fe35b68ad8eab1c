"""The mouth inventory built from the real clips' tracked landmarks and aligned phones.

Checked against what the decoded frames and landmarks themselves say: the speaker's
aperture per viseme (open vowels wider than lip closures), entries and crops that are the
frames' own pixels, and frames that repeat the previous one (a variable-frame-rate
duplicate in interview_man, a frame-rate-conversion cadence in studio_woman)."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from tests.lipsync.sources import frames, source
from vpipe.face import landmarks as L
from vpipe.lipsync.inventory import build_inventory, speaker_apertures
from vpipe.lipsync.visemes import INDEX, LIP_LEAD, NAMES, VISEMES, viseme_of

CLIPS = ("interview_man", "glasses_woman", "studio_woman")


def _frame_diffs(name: str) -> np.ndarray:
    """Mean absolute difference of each decoded frame to the previous one (whole frame, all
    channels); NaN for the first frame."""
    imgs = frames(source(name).path)
    out = [np.nan]
    for prev, cur in itertools.pairwise(imgs):
        out.append(float(np.abs(cur.astype(np.int16) - prev).mean()))
    return np.array(out)


@pytest.mark.media
@pytest.mark.parametrize("name", CLIPS)
def test_open_vowels_wider_than_lip_closures(name: str) -> None:
    """This speaker's typical aperture for open vowels (aa: AA AE AH AW AY) is wider than for
    p/b/m by more than 0.1 (mouth_aperture units: ~0 closed, 0.25-0.45 wide open). Measured:
    0.187 vs 0.057, 0.161 vs 0.002, 0.190 vs 0.004."""
    table = source(name).inventory.viseme_aperture
    assert table.shape == (len(NAMES),)
    assert table[INDEX["aa"]] > table[INDEX["PP"]] + 0.1


@pytest.mark.media
@pytest.mark.parametrize("name", CLIPS)
def test_table_is_the_median_per_viseme(name: str) -> None:
    """For every viseme seen on ≥ 3 frames, the table is the median aperture of those frames,
    recomputed here from the landmarks and the phone under each frame's time (+ the lip lead); rarer visemes
    get a value within the speaker's 5-95 % aperture range."""
    src = source(name)
    usable = np.nonzero(src.face.usable)[0]
    ap = np.asarray(L.mouth_aperture(src.face.landmarks[usable]), np.float64)
    phones = sorted(src.alignment.phones, key=lambda p: p.start)
    vis = []
    for t in src.face.times[usable] + LIP_LEAD:
        hit = [p for p in phones if p.start <= t < p.end]
        vis.append(viseme_of(hit[0].label) if hit else "sil")
    table = src.inventory.viseme_aperture
    lo, hi = np.percentile(ap, [5, 95])
    checked = 0
    for n in NAMES:
        seen = ap[np.array(vis) == n]
        if len(seen) >= 3:
            assert table[INDEX[n]] == pytest.approx(np.median(seen), abs=1e-6)
            checked += 1
        else:
            assert lo - 1e-6 <= table[INDEX[n]] <= hi + 1e-6
    assert checked >= 8


def test_speaker_apertures_fallback_keeps_the_generic_order() -> None:
    """Visemes seen < 3 times get the generic apertures mapped linearly onto the measured
    5-95 % range: the same order as the generic table, PP at the bottom, aa at the top."""
    rng = np.random.default_rng(0)
    measured = rng.uniform(0.02, 0.3, 40)
    visemes = np.full(40, INDEX["DD"], np.int16)
    table = speaker_apertures(visemes, measured)
    assert table[INDEX["DD"]] == pytest.approx(np.median(measured))
    others = [n for n in NAMES if n != "DD"]
    generic = np.array([VISEMES[n].aperture for n in others])
    mine = np.array([table[INDEX[n]] for n in others])
    lo, hi = np.percentile(measured, [5, 95])
    assert mine.min() == pytest.approx(lo, abs=1e-6) and mine.max() == pytest.approx(hi, abs=1e-6)
    assert np.all(np.diff(mine[np.argsort(generic, kind="stable")]) >= -1e-7)


@pytest.mark.media
@pytest.mark.parametrize("name", ["interview_man", "glasses_woman"])
def test_entries_are_the_frames_own_measurements(name: str) -> None:
    """One entry per usable frame, in order, with that frame's aperture and pose; the lip
    shapes are in one head-normalised frame (so their spread is far smaller than the raw
    lips' drift with the head)."""
    src = source(name)
    inv = src.inventory
    usable = np.nonzero(src.face.usable)[0]
    assert np.array_equal(inv.frames, usable) and inv.size == len(usable)
    assert np.allclose(inv.aperture, L.mouth_aperture(src.face.landmarks[usable]), atol=1e-6)
    assert np.allclose(inv.pose, src.face.pose[usable])
    assert inv.entry_of(int(usable[5])) == 5 and inv.entry_of(10_000) is None
    assert inv.scale == pytest.approx(float(np.median(L.inter_ocular(src.face.landmarks[usable]))), rel=1e-6)
    raw_centre = src.face.landmarks[usable][:, list(L.LIPS), :2].mean(axis=1)
    canon_centre = inv.shape.reshape(inv.size, -1, 2).mean(axis=1)
    assert np.isfinite(inv.shape).all()
    assert canon_centre.std(axis=0).max() < 0.5 * raw_centre.std(axis=0).max()


@pytest.mark.media
@pytest.mark.parametrize("name", ["interview_man", "glasses_woman"])
def test_crops_are_inside_the_frame_and_hold_the_mouth(name: str) -> None:
    """Every crop lies inside its frame, is exactly that decoded frame's pixels at its origin,
    and contains the whole outer lip contour; the mouth luma is the mean of the pixels in
    the lips' box."""
    src = source(name)
    inv = src.inventory
    imgs = frames(src.path)
    _, h, w, _ = inv.crops.shape
    height, width = imgs[0].shape[:2]
    assert (inv.crop_origin >= 0).all()
    assert (inv.crop_origin[:, 0] + w <= width).all() and (inv.crop_origin[:, 1] + h <= height).all()
    for k, f in enumerate(inv.frames):
        x0, y0 = inv.crop_origin[k]
        assert np.array_equal(inv.crops[k], imgs[f][y0 : y0 + h, x0 : x0 + w])
        lips = src.face.landmarks[f, list(L.OUTER_LIPS), :2]
        assert (lips[:, 0] > x0).all() and (lips[:, 0] < x0 + w).all()
        assert (lips[:, 1] > y0).all() and (lips[:, 1] < y0 + h).all()
        mx0, my0 = np.floor(lips.min(axis=0)).astype(int)
        mx1, my1 = np.ceil(lips.max(axis=0)).astype(int)
        assert inv.luma[k] == pytest.approx(imgs[f][my0:my1, mx0:mx1].mean(), abs=1e-3)


@pytest.mark.media
def test_repeated_frame_of_the_variable_frame_rate_clip() -> None:
    """interview_man.mp4 (VFR, 1/30 and 1/15 s steps) has one frame that repeats the previous
    one: its whole-frame difference is 0.008 levels, every other frame's ≥ 0.09. Exactly
    the frames with a near-zero difference (< 0.03) are flagged."""
    inv = source("interview_man").inventory
    diff = _frame_diffs("interview_man")
    assert inv.repeats.shape == (source("interview_man").face.frames,)
    still = set(np.nonzero(diff < 0.03)[0].tolist())
    assert len(still) >= 1
    assert set(np.nonzero(inv.repeats)[0].tolist()) == still


@pytest.mark.media
def test_frame_rate_conversion_cadence_is_flagged() -> None:
    """studio_woman.mp4 (30 fps) carries a slower take: every 3rd-4th frame repeats the
    previous one. The whole-frame differences split into two clusters with a wide gap
    (repeats ≤ 0.16 levels, real motion ≥ 0.74); the repeats fall on a regular cadence.
    Every repeat must be flagged (a missed one gets a different mouth from its twin: motion
    the source never had) and no moving frame may be."""
    inv = source("studio_woman").inventory
    diff = _frame_diffs("studio_woman")
    gap_low, gap_high = np.nanmax(diff[diff < 0.4]), np.nanmin(diff[diff >= 0.4])
    assert gap_high > 4 * gap_low  # two clearly separate clusters
    repeats = np.nonzero(diff < 0.4)[0]
    assert set(np.diff(repeats).tolist()) <= {3, 4, 7, 8, 11}  # a cadence (a few steps hidden in pauses)
    flagged = set(np.nonzero(inv.repeats)[0].tolist())
    assert flagged <= set(repeats.tolist())  # nothing that moves
    missed = sorted(set(repeats.tolist()) - flagged)
    assert missed == [], f"repeated frames not flagged: {missed} (face-region differences above REPEAT_THRESHOLD)"


@pytest.mark.media
def test_no_usable_face_is_an_error() -> None:
    """A track where no frame is usable (all turned away) cannot give an inventory."""
    src = source("glasses_woman")
    away = dataclasses.replace(src.face, usable=np.zeros(src.face.frames, bool))
    with pytest.raises(ValueError, match="no frame"):
        build_inventory(src.path, away, src.alignment)


@pytest.mark.media
@pytest.mark.parametrize("name", CLIPS)
def test_closure_level_is_where_the_speakers_bilabials_close(name: str) -> None:
    """The closure level is the upper quartile over the recording's p/b/m phones of the
    smallest aperture within 40 ms of each (recomputed here from the landmarks), well below
    an open vowel's. Measured: interview 0.007 (its p/b/m table value, the median of every
    frame labelled p/b/m, 0.057), glasses 0.004 (0.002), studio 0.008."""
    from vpipe.lipsync.inventory import closure_level

    src = source(name)
    inv = src.inventory
    usable = np.nonzero(src.face.usable)[0]
    ap = np.asarray(L.mouth_aperture(src.face.landmarks[usable]), np.float64)
    at = src.face.times[usable]
    mins = [
        ap[(at >= p.start - 0.04) & (at <= p.end + 0.04)].min()
        for p in src.alignment.phones
        if p.label.rstrip("012") in ("P", "B", "M") and ((at >= p.start - 0.04) & (at <= p.end + 0.04)).any()
    ]
    level = closure_level(inv, src.video.times)
    assert len(mins) >= 2
    assert level == pytest.approx(float(np.percentile(mins, 75)), abs=1e-6)
    assert level < inv.viseme_aperture[INDEX["aa"]] / 4
