"""Hostile file systems under `vpipe run` (real clip, audio-only rows): links planted in the
output folder, a second run on the same folder, a read-only or full disk before the first
write, a damaged cache entry. Each asserts the exact diagnostic, that nothing outside the
output folder changed, and that nothing was lost."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.helpers import INTERVIEW, read_manifest, run_recipe, vpipe, write_recipe
from tests.hostile.conftest import tree_state
from vpipe.runtime.lock import LOCK_NAME, FolderLock

pytestmark = pytest.mark.media


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile-cache")


def _dead_pid() -> int:
    return int(
        subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout
    )


def _outside(world: Path) -> dict[str, tuple[str, ...]]:
    return tree_state(world, skip=("w/out", "w/.vpipe"))


def _decodes(path: Path) -> int:
    import av

    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(c.streams.video[0]))


def test_links_in_the_output_folder_are_never_followed(tmp_path: Path, cache: Path) -> None:
    """A link at manifest.jsonl.partial, at manifest.jsonl and at a row's output name, and a
    killed run's temporary files: the links' targets outside are untouched, the row behind the
    link fails (VP036), the other renders, the sweep removes only this run's own leftovers."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("do not touch\n")
    (outside / "old-manifest.jsonl").write_text('{"type": "run"}\n')
    recipe = write_recipe(tmp_path / "w", INTERVIEW, ["feedback", "support"])
    out = tmp_path / "w" / "out"
    out.mkdir()
    (out / "manifest.jsonl.partial").symlink_to(outside / "precious.txt")
    (out / "manifest.jsonl").symlink_to(outside / "old-manifest.jsonl")
    (out / "r2.mp4").symlink_to(outside / "precious.txt")
    dead = _dead_pid()
    stale = out / f".r1.{dead}.0a1b2c3d.tmp.mp4"  # ours: removed
    foreign = out / f".theirs.{dead}.0a1b2c3d.tmp.mp4"  # not a stem of this recipe: kept
    nested = out / "keep" / f".r1.{dead}.0a1b2c3d.tmp.mp4"  # a folder this run never writes: kept
    nested.parent.mkdir()
    for path in (stale, foreign, nested):
        path.write_bytes(b"half")
    before = _outside(tmp_path)
    run = run_recipe(recipe, cache=cache)
    assert run.cli.code == 1, run.cli.text
    assert _outside(tmp_path) == before
    assert (outside / "precious.txt").read_text() == "do not touch\n"
    assert run.codes("r2") == ["VP036"]
    assert (
        run.rows["r2"]["diagnostics"][0]["message"]
        == f"row 2: output path 'out/r2.mp4' leaves the output directory '{out}'"
    )
    assert run.rows["r1"]["status"] == "ok" and _decodes(out / "r1.mp4") > 0
    assert not (out / "manifest.jsonl").is_symlink()  # replaced (rename), never written through
    assert [r["type"] for r in run.records] == ["run", "shared", "row", "row", "summary"]
    assert (out / "manifest.jsonl.partial").is_symlink() and (out / "r2.mp4").is_symlink()
    assert not stale.exists() and foreign.exists() and nested.exists()
    assert not (out / LOCK_NAME).exists()  # the lock file goes with its holder


def test_a_link_at_the_lock_file_is_refused(tmp_path: Path, cache: Path) -> None:
    recipe = write_recipe(tmp_path / "w", INTERVIEW, ["feedback"])
    out = tmp_path / "w" / "out"
    out.mkdir()
    (tmp_path / "target").write_text("x")
    (out / LOCK_NAME).symlink_to(tmp_path / "target")
    before = _outside(tmp_path)
    cli = vpipe("run", recipe, "--no-progress", "--cache-dir", cache)
    assert cli.code == 2
    assert "VP341 cannot write to the output folder 'w/out': Too many levels of symbolic links" in cli.stderr.replace(
        str(tmp_path) + "/", ""
    )
    assert _outside(tmp_path) == before and (tmp_path / "target").read_text() == "x"


def test_a_second_run_waits_or_exits_2_with_no_wait(tmp_path: Path, cache: Path) -> None:
    recipe = write_recipe(tmp_path / "w", INTERVIEW, ["feedback"])
    out = tmp_path / "w" / "out"
    out.mkdir()
    with FolderLock(out):  # another writer holds the folder
        cli = vpipe("run", recipe, "--no-progress", "--no-wait", "--cache-dir", cache)
        assert cli.code == 2
        assert (
            f"VP340 output folder '{_shown(out)}' is being written by another vpipe run (pid {os.getpid()}, since "
            in cli.stderr
        )
        assert "help: wait for it (run without --no-wait), or give this recipe another output folder" in cli.stderr
        assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME]  # nothing written
        waiting = _start(recipe, cache)
        with contextlib.suppress(subprocess.TimeoutExpired):
            waiting.wait(timeout=20)
        assert waiting.poll() is None  # still waiting for the lock
    _, stderr = waiting.communicate(timeout=600)
    assert waiting.returncode == 0, stderr
    assert (
        f"is being written by another vpipe run (pid {os.getpid()}, since " in stderr
        and "waiting for it to finish" in stderr
    )
    assert [r["status"] for r in read_manifest(out / "manifest.jsonl") if r["type"] == "row"] in (
        ["ok"],
        ["up-to-date"],
    )


