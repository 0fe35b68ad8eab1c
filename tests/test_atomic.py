"""vpipe/atomic.py unit by unit: folders made whole, writes that land whole or not at all and
never through a link, temporary names the sweep recognises, and a sweep that removes every
dead writer's leftover in the folders it is given, and nothing else."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from vpipe import atomic
from vpipe.atomic import (
    UnsafePath,
    atomic_path,
    atomic_write_bytes,
    atomic_write_text,
    check_no_links,
    make_dirs,
    sweep_stale,
    temp_name,
)


@pytest.fixture(scope="module")
def dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(done.stdout)
    assert not atomic._alive(pid)
    return pid


@pytest.mark.parametrize("with_root", [False, True])
def test_make_dirs_makes_every_missing_folder_and_accepts_existing_ones(tmp_path: Path, with_root: bool) -> None:
    folder = tmp_path / "out" / "2024" / "march"
    root = tmp_path if with_root else None
    make_dirs(folder, root)
    assert folder.is_dir()
    make_dirs(folder, root)  # already there: fine
    atomic_write_text(tmp_path / "a" / "b" / "c.txt", "deep", root)
    assert (tmp_path / "a" / "b" / "c.txt").read_text() == "deep"
    with atomic_path(tmp_path / "d" / "e" / "f.mp4", root) as tmp:
        tmp.write_bytes(b"video")
    assert (tmp_path / "d" / "e" / "f.mp4").read_bytes() == b"video"


def test_check_no_links(tmp_path: Path) -> None:
    (tmp_path / "real" / "deeper").mkdir(parents=True)
    (tmp_path / "file").write_text("x")
    os.symlink(tmp_path / "real", tmp_path / "link")
    check_no_links(tmp_path / "real" / "deeper" / "r1.mp4", tmp_path)
    check_no_links(tmp_path / "real" / "missing" / "more" / "r1.mp4", tmp_path)  # made later, by us
    check_no_links(tmp_path / "r1.mp4", tmp_path)
    with pytest.raises(UnsafePath, match="link' is a symbolic link or a file, not a folder"):
        check_no_links(tmp_path / "link" / "deeper" / "r1.mp4", tmp_path)
    with pytest.raises(UnsafePath, match="is a symbolic link or a file"):
        check_no_links(tmp_path / "file" / "r1.mp4", tmp_path)
    with pytest.raises(UnsafePath, match="is not inside"):
        check_no_links(tmp_path.parent / "elsewhere" / "r1.mp4", tmp_path)
    check_no_links(tmp_path / "link" / "r1.mp4", tmp_path / "link")  # the root itself may be a link


def test_a_write_replaces_a_link_at_the_target_and_never_follows_it(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    for i, write in enumerate(
        [lambda t: atomic_write_text(t, "new"), lambda t: atomic_write_bytes(t, b"new"), _write_with_atomic_path]
    ):
        target = tmp_path / f"r{i}.txt"
        os.symlink(victim, target)
        write(target)
        assert not target.is_symlink() and target.read_text() == "new"
    assert victim.read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r0.txt", "r1.txt", "r2.txt", "victim.txt"]


def _write_with_atomic_path(target: Path) -> None:
    with atomic_path(target) as tmp:
        assert tmp.parent == target.parent and tmp.name.startswith(".") and tmp.stat().st_size == 0
        tmp.write_text("new")


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "r1.txt"
    atomic_write_text(target, "old")

    def fail(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", fail)
    with pytest.raises(OSError, match="No space"):
        atomic_write_bytes(target, b"new")
    with pytest.raises(OSError, match="No space"), atomic_path(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["r1.txt"]


def test_text_is_written_as_utf8(tmp_path: Path) -> None:
    atomic_write_text(tmp_path / "r.txt", "Zoë — 東京")
    assert (tmp_path / "r.txt").read_bytes() == "Zoë — 東京".encode()


def test_temporary_names_are_what_the_sweep_recognises(tmp_path: Path) -> None:
    for target in (tmp_path / "r1.mp4", tmp_path / "a.b.mkv", tmp_path / "manifest.jsonl", tmp_path / "noext"):
        names = {temp_name(target) for _ in range(20)}
        assert len(names) == 20  # random: two writers of one target do not collide
        for name in names:
            assert name.parent == target.parent and name.name.endswith(".tmp" + target.suffix)
            match = atomic._TEMPORARY.match(name.name)
            assert match and match["stem"] == target.stem and int(match["pid"]) == os.getpid()


def test_the_sweep_removes_every_dead_writers_leftover_whatever_else_is_there(tmp_path: Path, dead_pid: int) -> None:
    """Leftovers mixed with everything the sweep must skip (other names, other stems, a live
    writer's file, a link, a folder): all leftovers go, whatever order the folder lists in."""
    sub = tmp_path / "sub"
    sub.mkdir()
    stale = []
    for folder in (tmp_path, sub):
        for i in range(6):
            skip = [
                folder / f"r{i}.mp4",
                folder / f".theirs{i}.{dead_pid}.abcd.tmp.mp4",  # not a stem of this run
                folder / f".r{i}.{os.getpid()}.abcd.tmp.mp4",  # a live writer's
            ]
            for path in skip:
                path.write_bytes(b"keep")
            os.symlink(folder / f"r{i}.mp4", folder / f".r{i}.{dead_pid}.link.tmp.mp4")
            (folder / f".r{i}.{dead_pid}.dir.tmp.mp4").mkdir()
            leftover = folder / f".r{i}.{dead_pid}.k2j4x{i}.tmp.mp4"
            leftover.write_bytes(b"half")
            stale.append(leftover)
    stems = {f"r{i}" for i in range(6)}
    assert sorted(sweep_stale(tmp_path, [sub], stems)) == sorted(stale)
    assert not any(p.exists() for p in stale)
    left = sorted(p.name for p in sub.iterdir())
    assert len(left) == 6 * 5 and all((sub / n).exists() or (sub / n).is_symlink() for n in left)
    assert sweep_stale(tmp_path, [sub], stems) == []


def test_the_sweep_without_stems_takes_every_dead_writers_leftover(tmp_path: Path, dead_pid: int) -> None:
    leftovers = [tmp_path / f".{stem}.{dead_pid}.abcd.tmp{ext}" for stem in ("r1", "x", "a.b") for ext in (".mp4", "")]
    for path in leftovers:
        path.write_bytes(b"half")
    (tmp_path / "r1.mp4").write_bytes(b"done")
    assert sorted(sweep_stale(tmp_path)) == sorted(leftovers)
    assert [p.name for p in tmp_path.iterdir()] == ["r1.mp4"]


def test_alive_only_asks(dead_pid: int) -> None:
    """Signal 0 asks without delivering anything: a process that would die of any real signal
    (SIGHUP reset to its default here, as a shell's job has it) is alive and stays alive."""
    code = "import signal, sys, time; signal.signal(signal.SIGHUP, signal.SIG_DFL); print('ready', flush=True); time.sleep(30)"
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        assert atomic._alive(child.pid)  # (not asked of this process: a wrong signal would end the test run)
        with pytest.raises(subprocess.TimeoutExpired):  # still running: asked, not signalled
            child.wait(timeout=0.2)
    finally:
        child.kill()
        child.wait()
    assert not atomic._alive(dead_pid) and not atomic._alive(child.pid)
    assert atomic._alive(2**70)


@pytest.mark.parametrize("write", ["text", "bytes", "path"])
def test_written_files_are_not_executable(tmp_path: Path, write: str) -> None:
    old = os.umask(0o022)
    try:
        target = tmp_path / "r1.mp4"
        if write == "text":
            atomic_write_text(target, "x")
        elif write == "bytes":
            atomic_write_bytes(target, b"x")
        else:
            with atomic_path(target) as tmp:
                tmp.write_bytes(b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
