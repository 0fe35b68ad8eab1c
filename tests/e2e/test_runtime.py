"""The runtime as a user drives it: row selection, re-runs, parallel rows, failed and
interrupted rows (never a half-written output), and `vpipe build`'s view of the source."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.e2e.helpers import (
    GLASSES,
    INTERVIEW,
    STUDIO,
    Clip,
    Run,
    decode_audio,
    frame_interval,
    luma_frames,
    psnr,
    read_manifest,
    run_recipe,
    source_slot,
    video_packets,
    vpipe,
    write_recipe,
)
from tests.media import ROOT

pytestmark = pytest.mark.media

IDS = ("a", "b", "c")


def _recipe(work: Path, lipsync: str = "none") -> Path:
    return write_recipe(work, GLASSES, GLASSES.values[: len(IDS)], lipsync=lipsync, ids=IDS)


def _statuses(run: Run) -> dict[str, str]:
    return {row_id: row["status"] for row_id, row in run.rows.items()}


def _outputs(work: Path, pattern: str = "*.mp4") -> list[str]:
    return sorted(p.name for p in (work / "out").glob(pattern)) if (work / "out").is_dir() else []


def _complete(path: Path, frames: int) -> bool:
    """The file decodes to the whole clip (a truncated MP4 does not open, or has fewer frames)."""
    try:
        return len(video_packets(path)) == frames and decode_audio(path).duration > 1.0
    except Exception:
        return False


# --- selecting rows, re-running -------------------------------------------------------------------
def test_rows_and_only_select_rows(tmp_path: Path, e2e_cache: Path) -> None:
    recipe = _recipe(tmp_path)
    run = run_recipe(recipe, "--rows", "2:3", cache=e2e_cache)
    assert run.cli.code == 0, run.cli.text
    assert _statuses(run) == {"b": "ok", "c": "ok"}
    assert _outputs(tmp_path) == ["b.mp4", "c.mp4"]

    run = run_recipe(recipe, "--only", "a", cache=e2e_cache)
    assert _statuses(run) == {"a": "ok"}
    assert "rendered 1 row(s), 0 up to date, 0 failed" in run.cli.stdout
    assert _outputs(tmp_path) == ["a.mp4", "b.mp4", "c.mp4"]
    # out/manifest.jsonl is the latest view over both runs: rows b and c keep their result
    view = {r["id"]: r for r in run.view if r["type"] == "row"}
    assert {k: r["status"] for k, r in view.items()} == {"a": "ok", "b": "ok", "c": "ok"}
    assert view["a"]["run"] != view["b"]["run"] == view["c"]["run"]
    assert [r["status"] for r in run.view[0]["runs"]] == ["complete", "complete"]
    assert view["b"]["script"] == "bringing in reforms to tighten that oversight and his"
    assert view["b"]["values"] == {"id": "b", "value": "oversight"}
    assert {d["slot"]: d["decision"] for d in view["b"]["duration"]} == {"value": "fit"}
    # the speaker's own sounds, heard as the word (speech.match_voice's guard), and the manifest says so
    assert view["b"]["duration"][0]["voice"].startswith("own units"), view["b"]["duration"]

    run = run_recipe(recipe, "--rows", "3", "--only", "c", cache=e2e_cache)
    assert _statuses(run) == {"c": "up-to-date"}

    cli = vpipe("run", recipe, "--no-progress", "--only", "zz", "--cache-dir", e2e_cache)
    assert cli.code == 2 and "VP014 --only: no row has id zz" in cli.stderr
    cli = vpipe("run", recipe, "--no-progress", "--rows", "x:y", "--cache-dir", e2e_cache)
    assert cli.code == 2 and "VP014 --rows 'x:y' must look like 3, 1:10, :5 or 4:" in cli.stderr
    cli = vpipe("run", recipe, "--no-progress", "--rows", "5:9", "--cache-dir", e2e_cache)
    assert cli.code == 2 and "VP014 --rows 5:9 selects no row (the recipe has 3 row(s))" in cli.stderr


@pytest.fixture
def rendered(tmp_path: Path, e2e_cache: Path) -> tuple[Path, dict[str, Path]]:
    recipe = _recipe(tmp_path)
    run = run_recipe(recipe, cache=e2e_cache)
    assert run.cli.code == 0 and set(_statuses(run).values()) == {"ok"}, run.cli.text
    return recipe, {row_id: run.output(row_id) for row_id in IDS}


def test_rerun_reports_up_to_date_and_writes_nothing(rendered: tuple[Path, dict[str, Path]], e2e_cache: Path) -> None:
    recipe, outputs = rendered
    before = {row_id: (p.stat().st_mtime_ns, p.read_bytes()) for row_id, p in outputs.items()}
    # the first run's report pictures, marked: an up-to-date row's pictures are taken from the
    # previous run's report, not made again by decoding its video (that grew with its length)
    pictures = sorted((recipe.parent / "out" / "runs").glob("*/report/rows/*"))
    assert len(pictures) >= 2 * len(IDS), pictures  # contact sheet and waveform (no mouth curve: lipsync none)
    for picture in pictures:
        picture.write_bytes(b"earlier " + picture.name.encode())
    time.sleep(0.02)  # so that a rewrite would show in the modification times
    run = run_recipe(recipe, cache=e2e_cache)
    assert run.cli.code == 0
    assert "rendered 0 row(s), 3 up to date, 0 failed" in run.cli.stdout
    again = sorted(p for p in (recipe.parent / "out" / "runs").glob("*/report/rows/*") if p not in pictures)
    assert [(p.name, p.read_bytes()) for p in again] == [(p.name, b"earlier " + p.name.encode()) for p in pictures]
    assert _statuses(run) == dict.fromkeys(IDS, "up-to-date")
    for row_id, p in outputs.items():
        assert (p.stat().st_mtime_ns, p.read_bytes()) == before[row_id]
        assert run.rows[row_id]["qc"]["metrics"]  # the report of the rendered file is kept
    assert _outputs(recipe.parent, ".*") == []  # no temporary files


def test_deleted_output_is_rendered_again(rendered: tuple[Path, dict[str, Path]], e2e_cache: Path) -> None:
    recipe, outputs = rendered
    frames = len(video_packets(outputs["b"]))
    outputs["b"].unlink()
    run = run_recipe(recipe, cache=e2e_cache)
    assert _statuses(run) == {"a": "up-to-date", "b": "ok", "c": "up-to-date"}
    assert outputs["b"].is_file(), "row b is reported rendered, but its output was not written"
    assert _complete(outputs["b"], frames)


def test_deleted_or_edited_provenance_sidecar_renders_the_row_again(
    rendered: tuple[Path, dict[str, Path]], e2e_cache: Path
) -> None:
    recipe, outputs = rendered
    sidecar_a, sidecar_c = (outputs[r].with_name(outputs[r].name + ".provenance.json") for r in ("a", "c"))
    facts = sidecar_c.read_text()
    sidecar_c.unlink()
    sidecar_a.write_text(sidecar_a.read_text().replace('"synthesized"', '"edited"'))
    run = run_recipe(recipe, cache=e2e_cache)
    assert _statuses(run) == {"a": "ok", "b": "up-to-date", "c": "ok"}
    assert sidecar_c.read_text() == facts  # the same facts written again
    assert '"synthesized"' in sidecar_a.read_text()


def test_force_renders_up_to_date_rows_again(rendered: tuple[Path, dict[str, Path]], e2e_cache: Path) -> None:
    recipe, outputs = rendered
    before = {row_id: p.stat().st_mtime_ns for row_id, p in outputs.items()}
    time.sleep(0.02)
    run = run_recipe(recipe, "--force", cache=e2e_cache)
    assert _statuses(run) == dict.fromkeys(IDS, "ok")
    rewritten = [row_id for row_id, p in outputs.items() if p.stat().st_mtime_ns != before[row_id]]
    assert rewritten == list(IDS), "--force reported the rows rendered but did not write them"


# --- parallel rows ----------------------------------------------------------------------------------
def test_jobs_2_gives_the_same_outputs_as_jobs_1(tmp_path: Path) -> None:
    """Each run with its own fresh cache: the two runs share nothing but the recipe."""
    runs = {}
    for jobs in ("1", "2"):
        work = tmp_path / f"jobs{jobs}"
        runs[jobs] = run_recipe(_recipe(work, lipsync="retrieve"), "--jobs", jobs, cache=work / "cache")
        assert runs[jobs].cli.code == 0, runs[jobs].cli.text
        assert _statuses(runs[jobs]) == dict.fromkeys(IDS, "ok")
    for row_id in IDS:
        one, two = runs["1"].output(row_id), runs["2"].output(row_id)
        a1, a2 = decode_audio(one), decode_audio(two)
        assert a1.samples.shape == a2.samples.shape
        assert np.array_equal(a1.samples, a2.samples), f"row {row_id}: the decoded audio differs"
        # The pictures agree to within codec noise (the 45 dB the QC asks of untouched frames):
        # rendering is not bit-reproducible in every environment (three runs side by side here
        # were identical; CI once measured 46.7 dB on one re-animated frame), so an exact
        # comparison would test that instead. Tracked in the closing note of issue 4.
        f1, f2 = luma_frames(one), luma_frames(two)
        assert [t for t, _ in f1] == [t for t, _ in f2]
        worst = min(psnr(x, y) for (_, x), (_, y) in zip(f1, f2, strict=True))
        assert worst >= 45, f"row {row_id}: a frame differs between the runs ({worst:.1f} dB)"
        m1, m2 = runs["1"].rows[row_id]["qc"]["metrics"], runs["2"].rows[row_id]["qc"]["metrics"]
        assert m1.keys() == m2.keys()
        audio = [k for k in m1 if k.startswith("value.")]  # measured on the (identical) sound
        assert {k: m1[k] for k in audio} == pytest.approx({k: m2[k] for k in audio}, abs=1e-3)


# --- failed and interrupted rows -------------------------------------------------------------------
def test_container_that_cannot_hold_the_codec_is_refused_before_anything_runs(tmp_path: Path) -> None:
    """WebM cannot carry H.264 (the default codec): a recipe error, not three failed rows."""
    recipe = _recipe(tmp_path)
    recipe.write_text(recipe.read_text().replace('.mp4"}', '.webm"}'))
    cli = vpipe("run", recipe, "--no-progress", "--cache-dir", tmp_path / "cache")
    assert cli.code == 2
    line = next(i for i, text in enumerate(recipe.read_text().splitlines(), 1) if text.startswith("output:"))
    assert f"{recipe}:{line}:16: VP037 a .webm file cannot hold h264 video" in cli.stderr
    assert "help: for .webm use codec vp9 or av1" in cli.stderr
    assert _outputs(tmp_path, "*") == []


def test_webm_with_vp9_reencodes_the_copied_stream(tmp_path: Path, e2e_cache: Path) -> None:
    """Audio only into WebM: the source's H.264 stream cannot be copied there, so the picture
    is re-encoded (VP9) frame for frame, with the new sound in Opus."""
    import av

    recipe = write_recipe(tmp_path, GLASSES, GLASSES.values[:1])
    recipe.write_text(recipe.read_text().replace('.mp4"}', '.webm", codec: vp9}'))
    run = run_recipe(recipe, cache=e2e_cache)
    assert run.cli.code == 0, run.cli.text
    path = run.output("r1")
    assert path.suffix == ".webm"
    with av.open(str(path)) as c:
        assert (c.streams.video[0].codec_context.name, c.streams.audio[0].codec_context.name) == ("vp9", "opus")
    src, out = luma_frames(GLASSES.source), luma_frames(path)
    assert len(out) == len(src)
    assert min(psnr(a, b) for (_, a), (_, b) in zip(src, out, strict=True)) > 35


def test_failed_write_fails_that_row_only_and_leaves_no_partial_output(tmp_path: Path, e2e_cache: Path) -> None:
    """Row b's output path is taken by a folder: its file cannot be put in place. Row b fails
    with a coded diagnostic (not "internal error", VP399), the others render, and no temporary
    file is left behind."""
    recipe = _recipe(tmp_path)
    (tmp_path / "out" / "b.mp4").mkdir(parents=True)
    run = run_recipe(recipe, cache=e2e_cache)
    assert run.cli.code == 1
    assert _statuses(run) == {"a": "ok", "b": "failed", "c": "ok"}
    assert run.codes("b") == ["VP308"], run.rows["b"]["diagnostics"]
    assert "VP308" in run.cli.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "a.mp4",
        "a.mp4.provenance.json",
        "b.mp4",
        "c.mp4",
        "c.mp4.provenance.json",
        "manifest.jsonl",
        "runs",
    ]
    assert (tmp_path / "out" / "b.mp4").is_dir() and not any((tmp_path / "out" / "b.mp4").iterdir())


def _interrupt(work: Path, sig: signal.Signals) -> tuple[subprocess.CompletedProcess[str], int]:
    """`vpipe run` in its own process, sent `sig` while it writes the row's frames into the
    temporary file (the fault-injection point `encode`: polling for the temporary file missed
    it when the splice writes a row in milliseconds)."""
    recipe = write_recipe(work, GLASSES, GLASSES.values[:1], lipsync="retrieve")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VPIPE_FAULT_KILL": "encode", "VPIPE_FAULT_SIGNAL": sig.name[3:]}
    cmd = [sys.executable, "-m", "vpipe", "run", str(recipe), "--no-progress", "--cache-dir", str(work / "cache")]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=work, timeout=600)
    return done, len(video_packets(GLASSES.source))


def test_ctrl_c_during_a_write_leaves_no_partial_output(tmp_path: Path) -> None:
    done, frames = _interrupt(tmp_path, signal.SIGINT)
    assert done.returncode != 0, "the run finished before it was interrupted"
    assert "Traceback" not in done.stdout + done.stderr
    out = tmp_path / "out"
    assert not any(out.glob(".*.tmp.*")), "the temporary file was left behind"
    final = out / "r1.mp4"
    assert not final.exists() or _complete(final, frames)
    # the run is recorded as interrupted, in its own manifest and in the view
    records = read_manifest(out / "manifest.jsonl")
    assert records[0]["runs"][-1]["status"] == "interrupted"
    (folder,) = (out / "runs").iterdir()
    summary = read_manifest(folder / "manifest.jsonl")[-1]
    assert summary["type"] == "summary" and summary["status"] == "interrupted"


def test_killed_run_leaves_no_partial_output_after_the_next_run(tmp_path: Path, e2e_cache: Path) -> None:
    """SIGKILL cannot be cleaned up after: the final name must still never hold half a file,
    and the next run completes the row and sweeps the dead run's temporary file."""
    done, frames = _interrupt(tmp_path, signal.SIGKILL)
    assert done.returncode == -signal.SIGKILL
    out = tmp_path / "out"
    assert not (out / "r1.mp4").exists() or _complete(out / "r1.mp4", frames)
    run = run_recipe(tmp_path / "recipe.yaml", cache=tmp_path / "cache")
    assert run.cli.code == 0 and _statuses(run) == {"r1": "ok"}
    assert _complete(out / "r1.mp4", frames)
    assert sorted(p.name for p in out.iterdir()) == ["manifest.jsonl", "r1.mp4", "r1.mp4.provenance.json", "runs"], (
        "stale temporary files remain"
    )
    # the killed run wrote no summary: the view marks it interrupted, the next run complete
    assert [r["status"] for r in run.view[0]["runs"]] == ["interrupted", "complete"]


