"""The weight-free sync measure (vpipe.lipsync.sync) and the visual QC helpers (vpipe.qc.visual).

The sync measure is checked on real speech: the three shared clips' own mouths follow their
own aligned phones (positive natural baseline), a mouth that shows exactly the speaker's
aperture per phone scores ~1, and the same apertures shuffled in time or under phones from
another moment score near 0; and on toy mouths for its rules (a closure scored as a closure,
a short word scored without spread in its window, nothing scored across a gap)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tests.lipsync.sources import frames, source
from vpipe.data.alignment import Segment
from vpipe.face.landmarks import mouth_aperture
from vpipe.lipsync.sync import correlation, natural_baseline, phone_apertures, scored_phones, sync_score
from vpipe.lipsync.visemes import INDEX, frame_visemes
from vpipe.qc.copied_figures import crop as _crop
from vpipe.qc.visual import psnr

CLIPS = ("interview_man", "glasses_woman", "studio_woman")


def test_correlation_edge_cases() -> None:
    """Pearson r, ignoring NaN pairs; NaN when fewer than 4 pairs or a constant series."""
    x = np.arange(10.0)
    assert correlation(x, 3 * x + 1) == pytest.approx(1.0)
    assert correlation(x, -x) == pytest.approx(-1.0)
    y = x.copy()
    y[[2, 5]] = np.nan
    assert correlation(y, x**2) == pytest.approx(
        float(np.corrcoef(np.delete(x, [2, 5]), np.delete(x, [2, 5]) ** 2)[0, 1])
    )
    assert math.isnan(correlation(x[:3], x[:3]))
    assert math.isnan(correlation(np.full(10, 0.2), x))


@pytest.mark.media
@pytest.mark.parametrize("name", CLIPS)
def test_natural_baseline_is_positive_on_real_speech(name: str) -> None:
    """Each speaker's measured mouth follows their own aligned phones (mean score over their
    recorded words, each with the slot windows' margins, > 0.3; measured 0.72, 0.46, 0.58);
    the inventory stores the same value; the same phones moved 0.7 s earlier (misaligned)
    score far lower (measured -0.25, -0.10, -0.26)."""
    src = source(name)
    inv = src.inventory
    usable = src.face.usable
    aperture = np.asarray(mouth_aperture(src.face.landmarks[usable]), np.float64)
    times = src.face.times[usable]
    phones, words = list(src.alignment.phones), list(src.alignment.words)
    natural = natural_baseline(aperture, times, phones, words, inv.sync_table, inv.sync_centre)
    assert natural > 0.3
    assert inv.natural_sync == pytest.approx(natural, abs=1e-9)
    early = [Segment(p.label, p.start - 0.7, p.end - 0.7) for p in phones]
    assert natural_baseline(aperture, times, early, words, inv.sync_table, inv.sync_centre) < natural - 0.3


@pytest.mark.media
def test_sync_score_perfect_vs_shuffled() -> None:
    """On interview_man's real phones and frame times: a mouth showing, at each frame, this
    speaker's aperture for the phone under it scores > 0.9 over the clip (measured 0.99); the
    same values shuffled in time score |mean| < 0.2 over 20 shuffles (measured 0.06, max 0.24);
    the real mouth lies between (measured 0.65)."""
    src = source("interview_man")
    inv = src.inventory
    phones = list(src.alignment.phones)
    times = src.face.times
    perfect = np.array([inv.sync_table[INDEX[v]] for v in frame_visemes(phones, times)], np.float64)
    assert sync_score(perfect, times, phones, inv.sync_table, inv.sync_centre) > 0.9
    rng = np.random.default_rng(1)
    shuffled = [sync_score(rng.permutation(perfect), times, phones, inv.sync_table, inv.sync_centre) for _ in range(20)]
    assert abs(float(np.mean(shuffled))) < 0.2 and max(shuffled) < 0.5
    real = np.asarray(mouth_aperture(src.face.landmarks), np.float64)
    assert 0.3 < sync_score(real, times, phones, inv.sync_table, inv.sync_centre) < 0.95


# A toy speaker for the measure's rules: closed lips 0.005, a schwa 0.15, an open vowel 0.3.
TABLE = np.full(len(INDEX), 0.15)
TABLE[INDEX["PP"]], TABLE[INDEX["aa"]], TABLE[INDEX["sil"]] = 0.005, 0.3, 0.05
CENTRE = 0.15
FRAMES = np.arange(0.0, 1.0, 0.04)  # 25 fps


def _mouth(shape: dict[float, float], default: float = 0.15) -> np.ndarray:
    """Per-frame aperture: `shape` maps a frame time to its aperture."""
    return np.array([shape.get(round(float(t), 2), default) for t in FRAMES])


def test_a_closure_scores_as_a_closure() -> None:
    """'AA M AA' (the m 60 ms, between two frames' phones): the lips shut on one frame within
    40 ms of the m is what this speaker does, and scores higher than the same mouth left
    half-open there; a shut mouth anywhere but near the m scores lower. (The measure before
    this one took a p/b/m's target from the median of the frames labelled p/b/m: an open
    mouth on interview_man, 0.057 against closures of 0.007.)"""
    phones = [Segment("AA", 0.2, 0.47), Segment("M", 0.47, 0.53), Segment("AA", 0.53, 0.8)]
    vowels = {round(t, 2): 0.3 for t in FRAMES if 0.2 <= t < 0.8}
    closed = _mouth({**vowels, 0.52: 0.004})
    half = _mouth({**vowels, 0.52: 0.1})
    elsewhere = _mouth({**vowels, 0.32: 0.004})
    s_closed, s_half, s_elsewhere = (sync_score(m, FRAMES, phones, TABLE, CENTRE) for m in (closed, half, elsewhere))
    assert s_closed > 0.99 > s_half > s_elsewhere


def test_a_short_word_is_scored_without_spread_in_its_window() -> None:
    """Four frames that all show an open mouth under open vowels: within-window correlation
    has no spread to work with (NaN); the phone-level score, centred on the speaker's mean,
    says they fit (1.0); the same frames under closed-lip phones say they do not (< 0)."""
    times = np.array([0.40, 0.44, 0.48, 0.52])
    phones = [Segment("AA", 0.38, 0.43), Segment("AE", 0.43, 0.47), Segment("AH", 0.47, 0.5), Segment("AA", 0.5, 0.54)]
    mouth = np.full(4, 0.3)
    assert math.isnan(correlation(mouth, np.full(4, 0.3)))
    assert sync_score(mouth, times, phones, TABLE, CENTRE) == pytest.approx(1.0)
    closed = [Segment("M", p.start, p.end) for p in phones]
    assert sync_score(mouth, times, closed, TABLE, CENTRE) < 0


def test_phones_between_two_windows_are_not_scored() -> None:
    """Frames of two windows (0-0.2 s, 0.8-1 s): a phone in the gap has no frame near it and
    is left out (nothing is interpolated across the gap); phones under the frames count."""
    times = np.r_[FRAMES[FRAMES < 0.2], FRAMES[FRAMES >= 0.8]]
    phones = [Segment("AA", 0.0, 0.1), Segment("M", 0.1, 0.2), Segment("AA", 0.4, 0.6), Segment("AA", 0.8, 0.9)]
    values = phone_apertures(np.full(len(times), 0.3), times, scored_phones(phones, times))
    assert [p.label for p in scored_phones(phones, times)] == ["AA", "M", "AA", "AA"]
    assert np.isfinite(values).tolist() == [True, True, False, True]


def test_natural_baseline_needs_speech() -> None:
    """No speech phones, or too few frames for MIN_PHONES phones: no baseline (NaN), never a
    fake number."""
    t = np.arange(0.0, 2.0, 0.04)
    words = [Segment("a", 0.0, 2.0)]
    assert math.isnan(natural_baseline(np.ones_like(t), t, [Segment("SIL", 0.0, 2.0)], words, TABLE, CENTRE))
    assert math.isnan(natural_baseline(np.ones(2), t[:2], [Segment("AA", 0.0, 2.0)], words, TABLE, CENTRE))


def test_psnr_against_known_errors() -> None:
    """Identical images: infinite PSNR; a uniform error of 5 levels: 10·log10(255²/25);
    random noise on a real frame: the same value as OpenCV's own PSNR."""
    a = np.random.default_rng(0).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    assert psnr(a, a) == math.inf
    b = np.clip(a.astype(np.int16) + 5, 0, 255).astype(np.uint8)
    a2 = np.clip(a, 0, 250)
    b2 = a2 + 5
    assert psnr(a2, b2) == pytest.approx(10 * math.log10(255**2 / 25))
    assert psnr(a, b) > psnr(a2, b2)  # clipping at 255 makes some errors smaller


@pytest.mark.media
def test_psnr_matches_opencv_on_a_real_frame() -> None:
    import cv2

    from tests.media import shared_media

    img = frames(shared_media("glasses_woman.mp4"))[10]
    noise = np.random.default_rng(2).normal(0, 4, img.shape)
    noisy = np.clip(img + noise, 0, 255).astype(np.uint8)
    assert psnr(img, noisy) == pytest.approx(cv2.PSNR(img, noisy), abs=1e-6)
    assert 33 < psnr(img, noisy) < 38  # σ = 4 levels ≈ 36 dB


def test_crop_clips_the_box_to_the_image() -> None:
    """The face box may reach past the image (landmarks extrapolate): it is clipped; no box or
    an empty one crops nothing."""
    img = np.arange(100 * 80).reshape(100, 80)
    assert _crop(img, None) is img
    assert np.array_equal(_crop(img, [10.7, 20.2, 30.9, 50.0]), img[20:50, 10:30])
    assert np.array_equal(_crop(img, [-15.0, -3.0, 500.0, 40.0]), img[0:40, 0:80])
    assert _crop(img, [50.0, 10.0, 50.0, 90.0]) is img  # zero width
    assert _crop(img, [90.0, 10.0, 120.0, 90.0]) is img  # entirely outside


@pytest.mark.media
@pytest.mark.parametrize("stretch", [0.0, 0.3])
def test_visual_metrics_on_a_written_row(tmp_path: Path, stretch: float) -> None:
    """A retrieved row (interview_man, "asking for help" → "P AA M AA P AA M AA", fitted or
    0.3 s longer) written to H.264 (crf 12, its own timestamps) and measured from the file:
    frames outside the windows match the source (min PSNR ≥ 45 dB; measured 49.0), the
    re-tracked sync is ≥ half the natural one (phone-level: measured 0.99 and 0.99 of 0.72),
    no failure. The same row with one untouched frame brightened by 12 levels fails the PSNR
    gate; with the slot's mouth left as recorded, the elastic row fails the sync gate (the
    recorded mouth does not follow the new phones: measured 0.32, gate 0.36)."""
    import dataclasses

    from tests.lipsync.sources import edit, track_of, write_video
    from vpipe.data.media import Frames, OutputFile
    from vpipe.lipsync.retrieve import retrieve
    from vpipe.lipsync.timeline import slot_windows
    from vpipe.qc.visual import visual_metrics

    src = source("interview_man")
    imgs = frames(src.path)
    track = track_of(src, edit(src, 1.22, 1.87, ("P", "AA", "M", "AA", "P", "AA", "M", "AA"), stretch))
    fr = retrieve(src.video, src.face, src.inventory, track, slot_windows(track, 0.12, src.video.duration))
    images = [fr.rendered.get(k, imgs[int(fr.source_index[k])]) for k in range(len(fr.times))]

    def measure(name: str, pictures: list[np.ndarray], value: Frames = fr) -> tuple[dict[str, float], list[str]]:
        path = write_video(tmp_path / name, pictures, value.times)
        metrics: dict[str, float] = {}
        failures: list[str] = []
        visual_metrics(OutputFile(path, "", 0), track, value, {}, None, metrics, failures)
        return metrics, failures

    metrics, failures = measure("row.mp4", images)
    assert failures == []
    assert metrics["untouched_psnr_min_db"] >= 45
    assert metrics["sync"] >= 0.5 * metrics["sync_natural"] and metrics["sync"] > metrics["sync_control"]
    assert metrics["sync_natural"] == pytest.approx(src.inventory.natural_sync)

    outside = next(k for k in range(len(fr.times)) if k not in fr.rendered and fr.times[k] > 3.0)
    tampered = list(images)
    tampered[outside] = np.clip(images[outside].astype(np.int16) + 12, 0, 255).astype(np.uint8)
    metrics_t, failures_t = measure("tampered.mp4", tampered)
    assert metrics_t["untouched_psnr_min_db"] < 35
    assert any("outside the windows" in f for f in failures_t)

    if stretch:
        recorded = dataclasses.replace(fr, rendered={})
        plain = [imgs[int(f)] for f in fr.source_index]
        metrics_r, failures_r = measure("recorded.mp4", plain, recorded)
        assert metrics_r["sync"] < 0.5 * metrics_r["sync_natural"]
        assert any(f.startswith("lip-sync") for f in failures_r)
