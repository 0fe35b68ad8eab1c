"""Content-addressed on-disk cache: op content hash → value.

Layout: `<root>/<key[:2]>/<key>/value.json` (+ `arrays.npz`). Entries are written into a
temporary directory and renamed into place, so a crash never leaves a half entry; an
entry that fails to decode (a file cut short, emptied, lost or overwritten: a full disk, a
killed copy, a cleanup) is treated as a miss and removed, so the recomputed value is stored.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vpipe.data.codec import CodecError, decode, encode

_MISS = object()


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    writes: int = 0


class Cache:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.stats = CacheStats()

    def _dir(self, key: str) -> Path:
        return self.root / key[:2] / key

    def get(self, key: str) -> Any:
        """The cached value, or `Cache.MISS`."""
        entry = self._dir(key)
        meta = entry / "value.json"
        if not meta.is_file():
            if entry.exists():  # entries are renamed into place whole: this one was damaged since
                shutil.rmtree(entry, ignore_errors=True)
            self.stats.misses += 1
            return _MISS
        try:
            arrays = entry / "arrays.npz"
            value = decode(meta.read_text(encoding="utf-8"), arrays.read_bytes() if arrays.is_file() else None)
        except (OSError, ValueError, KeyError, TypeError, CodecError, zipfile.BadZipFile):
            shutil.rmtree(entry, ignore_errors=True)
            self.stats.misses += 1
            return _MISS
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
            (tmp / "value.json").write_text(text, encoding="utf-8")
            if arrays:
                with open(tmp / "arrays.npz", "wb") as f:
                    np.savez(f, **arrays)
            with contextlib.suppress(OSError):  # another process stored the same key first: equal content
                tmp.rename(entry)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.stats.writes += 1
        return True

    def has(self, key: str) -> bool:
        return (self._dir(key) / "value.json").is_file()


Cache.MISS = _MISS  # type: ignore[attr-defined]
