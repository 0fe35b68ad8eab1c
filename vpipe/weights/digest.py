"""sha256 of weight files, remembered by (path, size, mtime) so a 3 GB checkpoint is hashed
once per change, not once per `vpipe doctor` or per run.

The memo lives in memory and in `<default root>/.sha256.json` (written atomically; a corrupt or
foreign memo is ignored and rebuilt)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path

from vpipe.weights.home import default_root

_MEMO: dict[str, list[object]] = {}
_LOADED: set[Path] = set()


def _memo_file() -> Path:
    return default_root() / ".sha256.json"


def _load_memo(path: Path) -> None:
    if path in _LOADED:
        return
    _LOADED.add(path)
    with contextlib.suppress(OSError, ValueError):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict):
            for k, v in data.items():
                if isinstance(v, list) and len(v) == 3 and isinstance(v[2], str):
                    _MEMO.setdefault(k, v)


def _save_memo(path: Path) -> None:
    """Best effort: the memo is a speed-up, never a reason to fail."""
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.parent.is_symlink():
            return
        fd, tmp = tempfile.mkstemp(prefix=".sha256.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(_MEMO, f)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)


def file_sha256(path: Path, remember: bool = True) -> str:
    """Hex sha256 of the file's bytes (follows a Hugging Face snapshot's symlink to its blob)."""
    real = Path(os.path.realpath(path))
    st = real.stat()
    memo_path = _memo_file()
    if remember:
        _load_memo(memo_path)
        hit = _MEMO.get(str(real))
        if hit and hit[0] == st.st_size and hit[1] == st.st_mtime_ns:
            return str(hit[2])
    h = hashlib.sha256()
    with open(real, "rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
    value = h.hexdigest()
    if remember:
        _MEMO[str(real)] = [st.st_size, st.st_mtime_ns, value]
        _save_memo(memo_path)
    return value