# --- vpipe build -------------------------------------------------------------------------------------
@pytest.mark.parametrize("clip", [INTERVIEW, STUDIO], ids=lambda c: c.name)
def test_build_prints_the_transcript_with_slot_words_and_times(clip: Clip, tmp_path: Path, e2e_cache: Path) -> None:
    recipe = write_recipe(tmp_path, clip, clip.values[:2])
    cli = vpipe("build", recipe, "--cache-dir", e2e_cache)
    assert cli.code == 0, cli.text
    lines = cli.stdout.splitlines()
    (transcript,) = [line for line in lines if line.startswith("  transcript  ")]
    marked = transcript.split("  ")[2]
    for word in clip.slot_word.split():
        assert f"[{word}]" in marked
    assert marked.replace("[", "").replace("]", "") == clip.transcript
    assert transcript.endswith("(given)")
    (slot,) = [line for line in lines if line.startswith("  slot  ")]
    assert f"value ← “{clip.slot_word}”" in slot
    times, frames = slot.split("”")[1].split(", frames ")
    start, end = (float(x) for x in times.strip().removesuffix(" s").split("–"))
    first, last = (int(x) for x in frames.split("–"))
    aligned = source_slot(clip)
    assert start == pytest.approx(aligned.start, abs=0.02) and end == pytest.approx(aligned.end, abs=0.02)
    frame_times = sorted(float(t) for t, _ in video_packets(clip.source))
    shown = [i for i, t in enumerate(frame_times) if start - frame_interval(clip.source) < t <= end]
    assert abs(first - shown[0]) <= 1 and abs(last - shown[-1]) <= 1
    assert "rows        2 from" in cli.stdout
