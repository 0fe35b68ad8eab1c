"""Lip-sync with the weight-free backends on the three real clips (slow): the manifest's
visual QC (untouched frames, seams, sync against the untouched-mouth control and the
speaker's natural value, aggregated over each clip's rows), and, measured on the files,
that only the face region of the re-rendered frames changed."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.e2e.helpers import (
    CLIPS,
    GLASSES,
    Clip,
    Run,
    changed_pixels,
    decode_audio,
    face_region,
    frame_interval,
    heard,
    inside,
    luma_frames,
    outside,
    psnr,
    run_recipe,
    source_slot,
    write_recipe,
)
from tests.media import ROOT

pytestmark = [pytest.mark.media, pytest.mark.slow]

ARTIFACTS = ROOT / "test-artifacts" / "contact-sheets"

N_ROWS = 3


@pytest.fixture(scope="module", params=CLIPS, ids=lambda c: c.name)
def retrieve_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, e2e_cache: Path):
    """One `vpipe run` per clip with the default lip-sync and duration policy, 3 rows."""
    clip: Clip = request.param
    recipe = write_recipe(
        tmp_path_factory.mktemp(f"retrieve-{clip.name}"),
        clip,
        clip.values[:N_ROWS],
        lipsync="retrieve",
        duration="auto",
        extra="qc: {contact_sheets: true}\n",
    )
    return clip, run_recipe(recipe, cache=e2e_cache)


def _metrics(run: Run) -> list[dict[str, float]]:
    return [run.rows[f"r{i + 1}"]["qc"]["metrics"] for i in range(N_ROWS)]


def test_retrieve_renders_every_row(retrieve_run: tuple[Clip, Run]) -> None:
    clip, run = retrieve_run
    assert run.cli.code == 0, run.cli.text
    assert [run.rows[f"r{i + 1}"]["status"] for i in range(N_ROWS)] == ["ok"] * N_ROWS
    for i in range(N_ROWS):
        row = run.rows[f"r{i + 1}"]
        assert row["qc"]["failures"] == [], (clip.name, row["qc"])
        assert heard(run.output(f"r{i + 1}"), clip, clip.values[i]).new_wins
        # measured 0.006-0.051 dB over the three clips: a tenfold regression still fails
        assert abs(row["qc"]["metrics"]["value.loudness_delta_db"]) <= 0.5, (clip.name, row["qc"]["metrics"])


def test_untouched_frames_and_seams(retrieve_run: tuple[Clip, Run]) -> None:
    clip, run = retrieve_run
    metrics = _metrics(run)
    print(
        f"{clip.name}: untouched PSNR min {[round(m['untouched_psnr_min_db'], 1) for m in metrics]} dB, "
        f"seam ratio {[round(m['seam_ratio'], 2) for m in metrics]}"
    )
    for i, m in enumerate(metrics):
        assert m["untouched_psnr_min_db"] >= 45, f"{clip.name} row {i + 1}: {m['untouched_psnr_min_db']:.1f} dB"
        # measured 0.37-1.03 over the three clips (vpipe's own QC allows 2)
        assert m["seam_ratio"] <= 1.5, f"{clip.name} row {i + 1}: seam ratio {m['seam_ratio']:.2f}"


def test_sync_beats_the_control_and_nears_the_natural_value(
    retrieve_run: tuple[Clip, Run],
) -> None:
    """Averaged over the clip's rows (one slot window is ~10 frames: a single row is noisy).
    The rendered mouth follows the new sound about as well as the speaker's own mouth follows
    their own speech, and better than the untouched mouth does."""
    clip, run = retrieve_run
    metrics = _metrics(run)
    sync = float(np.mean([m["sync"] for m in metrics]))
    control = float(np.mean([m["sync_control"] for m in metrics]))
    natural = float(np.mean([m["sync_natural"] for m in metrics]))
    summary = (
        f"{clip.name}: sync {sync:.3f} (rows {[round(m['sync'], 3) for m in metrics]}), control {control:.3f} "
        f"(rows {[round(m['sync_control'], 3) for m in metrics]}), natural {natural:.3f}"
    )
    print(summary)
    assert all(math.isfinite(m["sync"]) and math.isfinite(m["sync_control"]) for m in metrics), summary
    assert sync >= 0.9 * natural, summary
    # The control (the recorded mouth left as it was) can only be beaten where it is out of step
    # with the new sound: when the recorded word opens and closes the mouth like the new one
    # (interview: 'help' against 'feedback', 'support', 'advice'), it scores as high as natural
    # speech, and there is nothing to beat.
    if control < natural:
        assert sync > control + 0.1, summary


def _source_time(t: float, start: float, end: float, delta: float) -> float:
    """The source moment an output frame shows: the slot [start, end) plays for end - start
    + delta seconds (an elastic slot), everything after it `delta` later."""
    if t < start:
        return t
    if t >= end + delta:
        return t - delta
    return start + (t - start) * (end - start) / (end - start + delta)


STRETCH_MARGIN = 0.25  # s around the slot: the window's coarticulation margin and the snapping


def _check_only_the_face_changed(clip: Clip, path: Path) -> tuple[int, float]:
    """Every output frame matches a source frame (of about the moment it shows: ±2 frames, and
    ±|delta| inside a stretched window) outside the face region; returns how many frames were
    re-rendered inside it and the lowest PSNR outside the face region.

    An elastic slot's window shows moments between source frames, with the whole head
    interpolated there (tests/lipsync/test_interpolate.py measures that picture against the
    recorded frames): its frames are held to look like a nearby source frame (≥ 30 dB outside
    the face), and not one of them may repeat the frame before it (a stutter)."""
    box = face_region(clip.source)
    period = frame_interval(clip.source)
    slot = source_slot(clip)
    delta = decode_audio(path).duration - decode_audio(clip.source).duration
    src = luma_frames(clip.source)
    stretched = abs(delta) > period / 2
    rendered, lowest, previous = [], math.inf, None
    for t, image in luma_frames(path):
        want = _source_time(t, slot.start, slot.end, delta)
        near = [s for s in src if abs(s[0] - want) <= 2 * period + abs(delta)]
        best = max(near, key=lambda s: psnr(outside(s[1], box), outside(image, box)))
        around = psnr(outside(best[1], box), outside(image, box))
        in_stretch = stretched and slot.start - STRETCH_MARGIN <= t < slot.end + delta + STRETCH_MARGIN
        if in_stretch:
            assert around >= 30, f"{path.name} at {t:.3f} s: {around:.1f} dB outside the face region"
            assert previous is None or changed_pixels(previous, image, 2) > 0, f"{path.name} at {t:.3f} s repeats"
        else:
            lowest = min(lowest, around)
            assert around >= 45, f"{path.name} at {t:.3f} s: {around:.1f} dB outside the face region"
        previous = image
        if changed_pixels(inside(best[1], box), inside(image, box)) > 50:
            rendered.append(t)
    assert rendered, f"{path.name}: no frame was re-animated"
    first, last = slot.start - 0.6, slot.end + max(delta, 0.0) + 0.6
    assert all(first <= t <= last for t in rendered), f"{path.name}: frames far from the slot changed: {rendered}"
    return len(rendered), lowest


def test_only_the_face_of_rendered_frames_changes(retrieve_run: tuple[Clip, Run]) -> None:
    clip, run = retrieve_run
    checks = [_check_only_the_face_changed(clip, run.output(f"r{i + 1}")) for i in range(N_ROWS)]
    counts = [n for n, _ in checks]
    print(f"{clip.name}: re-animated frames per row {counts}, PSNR outside the face {[round(p, 1) for _, p in checks]}")
    assert max(counts) >= 3


def test_contact_sheets_show_source_over_output(retrieve_run: tuple[Clip, Run]) -> None:
    """qc.contact_sheets: a PNG per row beside the output, named in the manifest, with the
    source's face above and the output's below; kept in test-artifacts/ for a human to look at."""
    import cv2

    clip, run = retrieve_run
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for i in range(N_ROWS):
        row_id = f"r{i + 1}"
        sheet = Path(run.rows[row_id]["qc"]["contact_sheet"])
        assert sheet == run.output(row_id).parent / "qc" / f"{row_id}.png"
        image = cv2.imread(str(sheet), cv2.IMREAD_COLOR)
        assert image is not None and image.shape[0] % 2 == 0 and image.shape[1] > image.shape[0]
        top, bottom = np.split(image.astype(np.int16), 2)
        assert np.abs(top - bottom).max() > 30, "the output row shows the source's mouth"
        assert np.abs(top - bottom).mean() < 20, "the two rows do not show the same face"
        shutil.copy(sheet, ARTIFACTS / f"{clip.name}-{row_id}.png")


@pytest.fixture(scope="module")
def retime_run(tmp_path_factory: pytest.TempPathFactory, e2e_cache: Path) -> Run:
    recipe = write_recipe(tmp_path_factory.mktemp("retime"), GLASSES, GLASSES.values[:2], lipsync="retime")
    return run_recipe(recipe, cache=e2e_cache)


def test_retime_backend_runs(retime_run: Run) -> None:
    assert retime_run.cli.code == 0, retime_run.cli.text
    for i in range(2):
        row = retime_run.rows[f"r{i + 1}"]
        assert row["status"] == "ok"
        m = row["qc"]["metrics"]
        assert m["untouched_psnr_min_db"] >= 45 and m["seam_ratio"] <= 1.5  # measured 0.34-0.35
        assert math.isfinite(m["sync"])
        _check_only_the_face_changed(GLASSES, retime_run.output(f"r{i + 1}"))
