"""Content hashes of ops: the cache key, the dedupe key and the resume key.

hash(op) = sha256(kind, canonical attrs, kernel and its version, hashes of the operands'
producers). Two ops with equal hashes compute the same value.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from vpipe.ir.graph import Graph, Op, thaw


def canonical_json(value: Any) -> str:
    return json.dumps(thaw(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def digest(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


def op_key(op: Op, operand_keys: list[str], kernel_version: str = "") -> str:
    return digest(op.kind, canonical_json(op.attrs), op.kernel or "", kernel_version, *operand_keys)


def graph_hashes(graph: Graph, kernel_versions: dict[str, str] | None = None) -> dict[str, str]:
    """Hash of every value (by name). Per-row values hash the op *template*; the runtime
    folds each row's data in through `rows.row`."""
    versions = kernel_versions or {}
    out: dict[str, str] = {}
    for op in graph.ops:
        key = op_key(op, [out[o] for o in op.operands if o in out], versions.get(f"{op.kind}:{op.kernel}", ""))
        for i, r in enumerate(op.results):
            out[r.name] = digest(key, str(i))
    return out


_FILE_HASHES: dict[tuple[str, int, int], str] = {}


def file_sha256(path: str, chunk: int = 1 << 20) -> str:
    """sha256 of a file's content, memoised per process by (path, size, mtime)."""
    st = os.stat(path)
    memo_key = (os.path.realpath(path), st.st_size, st.st_mtime_ns)
    if memo_key in _FILE_HASHES:
        return _FILE_HASHES[memo_key]
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    _FILE_HASHES[memo_key] = h.hexdigest()
    return _FILE_HASHES[memo_key]
