"""kill -9 at every phase of a row, then resume: a 20-row re-animated run is killed (SIGKILL,
from the fault-injection hook VPIPE_FAULT_KILL, so each kill provably lands in its phase)
during TTS, lip-sync, encoding, muxing, QC and a manifest write, and resumed each time. After
every kill no file under a final name is partial or corrupt and the earlier manifest is
intact; no finished row is ever rendered again; the final run leaves no temporary file, all
20 rows, and outputs whose decoded frames are identical to an uninterrupted run's."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.helpers import INTERVIEW, read_manifest, write_recipe

pytestmark = [pytest.mark.media, pytest.mark.slow]
ROWS = int(os.environ.get("VPIPE_KILL_ROWS", "20"))  # fewer for a quick look on a loaded machine

WORDS = [
    "feedback",
    "support",
    "advice",
    "guidance",
    "mentoring",
    "direction",
    "patience",
    "courage",
    "money",
    "time",
    "training",
    "coffee",
    "credit",
    "backup",
    "feedback2",
    "answers",
    "coaching",
    "clarity",
    "input",
    "review",
]
WORDS[WORDS.index("feedback2")] = "comments"
# (phase, the how-many-th time the process reaches that point when it is killed)
# ("manifest", None): at the record of the second row this run renders, after rendering it
KILLS = (("tts", 3), ("lipsync", 2), ("encode", 2), ("mux", 2), ("qc", 2), ("manifest", None))


def _run(recipe: Path, cache: Path, fault: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "VPIPE_FAULT_KILL"}
    if fault:
        env["VPIPE_FAULT_KILL"] = fault
    return subprocess.run(
        [sys.executable, "-m", "vpipe", "run", str(recipe), "--no-progress", "--cache-dir", str(cache)],
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,
    )


def _frames(path: Path) -> list[str]:
    """SHA-256 of every decoded frame's pixels (the whole file must decode)."""
    import av

    with av.open(str(path)) as c:
        return [
            hashlib.sha256(f.to_ndarray(format="yuv420p").tobytes()).hexdigest() for f in c.decode(c.streams.video[0])
        ]


def _finals(out: Path) -> dict[str, tuple[int, int]]:
    """Final-named outputs: name → (inode, mtime_ns): a row rendered again gets a new inode."""
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.glob("*.mp4") if not p.name.startswith(".")}


def test_kill_9_in_every_phase_then_resume(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    reference = write_recipe(tmp_path / "ref", INTERVIEW, WORDS[:ROWS], lipsync="retrieve")
    build = subprocess.run(
        [sys.executable, "-m", "vpipe", "build", str(reference), "--cache-dir", str(cache)],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr
    faulty_cache = tmp_path / "cache-faulty"
    shutil.copytree(cache, faulty_cache)  # the shared analysis only: every row is computed in both
    done = _run(reference, cache)
    assert done.returncode == 0, done.stderr
    expected = {p.name: _frames(p) for p in (tmp_path / "ref" / "out").glob("*.mp4") if not p.name.startswith(".")}
    assert len(expected) == ROWS

    recipe = write_recipe(tmp_path / "work", INTERVIEW, WORDS[:ROWS], lipsync="retrieve")
    out = tmp_path / "work" / "out"
    survived = []
    for phase, nth in KILLS:
        before = _finals(out) if out.is_dir() else {}
        manifest_before = (out / "manifest.jsonl").read_bytes() if (out / "manifest.jsonl").exists() else None
        # the manifest's run header, shared record and a record per finished row come first
        nth = nth if nth is not None else 2 + len(before) + 2
        killed = _run(recipe, faulty_cache, f"{phase}:{nth}")
        assert killed.returncode == -signal.SIGKILL, f"{phase}: not killed\n{killed.stdout}\n{killed.stderr}"
        after = _finals(out)
        for name, stamp in before.items():  # no finished row redone (nor removed)
            assert after.get(name) == stamp, f"{phase}: {name} was rendered again"
        for name in after:  # no partial or corrupt file under a final name
            assert _frames(out / name) == expected[name], f"{phase}: {name} differs from the uninterrupted run"
        if manifest_before is not None:  # the killed run never replaced the manifest
            assert (out / "manifest.jsonl").read_bytes() == manifest_before
        survived.append((phase, len(after) - len(before)))
    before = _finals(out)
    final = _run(recipe, faulty_cache)
    assert final.returncode == 0, final.stderr
    rows = [r for r in read_manifest(out / "manifest.jsonl") if r["type"] == "row"]
    assert sorted(r["id"] for r in rows) == sorted(f"r{i}" for i in range(1, ROWS + 1))  # 0 lost rows
    assert {r["id"] for r in rows if r["status"] == "up-to-date"} == {n.removesuffix(".mp4") for n in before}
    assert all(r["status"] in ("ok", "up-to-date") for r in rows)
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []  # no temporary file, no lock left
    print(f"\nkill -9 survived: {survived} (phase, rows finished by the killed run)")
    assert {p.name: _frames(p) for p in out.glob("*.mp4") if not p.name.startswith(".")} == expected
    # every killed run did real work that the resume kept: a kill at the n-th reach of a phase
    # reached once per row leaves at least n-1 finished rows (mux is reached twice in one row,
    # when the audio is encoded and then muxed, so its kill at the 2nd reach may finish none)
    least = {"tts": 2, "lipsync": 1, "encode": 1, "mux": 0, "qc": 1, "manifest": 1}
    assert all(n >= least[phase] for phase, n in survived), survived
