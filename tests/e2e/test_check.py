"""`vpipe check` does all the checking it can before anything renders, on the real clips: the
transcript against the audio (the words that do not fit), the slots in the recording when
the transcript is recognised, every value's speakability, and every stage's errors at once;
`vpipe build`'s estimate comes from what earlier runs in the same cache measured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.clips import INTERVIEW
from tests.e2e.helpers import run_recipe, vpipe, write_recipe

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
    run = run_recipe(recipe, "--rows", "1:2", cache=cache)
    assert run.cli.code == 0, run.cli.text
    first, second = (run.rows[i]["seconds"] for i in ("r1", "r2"))
    # a row's CPU time counts the speech worker's synthesis and ffmpeg's encoding too
    assert run.rows["r2"]["cpu_timings"]["speech"] > 0 and run.rows["r2"]["cpu_seconds"] > 0
    (recorded,) = [json.loads(line) for line in (cache / "timings.jsonl").read_text().splitlines()]
    assert recorded["rows"] == pytest.approx([first, second], abs=0.001)
    assert recorded["rows_cpu"] == pytest.approx([run.rows[i]["cpu_seconds"] for i in ("r1", "r2")], abs=0.001)
    plan = json.loads(vpipe("build", recipe, "--cache-dir", cache, "--format", "json").stdout)["plan"]
    estimate = plan["estimate"]
    # the first row of a run also loads the models: the steady row is the second, the rest warm-up;
    # a run that just ended sets the pace: its CPU seconds at the wall/CPU ratio it ran at
    assert estimate["from"].startswith("measured: median of 1 row(s) of earlier runs in this cache (")
    assert estimate["calibration"]["basis"] == "cpu" and recorded["contention"] >= 1.0
    assert "as the last run went" in estimate["from"] and estimate["calibration"]["pace_age_seconds"] < 600
    assert estimate["per_row_seconds"] == pytest.approx(second, rel=0.01)
    assert estimate["shared_seconds"] >= 0.0
