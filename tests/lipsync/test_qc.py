"""The weight-free sync measure (vpipe.lipsync.sync) and the visual QC helpers (vpipe.qc.visual).

The sync measure is checked on real speech: the three shared clips' own mouths follow their
own aligned phones (positive natural baseline), a mouth that shows exactly the speaker's
aperture per phone scores ~1, and the same apertures shuffled in time or under phones from
another moment score near 0."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tests.lipsync.sources import frames, source
from vpipe.data.alignment import Segment
from vpipe.face.landmarks import mouth_aperture
from vpipe.lipsync.sync import correlation, natural_baseline, sync_score
from vpipe.lipsync.visemes import INDEX, frame_visemes
from vpipe.qc.visual import _crop, psnr

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
    """Each speaker's measured aperture follows their own aligned phones (mean r over
    slot-sized windows > 0.3; measured 0.61, 0.61, 0.69); the inventory stores the same
    value; the same phones moved 0.7 s earlier (misaligned) score far lower (measured
    -0.14 to -0.18)."""
    src = source(name)
    inv = src.inventory
    usable = src.face.usable
    aperture = np.asarray(mouth_aperture(src.face.landmarks[usable]), np.float64)
    times = src.face.times[usable]
    phones = list(src.alignment.phones)
    natural = natural_baseline(aperture, times, phones, inv.viseme_aperture)
    assert natural > 0.3
    assert inv.natural_sync == pytest.approx(natural, abs=1e-9)
    early = [Segment(p.label, p.start - 0.7, p.end - 0.7) for p in phones]
    assert natural_baseline(aperture, times, early, inv.viseme_aperture) < natural - 0.3


@pytest.mark.media
def test_sync_score_perfect_vs_shuffled() -> None:
    """On interview_man's real phones and frame times: a mouth showing, at each frame, this
    speaker's aperture for the phone under it scores > 0.9 (only the predictor's smoothing
    differs; measured 0.93); the same values shuffled in time score |r| < 0.2 on average over
    20 shuffles (measured -0.02, max 0.25); the real mouth lies between (measured 0.71)."""
    src = source("interview_man")
    table = src.inventory.viseme_aperture
    phones = list(src.alignment.phones)
    times = src.face.times
    perfect = np.array([table[INDEX[v]] for v in frame_visemes(phones, times)])
    assert sync_score(perfect, times, phones, table) > 0.9
    rng = np.random.default_rng(1)
    shuffled = [sync_score(rng.permutation(perfect), times, phones, table) for _ in range(20)]
    assert abs(float(np.mean(shuffled))) < 0.2 and max(shuffled) < 0.5
    # the real mouth lies between the two
    real = np.asarray(mouth_aperture(src.face.landmarks), np.float64)
    assert 0.3 < sync_score(real, times, phones, table) < 0.95


def test_natural_baseline_needs_speech() -> None:
    """No speech phones, or fewer than 4 frames: no baseline (NaN), never a fake number."""
    t = np.arange(0.0, 2.0, 0.04)
    assert math.isnan(natural_baseline(np.ones_like(t), t, [Segment("SIL", 0.0, 2.0)]))
    assert math.isnan(natural_baseline(np.ones(3), t[:3], [Segment("AA", 0.0, 2.0)]))


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
    re-tracked sync is ≥ half the natural one (measured 0.57 and 0.78 of 0.61), no failure.
    The same row with one untouched frame brightened by 12 levels fails the PSNR gate; with
    the slot's mouth left as recorded, the elastic row fails the sync gate (the recorded
    mouth does not follow the new phones: control 0.06)."""
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
