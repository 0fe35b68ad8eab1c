"""A voice's prepared form on disk, so that a new process does not prepare it again.

Every process that speaks used to prepare its piper voice afresh: patch the ONNX graph, cut
it in three models, and let onnxruntime optimise each (~2.2 s of CPU, a third of a `vpipe
preview`). What onnxruntime leaves after optimising is an ONNX file again — a protobuf of
tensors and operators, data that is parsed, never executed as Python (no pickle) — so the
speech worker saves the three optimised models once, under the cache's store folder, and
later processes load them with onnxruntime's optimisations off (~0.4 s).

A prepared folder is keyed by everything its content depends on: the voice model's and its
config's bytes (SHA-256), the patch's version, the onnx / onnxruntime / piper versions and the
CPU (onnxruntime's optimised graphs may use kernels chosen for this processor's instruction
set). Writes are atomic and never follow a link: each model goes to a temporary file that is
renamed into place, then `meta.json` lists every file's size and SHA-256, written last. A
reader loads a model only when its bytes match `meta.json` (what is hashed is what is loaded);
anything else — a missing, truncated or altered file — is prepared again, never trusted.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
from collections.abc import Iterable, Iterator
from pathlib import Path

from vpipe.atomic import atomic_write_text, create_exclusive, make_dirs, temp_name

META = "meta.json"


def _file_digest(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def cpu_identity() -> str:
    """This processor's model and instruction-set flags (Linux), else the platform's name."""
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
        wanted = {}
        for line in f:
            name, _, value = line.partition(":")
            name = name.strip()
            if name in ("model name", "flags", "Features", "CPU part") and name not in wanted:
                wanted[name] = value.strip()
            if not line.strip() and wanted:  # the first processor's block is enough
                break
        if wanted:
            return json.dumps(wanted, sort_keys=True)
    return f"{platform.machine()} {platform.processor()}"


def folder_for(store: Path, sources: Iterable[Path], salt: Iterable[str]) -> Path:
    """The folder of the prepared form of `sources` (their bytes) under `salt` (versions, CPU)."""
    h = hashlib.sha256()
    for path in sources:
        h.update(_file_digest(path).encode() + b"\0")
    for part in salt:
        h.update(part.encode("utf-8", "replace") + b"\0")
    return store / h.hexdigest()[:32]


def read(folder: Path, names: Iterable[str]) -> dict[str, bytes] | None:
    """{name: bytes} of the prepared files, or None unless every one matches `meta.json`."""
    try:
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
        out = {}
        for name in names:
            entry = meta["files"][name]
            fd = os.open(folder / name, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            with os.fdopen(fd, "rb") as f:
                data = f.read()
            if len(data) != entry["size"] or hashlib.sha256(data).hexdigest() != entry["sha256"]:
                return None
            out[name] = data
        return out
    except (OSError, ValueError, KeyError, TypeError):
        return None


@contextlib.contextmanager
def writing(folder: Path, names: Iterable[str], root: Path | None = None) -> Iterator[dict[str, Path] | None]:
    """Yields {name: temporary path} (created empty, exclusively: no link is followed) for the
    caller to fill, or None where nothing can be kept; when the block ends without an
    exception the files are renamed into `folder` and `meta.json` is written last. Failing to
    write (disk full, read-only) only means the next process prepares again: not an error."""
    temps: dict[str, Path] | None = {}
    try:
        make_dirs(folder, root)
        for name in names:
            tmp = temp_name(folder / name)
            os.close(create_exclusive(tmp))
            temps[name] = tmp  # type: ignore[index]
    except OSError:
        _remove(temps or {})
        temps = None
    try:
        yield temps
        if temps is not None:
            _commit(folder, temps, root)
    finally:
        _remove(temps or {})


def _commit(folder: Path, temps: dict[str, Path], root: Path | None) -> None:
    try:
        files = {}
        for name, tmp in temps.items():
            files[name] = {"size": tmp.stat().st_size, "sha256": _file_digest(tmp)}
            os.replace(tmp, folder / name)
        atomic_write_text(folder / META, json.dumps({"files": files}, indent=1) + "\n", root)
    except OSError:
        return


def _remove(paths: dict[str, Path]) -> None:
    for tmp in paths.values():
        with contextlib.suppress(OSError):
            os.unlink(tmp)
