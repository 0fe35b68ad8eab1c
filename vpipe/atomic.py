"""Atomic, link-safe file writes: a reader sees the old file or the complete new one, never half,
and no write ever goes through a symbolic link.

Every write goes into a temporary file created exclusively (`O_CREAT | O_EXCL | O_NOFOLLOW`:
it cannot already exist, and a link planted at its name is refused, never followed) in the
target's own directory (same filesystem), is fsynced, then `os.replace`d onto the target. A
link at the target's name is replaced, not followed. With `root`, the folders between it and
the target must be real folders, not links. On failure the temporary file is removed and the
target is untouched.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


class UnsafePath(OSError):
    """A folder on the way to a target is a symbolic link (or not a folder)."""


def check_no_links(target: Path, root: Path) -> None:
    """Raise UnsafePath unless every existing folder from `root` (exclusive) down to `target`'s
    folder is a real folder. `root` itself is the user's choice and may be anything."""
    try:
        rel = target.parent.relative_to(root)
    except ValueError:
        raise UnsafePath(f"'{target}' is not inside '{root}'") from None
    here = root
    for part in rel.parts:
        here = here / part
        try:
            st = os.lstat(here)
        except FileNotFoundError:
            return  # the rest will be created by us as real folders
        if not stat.S_ISDIR(st.st_mode):  # a link (even to a folder) or a file
            raise UnsafePath(f"'{here}' is a symbolic link or a file, not a folder; vpipe never writes through links")


def make_dirs(folder: Path, root: Path | None = None) -> None:
    if root is not None:
        check_no_links(folder / "x", root)
    folder.mkdir(parents=True, exist_ok=True)


def temp_name(target: Path) -> Path:
    # .{stem}.{pid}.{random}.tmp{suffix}: the writer's pid tells a dead run's leftovers from a
    # live one's; the suffix is kept so muxers pick the format from the name
    return target.with_name(f".{target.stem}.{os.getpid()}.{secrets.token_hex(4)}.tmp{target.suffix}")


def create_exclusive(path: Path, mode: int = 0o666) -> int:
    """A new file at `path` opened for writing (fd); fails if anything, a link included, is there."""
    return os.open(path, _CREATE, mode)


@contextlib.contextmanager
def atomic_path(target: Path, root: Path | None = None) -> Iterator[Path]:
    """Yields a new, empty temporary path next to `target` (created exclusively, never through
    a link); it becomes `target` only if the block finishes without an exception."""
    make_dirs(target.parent, root)
    while True:
        tmp = temp_name(target)
        try:
            os.close(create_exclusive(tmp))
            break
        except FileExistsError:
            continue
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def atomic_write_bytes(target: Path, data: bytes, root: Path | None = None) -> None:
    make_dirs(target.parent, root)
    while True:
        tmp = temp_name(target)
        try:
            fd = create_exclusive(tmp)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def atomic_write_text(target: Path, text: str, root: Path | None = None) -> None:
    atomic_write_bytes(target, text.encode("utf-8"), root)


# .{stem}.{pid}.{random}.tmp{suffix}, as temp_name names temporary files
_TEMPORARY = re.compile(r"^\.(?P<stem>.*)\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.tmp(\.[^.]*)?$")


def sweep_stale(root: Path, folders: Iterable[Path] = (), stems: Iterable[str] | None = None) -> list[Path]:
    """Remove the temporary files a killed run left behind (SIGKILL, power loss: no `finally`
    ran). Confined: only the files directly in `root` and in `folders` (the folders this run
    writes into, never a recursive walk), only names of our temporary-file pattern, only of
    the given output `stems` (when given), only of writers that are no longer alive, and only
    regular files (never a link). Returns what went."""
    wanted = None if stems is None else set(stems)
    removed = []
    seen: set[Path] = set()
    for folder in (root, *folders):
        if folder in seen:
            continue
        seen.add(folder)
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            match = _TEMPORARY.match(entry.name)
            if match is None or (wanted is not None and match["stem"] not in wanted):
                continue
            if not entry.is_file(follow_symlinks=False) or _alive(int(match["pid"])):
                continue
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):  # someone else's process; a number no pid can be
        return True
    return True