def test_a_dead_runs_lock_is_taken_over(tmp_path: Path, cache: Path) -> None:
    recipe = write_recipe(tmp_path / "w", INTERVIEW, ["feedback"])
    out = tmp_path / "w" / "out"
    out.mkdir()
    dead = _dead_pid()
    (out / LOCK_NAME).write_text(json.dumps({"pid": dead, "start": "1", "since": "2026-01-01T00:00:00Z"}))
    cli = vpipe("run", recipe, "--no-progress", "--no-wait", "--cache-dir", cache)
    assert cli.code == 0, cli.text
    assert (
        f"vpipe: took over the lock of '{_shown(out)}' left by a run that is no longer running "
        f"(pid {dead}, since 2026-01-01T00:00:00Z)"
    ) in cli.stderr
    assert not (out / LOCK_NAME).exists()


def test_two_runs_at_once_render_each_row_once(tmp_path: Path, cache: Path) -> None:
    recipe = write_recipe(tmp_path / "w", INTERVIEW, ["advice", "guidance"])
    first, second = _start(recipe, cache), _start(recipe, cache)
    results = [p.communicate(timeout=900) for p in (first, second)]
    assert first.returncode == 0 and second.returncode == 0, results
    assert all("Traceback" not in err for _, err in results)
    assert sum("waiting for it to finish" in err for _, err in results) == 1
    records = read_manifest(tmp_path / "w" / "out" / "manifest.jsonl")  # every line is whole JSON
    rows = [r for r in records if r["type"] == "row"]
    assert sorted(r["id"] for r in rows) == ["r1", "r2"]
    assert {r["status"] for r in rows} == {"up-to-date"}  # the second found the first's work done
    for r in rows:
        assert _decodes(Path(r["output"])) > 0


@contextlib.contextmanager
def _tmpfs(where: Path, options: str) -> Iterator[None]:
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_read_only_output_folder_before_the_first_write(tmp_path: Path, cache: Path) -> None:
    recipe = write_recipe(tmp_path / "w", INTERVIEW, ["feedback"])
    out = tmp_path / "w" / "out"
    before = _outside(tmp_path)
    with _tmpfs(out, "ro,size=1m"):
        cli = vpipe("run", recipe, "--no-progress", "--cache-dir", cache)
        assert cli.code == 2
        assert "VP341 cannot write to the output folder 'w/out': Read-only file system" in cli.stderr.replace(
            str(tmp_path) + "/", ""
        )
        assert list(out.iterdir()) == []
    assert _outside(tmp_path) == before


def test_full_disk_before_the_first_write(tmp_path: Path, cache: Path) -> None:
    recipe = write_recipe(tmp_path / "w", INTERVIEW, ["feedback"])
    out = tmp_path / "w" / "out"
    with _tmpfs(out, "size=64k"):
        filler = out / "earlier-output.mp4"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
        with contextlib.suppress(OSError):
            while True:
                os.write(fd, b"\x00" * 4096)
        os.close(fd)
        kept = filler.read_bytes()
        before = tree_state(tmp_path)
        cli = vpipe("run", recipe, "--no-progress", "--cache-dir", cache)
        assert cli.code == 2
        assert "VP341 cannot write to the output folder 'w/out': No space left on device" in cli.stderr.replace(
            str(tmp_path) + "/", ""
        )
        assert sorted(p.name for p in out.iterdir()) == ["earlier-output.mp4"]  # no 0-byte partial, no lock
        assert filler.read_bytes() == kept
        assert tree_state(tmp_path, skip=("w/.vpipe",)) == {
            k: v for k, v in before.items() if not k.startswith("w/.vpipe")
        }


def test_damaged_cache_entry_is_a_reported_miss_and_the_manifest_survives(tmp_path: Path, cache: Path) -> None:
    """A truncated arrays.npz: the run warns (VP342), recomputes and succeeds; a run that
    selects no row leaves every row's record in the manifest view."""
    own = tmp_path / "cache"
    shutil.copytree(cache, own)  # the shared analysis of the clip, already computed
    recipe = write_recipe(tmp_path / "w", INTERVIEW, ["feedback"])
    first = run_recipe(recipe, cache=own)
    assert first.cli.code == 0
    for npz in own.rglob("arrays.npz"):  # the shared analysis's among them: read by every run
        npz.write_bytes(npz.read_bytes()[: npz.stat().st_size // 2])
    manifest = tmp_path / "w" / "out" / "manifest.jsonl"
    second = run_recipe(recipe, cache=own)
    assert second.cli.code == 0, second.cli.text
    assert "VP342 warning: the cached" in second.cli.text
    assert "arrays.npz is" in second.cli.text and "were stored; computed again" in second.cli.text
    assert "Traceback" not in second.cli.text and _decodes(second.output("r1")) > 0
    kept = manifest.read_bytes()
    third = vpipe("run", recipe, "--no-progress", "--cache-dir", own, "--rows", "5:")  # selects no row
    assert third.code == 2 and "VP014 --rows 5: selects no row" in third.stderr
    assert manifest.read_bytes() == kept  # an empty run never replaces the manifest


def _start(recipe: Path, cache: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "vpipe", "run", str(recipe), "--no-progress", "--cache-dir", str(cache)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "VPIPE_TEST_RUN": uuid.uuid4().hex},
    )


def _shown(path: Path) -> str:
    from vpipe.diagnostics.diagnostic import display_path

    return display_path(path)
