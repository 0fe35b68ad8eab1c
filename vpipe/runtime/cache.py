"""Content-addressed on-disk cache: op content hash → value.

Layout: `<root>/<key[:2]>/<key>/value.json` (+ `arrays.npz`). Entries are written into a
temporary directory and renamed into place, so a crash never leaves a half entry. Each
entry records its files' sizes and SHA-256 hashes (`integrity.json`), verified on every
read: an entry cut short, emptied, lost, edited or undecodable (a full disk, a killed copy,
a cleanup) is removed, reported (`Cache.damaged`) and treated as a miss, so its value is
computed again and stored.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

import numpy as np

from vpipe.data.codec import CodecError, decode, encode
from vpipe.data.mapped import CHUNK, copy_mapped, is_mapped, map_file, open_no_follow


class Miss(enum.Enum):
    """The type of `MISS`: what `Cache.get` returns for a key it holds no (intact) value of."""

    MISS = "MISS"

    def __repr__(self) -> str:
        return "MISS"


MISS = Miss.MISS


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    writes: int = 0


class Cache:
    MISS: ClassVar[Miss] = MISS

    def __init__(self, root: Path) -> None:
        self.root = root
        self.stats = CacheStats()
        self.damaged: list[tuple[str, str]] = []  # (key, what was wrong), in the order found

    def _dir(self, key: str) -> Path:
        return self.root / key[:2] / key

    def get(self, key: str) -> Any | Miss:
        """The cached value, or `MISS`. An entry whose files do not match the sizes and
        hashes recorded when it was stored (or that cannot be decoded) is removed, recorded in
        `damaged`, and is a miss."""
        entry = self._dir(key)
        if not (entry / "value.json").is_file():
            if entry.exists() or entry.is_symlink():  # entries are renamed into place whole: damaged since
                _remove(entry)
                self.damaged.append((key, "value.json is missing"))
            self.stats.misses += 1
            return MISS
        try:
            text, arrays = _read_verified(entry)
            value = decode(text, None, arrays)
        except Exception as exc:  # truncated zip, bad JSON, a file edited or missing: recompute
            _remove(entry)
            self.damaged.append((key, _why(exc)))
            self.stats.misses += 1
            return MISS
        self.stats.hits += 1
        return value

    def put(self, key: str, value: Any) -> bool:
        """Store `value`; returns False (and stores nothing) if it cannot be encoded."""
        try:
            text, arrays = encode(value)
        except CodecError:
            return False
        entry = self._dir(key)
        if entry.is_dir():
            return True
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key[:8]}.", dir=entry.parent))
        try:
            record = {"value.json": _write_new(tmp / "value.json", text.encode("utf-8"))}
            packed = {k: a for k, a in arrays.items() if not is_mapped(a)}
            if packed:
                record["arrays.npz"] = _write_new(tmp / "arrays.npz", lambda f, h: _put_npz(f, h, packed))
            for k, a in arrays.items():  # mapped arrays: a .npy file each, copied file to file
                if k not in packed:
                    record[f"{k}.npy"] = _write_new(tmp / f"{k}.npy", lambda f, h, a=a: copy_mapped(a, f, h.update))
            _write_new(tmp / INTEGRITY, json.dumps(record).encode())
            with contextlib.suppress(OSError):  # another process stored the same key first: equal content
                tmp.rename(entry)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.stats.writes += 1
        return True

    def has(self, key: str) -> bool:
        return (self._dir(key) / "value.json").is_file()


INTEGRITY = "integrity.json"  # {file name: [size in bytes, sha256 hex]} of the entry's files


class DamagedEntry(Exception):
    pass


def _read_verified(entry: Path) -> tuple[str, dict[str, np.ndarray]]:
    """The entry's value text and arrays, each file checked against its recorded size and
    SHA-256 first (hashed a chunk at a time: a mapped array is never read whole into memory)."""
    try:
        record = json.loads((entry / INTEGRITY).read_bytes())
    except FileNotFoundError:
        raise DamagedEntry("its integrity record is missing") from None
    if not isinstance(record, dict) or "value.json" not in record:
        raise DamagedEntry("its integrity record is unreadable")
    text = ""
    arrays: dict[str, np.ndarray] = {}
    for name, (size, digest) in record.items():
        if name not in ("value.json", "arrays.npz") and not _MAPPED_FILE.fullmatch(name):
            raise DamagedEntry(f"its integrity record names an unknown file {name!r}")
        with open_no_follow(entry / name) as f:
            found = os.fstat(f.fileno()).st_size
            if found != size:
                raise DamagedEntry(f"{name} is {found} bytes, {size} were stored")
            if _sha256(f) != digest:
                raise DamagedEntry(f"{name} does not match the SHA-256 stored with it")
            f.seek(0)
            if name == "value.json":
                text = f.read().decode("utf-8")
            elif name == "arrays.npz":
                with np.load(f, allow_pickle=False) as z:
                    arrays.update({k: z[k] for k in z.files})
            else:
                arrays[name[: -len(".npy")]] = map_file(f)
    return text, arrays


_MAPPED_FILE = re.compile(r"a[0-9]+\.npy")  # a mapped array's file: the codec's array key + .npy


def _sha256(f: BinaryIO) -> str:
    h = hashlib.sha256()
    while chunk := f.read(CHUNK):
        h.update(chunk)
    return h.hexdigest()


def _remove(entry: Path) -> None:
    """Remove a damaged entry so that it can be stored again: a folder with what it holds; a
    link (never what it points to) or a stray file at the entry's place."""
    if entry.is_symlink() or not entry.is_dir():
        with contextlib.suppress(OSError):
            entry.unlink()
    else:
        shutil.rmtree(entry, ignore_errors=True)


def _write_new(path: Path, fill: bytes | Callable[[BinaryIO, Any], object]) -> list[Any]:
    """Create `path` (never through a link, never over a file) holding `fill` (bytes, or what
    `fill(file, hasher)` writes); its [size, SHA-256] for the integrity record."""
    h = hashlib.sha256()
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    with os.fdopen(os.open(path, flags, 0o644), "w+b") as f:
        if isinstance(fill, bytes):
            _put_bytes(f, h, fill)
        else:
            fill(f, h)
        size = f.seek(0, os.SEEK_END)
    return [size, h.hexdigest()]


def _put_bytes(f: BinaryIO, h: Any, data: bytes) -> None:
    f.write(data)
    h.update(data)


def _put_npz(f: BinaryIO, h: Any, arrays: dict[str, np.ndarray]) -> None:
    """The arrays as an `.npz` written straight to the file (no copy of it in memory), then
    hashed back from the file."""
    np.savez(f, **arrays)
    f.seek(0)
    while chunk := f.read(CHUNK):
        h.update(chunk)


def _why(exc: Exception) -> str:
    if isinstance(exc, DamagedEntry):
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return f"{Path(str(exc.filename)).name} is missing"
    return f"it cannot be decoded ({type(exc).__name__})"
