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
import io
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from vpipe.data.codec import CodecError, decode, encode


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
            files = _read_verified(entry)
            value = decode(files["value.json"].decode("utf-8"), files.get("arrays.npz"))
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
            blobs = {"value.json": text.encode("utf-8")}
            if arrays:
                buffer = io.BytesIO()
                np.savez(buffer, **arrays)
                blobs["arrays.npz"] = buffer.getvalue()
            for name, data in blobs.items():
                _write_new(tmp / name, data)
            record = {name: [len(data), hashlib.sha256(data).hexdigest()] for name, data in blobs.items()}
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


def _read_verified(entry: Path) -> dict[str, bytes]:
    try:
        record = json.loads((entry / INTEGRITY).read_bytes())
    except FileNotFoundError:
        raise DamagedEntry("its integrity record is missing") from None
    if not isinstance(record, dict) or "value.json" not in record:
        raise DamagedEntry("its integrity record is unreadable")
    files: dict[str, bytes] = {}
    for name, (size, digest) in record.items():
        if name not in ("value.json", "arrays.npz"):
            raise DamagedEntry(f"its integrity record names an unknown file {name!r}")
        data = _read_no_follow(entry / name)
        if len(data) != size:
            raise DamagedEntry(f"{name} is {len(data)} bytes, {size} were stored")
        if hashlib.sha256(data).hexdigest() != digest:
            raise DamagedEntry(f"{name} does not match the SHA-256 stored with it")
        files[name] = data
    return files


def _remove(entry: Path) -> None:
    """Remove a damaged entry so that it can be stored again: a folder with what it holds; a
    link (never what it points to) or a stray file at the entry's place."""
    if entry.is_symlink() or not entry.is_dir():
        with contextlib.suppress(OSError):
            entry.unlink()
    else:
        shutil.rmtree(entry, ignore_errors=True)


def _read_no_follow(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as f:
        return f.read()


def _write_new(path: Path, data: bytes) -> None:
    with os.fdopen(
        os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644), "wb"
    ) as f:
        f.write(data)


def _why(exc: Exception) -> str:
    if isinstance(exc, DamagedEntry):
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return f"{Path(str(exc.filename)).name} is missing"
    return f"it cannot be decoded ({type(exc).__name__})"
