"""Atomic file writes: a reader sees the old file or the complete new one, never half.

Write into a temporary file in the target's own directory (same filesystem), fsync, then
`os.replace`. On failure the temporary file is removed and the target is untouched.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yields a temporary path next to `target` (same suffix, so muxers pick the format);
    it becomes `target` only if the block finishes without an exception."""
    target.parent.mkdir(parents=True, exist_ok=True)
    # the writer's pid in the name: a later run can tell a dead run's leftovers from a live one's
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.stem}.{os.getpid()}.", suffix=f".tmp{target.suffix}", dir=target.parent
    )
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_name, 0o666 & ~umask)  # mkstemp makes 0600; outputs get the usual permissions
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_bytes(target: Path, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(target: Path, text: str) -> None:
    atomic_write_bytes(target, text.encode("utf-8"))


# .{stem}.{pid}.{random}.tmp{suffix}, as atomic_path names its temporary files
_TEMPORARY = re.compile(r"^\..*\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.tmp(\.[^.]*)?$")


def sweep_stale(root: Path) -> list[Path]:
    """Remove the temporary files under `root` that a killed run left behind (SIGKILL, power
    loss: no `finally` ran). Files of a writer that is still alive are kept. Returns what went."""
    if not root.is_dir():
        return []
    removed = []
    for path in root.rglob(".*.tmp*"):
        match = _TEMPORARY.match(path.name)
        if match is None or not path.is_file() or _alive(int(match["pid"])):
            continue
        with contextlib.suppress(OSError):
            path.unlink()
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True
