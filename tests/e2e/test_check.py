"""`vpipe check` does all the checking it can before anything renders, on the real clips: the
transcript against the audio (the words that do not fit), the slots in the recording when
the transcript is recognised, every value's speakability, and every stage's errors at once;
`vpipe build`'s estimate comes from what earlier runs in the same cache measured."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clips import INTERVIEW
from tests.e2e.helpers import vpipe, write_recipe

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.media

WRONG = "my biggest fear is asking for help when it is raining outside today"


def test_a_transcript_that_does_not_fit_the_audio_is_named_word_by_word(tmp_path: Path, e2e_cache: Path) -> None:
    recipe = write_recipe(tmp_path, INTERVIEW, ["feedback"])
    recipe.write_text(recipe.read_text().replace(INTERVIEW.transcript, WRONG).replace("weakness", "fear"))
    cli = vpipe("check", recipe, "--cache-dir", e2e_cache)
    assert cli.code == 0, cli.text  # a warning: the user may know better
    assert "VP207 warning: the transcript does not fit the audio: 'raining' (" in cli.stderr
    assert "'outside'" in cli.stderr and "'help'" not in cli.stderr.split("VP207")[1].split("\n")[0]
    right = write_recipe(tmp_path / "right", INTERVIEW, ["feedback"])
    assert "VP207" not in vpipe("check", right, "--cache-dir", e2e_cache).stderr


def test_check_resolves_slots_without_a_transcript(tmp_path: Path, e2e_cache: Path) -> None:
    recipe = write_recipe(tmp_path, INTERVIEW, ["feedback"])
    text = recipe.read_text().replace(f"  transcript: {INTERVIEW.transcript}\n", "")
    recipe.write_text(text.replace("value: {say: help}", "value: {say: umbrella}"))
    cli = vpipe("check", recipe, "--cache-dir", e2e_cache)
    assert cli.code == 2 and "VP201 slot 'value': 'umbrella' is not said in the source" in cli.stderr


def test_check_reports_every_stage_at_once(tmp_path: Path, e2e_cache: Path) -> None:
    """An unspeakable value (found at check, not at run), an empty one and a template column
    that does not exist: all in one pass."""
    recipe = write_recipe(tmp_path, INTERVIEW, ["Дмитрий", "", "advice"])
    cli = vpipe("check", recipe, "--cache-dir", e2e_cache, "--format", "json")
    codes = sorted(d["code"] for d in json.loads(cli.stdout))
    assert cli.code == 2 and codes == ["VP047", "VP305"], cli.stdout
    recipe.write_text(recipe.read_text().replace(str(INTERVIEW.source), "missing.mp4"))
    recipe.write_text(recipe.read_text().replace("{{ value }}", "{{ valeu }}"))
    cli = vpipe("check", recipe, "--cache-dir", e2e_cache, "--format", "json")
    codes = sorted(d["code"] for d in json.loads(cli.stdout))
    assert cli.code == 2 and "VP020" in codes and "VP033" in codes, codes


def test_build_estimates_from_earlier_runs_in_the_cache(tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path, INTERVIEW, INTERVIEW.values[:3])
    cache = tmp_path / "cache"
    plan = json.loads(vpipe("build", recipe, "--cache-dir", cache, "--format", "json").stdout)["plan"]
    assert plan["estimate"]["from"].startswith("the kernels' own estimates")
    # the run in its own process, as a user runs it: its start-up is timed too
    args = [sys.executable, "-m", "vpipe", "run", str(recipe), "--no-progress", "--rows", "1:2"]
    done = subprocess.run(
        [*args, "--cache-dir", str(cache), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    summary = json.loads(done.stdout)
    rows = {r["id"]: r for r in summary["rows"]}
    first, second = (rows[i]["seconds"] for i in ("r1", "r2"))
    # a row's CPU time counts the speech worker's synthesis and ffmpeg's encoding too
    assert rows["r2"]["cpu_timings"]["speech"] > 0 and rows["r2"]["cpu_seconds"] > 0
    (recorded,) = [json.loads(line) for line in (cache / "timings.jsonl").read_text().splitlines()]
    assert recorded["rows"] == pytest.approx([first, second], abs=0.001)
    assert recorded["rows_cpu"] == pytest.approx([rows[i]["cpu_seconds"] for i in ("r1", "r2")], abs=0.001)
    # start-up: from the process's start to the run's (imports, the recipe compiled), both clocks
    assert recorded["startup"][0] == pytest.approx(summary["startup_seconds"], abs=0.001)
    assert recorded["startup"][0] > 0.2 and recorded["startup"][1] > 0.2
    assert 0 < recorded["compile"][1] <= recorded["startup"][1]  # compiling the recipe is part of it
    # on this cold cache the speech worker started in the shared analysis: its CPU there is recorded
    assert recorded["shared_cached"] is False and recorded["shared_worker_cpu"] > 0
    plan = json.loads(vpipe("build", recipe, "--cache-dir", cache, "--format", "json").stdout)["plan"]
    estimate = plan["estimate"]
    # the first row of a run also loads the models: the steady row is the second, the rest warm-up;
    # a run that just ended sets the pace: its CPU seconds at the wall/CPU ratio it ran at
    assert estimate["from"].startswith("measured: median of 1 row(s) of earlier runs in this cache (")
    assert estimate["calibration"]["basis"] == "cpu" and recorded["contention"] >= 1.0
    assert "as the last run went" in estimate["from"] and estimate["calibration"]["pace_age_seconds"] < 600
    # the last run's pace: its wall over its CPU seconds, all of it (start-up, shared, rows)
    walls = sum(recorded["rows"]) + recorded["shared_seconds"] + recorded["startup"][0]
    cpus = sum(recorded["rows_cpu"]) + recorded["shared_cpu"] + recorded["startup"][1]
    assert estimate["calibration"]["pace"] == pytest.approx(walls / cpus, abs=0.002)
    assert estimate["per_row_seconds"] == pytest.approx(recorded["rows_cpu"][1] * walls / cpus, rel=0.01)
    assert estimate["shared_seconds"] >= 0.0 and estimate["startup_seconds"] > 0.0
    # the next run finds the shared analysis cached: its first row loads what the cold run's shared
    # analysis did (the speech worker), on top of the cold run's own first-row extra
    calibration = estimate["calibration"]
    assert calibration["warmup_cpu_seconds"] == pytest.approx(
        recorded["rows_cpu"][0] - recorded["rows_cpu"][1] + recorded["shared_worker_cpu"], abs=0.01
    )
    parts = estimate["startup_seconds"] + estimate["shared_seconds"] + estimate["warmup_seconds"]
    assert estimate["total_seconds"] == pytest.approx(parts + 3 * estimate["per_row_seconds"], abs=0.01)
