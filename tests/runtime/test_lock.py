"""The output folder's lock and the link-safe writes, as units (the CLI cases are in
tests/hostile/test_filesystem.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vpipe.atomic import UnsafePath, atomic_write_text, check_no_links, create_exclusive
from vpipe.runtime.lock import LOCK_NAME, Busy, FolderLock, Holder, process_start


def test_second_holder_is_busy_and_names_the_first(tmp_path: Path) -> None:
    with FolderLock(tmp_path):
        holder = json.loads((tmp_path / LOCK_NAME).read_text())
        assert holder["pid"] == os.getpid() and holder["start"] == process_start(os.getpid())
        with pytest.raises(Busy) as busy:
            FolderLock(tmp_path, wait=False).acquire()
        assert busy.value.holder is not None and busy.value.holder.pid == os.getpid()
    assert not (tmp_path / LOCK_NAME).exists()  # released: the file goes with its holder
    with FolderLock(tmp_path, wait=False):  # and the folder is free again
        pass


def test_a_waiter_is_told_once_and_gets_the_lock_when_freed(tmp_path: Path) -> None:
    script = (
        "import sys, time; from pathlib import Path; from vpipe.runtime.lock import FolderLock\n"
        "with FolderLock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(1.5)\n"
    )
    other = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert other.stdout is not None and other.stdout.readline().strip() == "held"
    told: list[Holder | None] = []
    with FolderLock(tmp_path, on_wait=told.append, poll=0.05):  # returns only once the other let go
        assert json.loads((tmp_path / LOCK_NAME).read_text())["pid"] == os.getpid()
    assert len(told) == 1 and told[0] is not None and told[0].pid == other.pid  # told once, whom
    assert other.wait(timeout=30) == 0


def test_a_dead_holders_lock_file_is_taken_over(tmp_path: Path) -> None:
    dead = int(
        subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout
    )
    (tmp_path / LOCK_NAME).write_text(json.dumps({"pid": dead, "start": "7", "since": "2026-01-01T00:00:00Z"}))
    assert not Holder(dead, "7", "").alive
    taken: list[Holder] = []
    with FolderLock(tmp_path, wait=False, on_takeover=taken.append):
        assert json.loads((tmp_path / LOCK_NAME).read_text())["pid"] == os.getpid()
    assert [h.pid for h in taken] == [dead]


def test_a_reused_pid_is_not_the_holder(tmp_path: Path) -> None:
    assert Holder(os.getpid(), process_start(os.getpid()), "").alive
    assert not Holder(os.getpid(), "1", "").alive  # same pid, another start time: another process


def test_writes_never_follow_links(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    link = tmp_path / "out" / "file.txt"
    link.parent.mkdir()
    link.symlink_to(outside)
    atomic_write_text(link, "new", root=tmp_path / "out")
    assert outside.read_text() == "keep" and not link.is_symlink() and link.read_text() == "new"
    with pytest.raises(FileExistsError):  # exclusive: a link (or anything) at the name is refused
        (tmp_path / "out" / "x").symlink_to(outside)
        create_exclusive(tmp_path / "out" / "x")
    (tmp_path / "out" / "sub").symlink_to(tmp_path)  # a folder on the way that is a link
    with pytest.raises(UnsafePath):
        check_no_links(tmp_path / "out" / "sub" / "f.mp4", tmp_path / "out")
    with pytest.raises(UnsafePath):
        atomic_write_text(tmp_path / "out" / "sub" / "f.txt", "x", root=tmp_path / "out")
    assert not (tmp_path / "f.txt").exists()
