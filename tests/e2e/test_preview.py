"""`vpipe preview RECIPE --row N`: a row's script and new audio, no video, each preview in
its own process as a user runs it. The first prepares the piper voice and keeps its prepared
form beside the cache; the next loads it from there and leaves it as it was."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile

from tests.e2e.helpers import INTERVIEW, write_recipe

ROOT = Path(__file__).resolve().parents[2]


def _preview(recipe: Path, row: int, cache: Path) -> dict[str, object]:
    args = [sys.executable, "-m", "vpipe", "preview", str(recipe), "--row", str(row)]
    done = subprocess.run(
        [*args, "--cache-dir", str(cache), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.mark.slow
def test_preview_speaks_the_row_and_keeps_the_prepared_voice(tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path, INTERVIEW, ["coaching", "patience"], duration="auto")
    cache = tmp_path / "cache"
    first = _preview(recipe, 1, cache)
    assert "coaching" in str(first["script"]) and first["id"] == "r1"
    audio, rate = soundfile.read(str(first["audio"]))
    assert rate > 8000 and len(audio) / rate > 1.0 and abs(audio).max() > 0.01  # speech, not silence
    (slot,) = first["slots"]  # type: ignore[misc]
    assert slot["said"] == "coaching" and 0 <= slot["start"] < slot["end"] <= len(audio) / rate
    (prepared,) = (tmp_path / "cache-store" / "piper").iterdir()
    files = {p.name: p.stat().st_mtime_ns for p in prepared.iterdir()}
    assert sorted(files) == ["decoder.onnx", "durations.onnx", "front.onnx", "meta.json"]
    second = _preview(recipe, 2, cache)  # a new value: spoken by a new worker, from the kept voice
    assert "patience" in str(second["script"]) and Path(str(second["audio"])).is_file()
    assert {p.name: p.stat().st_mtime_ns for p in prepared.iterdir()} == files  # read, not prepared again
