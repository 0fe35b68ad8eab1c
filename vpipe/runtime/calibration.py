"""Honest estimates: what earlier runs of the same kind measured, kept beside the cache.

After every run, `record_run` appends one line to `CACHE/timings.jsonl`: the run's
profile (the source file, the kernels per op, the device), the seconds of each rendered
row and of the shared analysis. `vpipe build` then estimates a row as the median of the
rows measured for the same profile on this machine, and the shared work as what it cost
the last time (near nothing once it is cached). With no earlier run, the estimate is the
kernels' own (and the plan says it is uncalibrated).
"""

from __future__ import annotations

import contextlib
import json
import statistics
from pathlib import Path
from typing import Any

from vpipe.ir.hashing import digest

TIMINGS = "timings.jsonl"
KEEP_ROWS = 200  # row timings per run kept for calibration


def profile_key(graph: Any, source: Path, device: str) -> str:
    """Runs with the same source file and the same kernels behave alike."""
    try:
        stat = source.stat()
        ident = f"{source.resolve()}:{stat.st_size}:{int(stat.st_mtime)}"
    except OSError:
        ident = str(source)
    kernels = sorted(f"{op.kind}={op.kernel}" for op in graph)
    return digest("profile", ident, device, *kernels)[:24]


def record_run(cache_root: Path, profile: str, row_seconds: list[float], shared_seconds: float, cached: bool) -> None:
    if not row_seconds and not shared_seconds:
        return
    line = {
        "profile": profile,
        "rows": [round(s, 3) for s in row_seconds[:KEEP_ROWS]],
        "shared_seconds": round(shared_seconds, 3),
        "shared_cached": cached,
    }
    with contextlib.suppress(OSError):
        cache_root.mkdir(parents=True, exist_ok=True)
        with open(cache_root / TIMINGS, "a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")


def calibrated(cache_root: Path, profile: str) -> dict[str, Any] | None:
    """{per_row_seconds, warmup_seconds, shared_seconds, shared_cached_seconds, rows_measured}
    from earlier runs of this profile (the last few), or None."""
    path = cache_root / TIMINGS
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    runs = []
    for line in lines:
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(r, dict) and r.get("profile") == profile:
            runs.append(r)
    if not runs:
        return None
    # A run's first row also loads the models (speech worker, face tracker, speaker encoder):
    # the steady cost of a row is measured on the others, the warm-up apart.
    recent = [list(r.get("rows") or []) for r in runs[-5:]]
    steady = [s for rows in recent for s in (rows[1:] if len(rows) > 1 else [])]
    rows = steady or [s for rows in recent for s in rows]
    warmups = [rows_[0] - statistics.median(rows_[1:]) for rows_ in recent if len(rows_) > 1]
    fresh = [r["shared_seconds"] for r in runs if not r.get("shared_cached")]
    warm = [r["shared_seconds"] for r in runs if r.get("shared_cached")]
    return {
        "per_row_seconds": statistics.median(rows) if rows else None,
        "warmup_seconds": max(0.0, statistics.median(warmups)) if warmups else 0.0,
        "shared_seconds": fresh[-1] if fresh else None,
        "shared_cached_seconds": warm[-1] if warm else None,
        "rows_measured": len(rows),
    }
