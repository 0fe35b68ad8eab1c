"""One writer per output folder: an advisory `flock` on `<output>/.vpipe.lock`.

The lock file holds the holder's pid, its start time (from /proc, so a reused pid is told
apart) and when it took the lock. A second `vpipe run` on the same folder waits (and says
for whom), or with `--no-wait` gives up at once. The kernel drops a flock when its holder
dies, so a lock left by a killed run is free; its file still names the dead holder, and the
next run takes it over and says so.

The holder removes the lock file when it is done. A waiter that got the lock on a file that
was removed meanwhile (its inode no longer at the path) retries on the new one, so two runs
can never both hold "the" lock.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOCK_NAME = ".vpipe.lock"


@dataclass(frozen=True)
class Holder:
    pid: int
    start: str  # the process's start time (clock ticks since boot, from /proc); "" if unknown
    since: str  # when it took the lock (ISO time)

    @property
    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except (PermissionError, OverflowError):
            return True
        return not self.start or process_start(self.pid) == self.start

    def describe(self) -> str:
        return f"pid {self.pid}, since {self.since}" if self.since else f"pid {self.pid}"


class Busy(Exception):
    def __init__(self, holder: Holder | None) -> None:
        super().__init__(holder.describe() if holder else "unknown holder")
        self.holder = holder


def process_start(pid: int) -> str:
    """The start time of `pid` in clock ticks after boot (field 22 of /proc/PID/stat)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return text.rsplit(")", 1)[-1].split()[19]  # fields after "(comm)" start at field 3


def read_holder(path: Path) -> Holder | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        data: Any = json.loads(os.read(fd, 4096).decode("utf-8", "replace") or "null")
    except ValueError:
        return None
    finally:
        os.close(fd)
    if not isinstance(data, dict) or not isinstance(data.get("pid"), int):
        return None
    return Holder(data["pid"], str(data.get("start", "")), str(data.get("since", "")))


class FolderLock:
    """`with FolderLock(folder, wait=True, on_wait=..., on_takeover=...)`: the folder is ours."""

    def __init__(
        self,
        folder: Path,
        *,
        wait: bool = True,
        on_wait: Callable[[Holder | None], None] | None = None,
        on_takeover: Callable[[Holder], None] | None = None,
        poll: float = 0.2,
    ) -> None:
        self.folder = folder
        self.path = folder / LOCK_NAME
        self.wait, self.on_wait, self.on_takeover, self.poll = wait, on_wait, on_takeover, poll
        self.fd: int | None = None

    def _open(self) -> int:
        # O_NOFOLLOW: a link planted at the lock's name is refused (ELOOP), never followed
        return os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)

    def acquire(self) -> None:
        told = False
        while True:
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                    raise
                holder = read_holder(self.path)
                if not self.wait:
                    raise Busy(holder) from None
                if not told and self.on_wait is not None:
                    self.on_wait(holder)
                told = True
                time.sleep(self.poll)
                continue
            if not self._still_at_path(fd):  # the previous holder removed the file: lock the new one
                os.close(fd)
                continue
            previous = read_holder(self.path)
            if previous is not None and previous.pid != os.getpid() and self.on_takeover is not None:
                self.on_takeover(previous)  # a dead run's lock file: the kernel freed its flock
            self.fd = fd
            self._write_holder(fd)
            return

    def _still_at_path(self, fd: int) -> bool:
        try:
            st = os.stat(self.path, follow_symlinks=False)
        except FileNotFoundError:
            return False
        mine = os.fstat(fd)
        return (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino)

    def _write_holder(self, fd: int) -> None:
        record = {
            "pid": os.getpid(),
            "start": process_start(os.getpid()),
            "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        data = (json.dumps(record) + "\n").encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)

    def release(self) -> None:
        if self.fd is None:
            return
        with contextlib.suppress(OSError):  # remove while still holding it: waiters re-check the inode
            os.unlink(self.path)
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd = None

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
