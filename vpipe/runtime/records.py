"""The run records: one manifest per run in its own folder, and the latest view over all runs.

Layout under the output directory::

    out/runs/20261206-131502-4711/manifest.jsonl   this run, line by line as rows finish
    out/runs/20261206-131502-4711/report/          its HTML review (see vpipe.report)
    out/manifest.jsonl                             the latest result of every row, over all runs

A run's manifest is JSON Lines: a `run` header, a `shared` record, one `row` record per row
as it finishes, and a `summary` whose `status` is `complete` or `interrupted` (Ctrl-C, an
error). A run killed outright has no summary; readers report it as interrupted.

The view folds the run folders in time order, keeping each row's most recent record (a row
a later run did not reach keeps its earlier result), so nothing a run learned about a row
is lost when another run renders a different selection. Every line is strict JSON:
non-finite numbers become `null`, so `JSON.parse` and `jq` read it.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vpipe import faults
from vpipe.atomic import atomic_write_text, check_no_links, create_exclusive

RUNS = "runs"
VIEW = "manifest.jsonl"
MANIFEST = "manifest.jsonl"
COMPLETE, INTERRUPTED = "complete", "interrupted"


# --- strict JSON ---------------------------------------------------------------------------------
def strict(value: Any) -> Any:
    """`value` with every non-finite float replaced by None and numpy/Path values made plain."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [strict(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        with contextlib.suppress(TypeError, ValueError):
            return strict(item())
    tolist = getattr(value, "tolist", None)  # numpy arrays
    if callable(tolist):
        return strict(tolist())
    return str(value)


def dumps(value: Any, indent: int | None = None) -> str:
    """Strict JSON text (raises on nothing: non-finite numbers are written as null)."""
    return json.dumps(strict(value), ensure_ascii=False, allow_nan=False, indent=indent)


# --- one run -------------------------------------------------------------------------------------
def new_run_id(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%d-%H%M%S}-{os.getpid()}"


class RunRecord:
    """The manifest of one run, appended and flushed record by record (a reader, or the next
    run after a crash, sees every row that finished)."""

    def __init__(self, root: Path, header: dict[str, Any], run_id: str | None = None) -> None:
        self.root = root
        self.id = run_id or new_run_id()
        self.folder = root / RUNS / self.id
        suffix = 1
        while self.folder.exists():  # two runs in the same second in one process
            suffix += 1
            self.folder = root / RUNS / f"{self.id}.{suffix}"
        self.id = self.folder.name
        check_no_links(self.folder / MANIFEST, root)  # runs/ planted as a link is refused, never followed
        self.folder.mkdir(parents=True)
        self.path = self.folder / MANIFEST
        # exclusive and O_NOFOLLOW: never an existing file, never through a link
        self._f = os.fdopen(create_exclusive(self.path, 0o644), "w", encoding="utf-8")
        self.closed = False
        self.write({"type": "run", "run": self.id, **header})

    def write(self, record: dict[str, Any]) -> None:
        faults.point("manifest")
        self._f.write(dumps(record) + "\n")
        self._f.flush()

    def close(self, summary: dict[str, Any], status: str = COMPLETE) -> None:
        if self.closed:
            return
        self.write({"type": "summary", "status": status, **summary})
        self._f.close()
        self.closed = True


def read_records(path: Path) -> list[dict[str, Any]]:
    """The records of a manifest; a line cut short by a killed writer is skipped."""
    out = []
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict):
            out.append(record)
    return out


def run_status(records: list[dict[str, Any]]) -> str:
    summary = next((r for r in reversed(records) if r.get("type") == "summary"), None)
    return str(summary.get("status", COMPLETE)) if summary else INTERRUPTED


def run_folders(root: Path) -> list[Path]:
    """Run folders under `root` in the order they started (their names sort by time)."""
    runs = root / RUNS
    if not runs.is_dir():
        return []
    return sorted((p for p in runs.iterdir() if p.is_dir() and (p / MANIFEST).is_file()), key=_run_order)


def _run_order(p: Path) -> tuple[str, int]:
    stem, _, n = p.name.partition(".")
    return stem, int(n) if n.isdigit() else 1


# --- the view over all runs ----------------------------------------------------------------------
def fold(runs: Iterable[tuple[str, list[dict[str, Any]]]], base: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Fold run manifests (oldest first) over an earlier view's records."""
    rows: dict[str, dict[str, Any]] = {}
    shared: dict[str, Any] | None = None
    header: dict[str, Any] = {}
    seen: list[dict[str, Any]] = []
    for r in base or []:
        if r.get("type") == "row":
            rows[str(r.get("id"))] = r
        elif r.get("type") == "shared":
            shared = r
        elif r.get("type") == "run":
            header = r
            seen = list(r.get("runs") or [])
    for run_id, records in runs:
        status = run_status(records)
        head = next((r for r in records if r.get("type") == "run"), {})
        summary = next((r for r in records if r.get("type") == "summary"), {})
        seen.append(
            {
                "run": run_id,
                "started": head.get("started"),
                "status": status,
                "rows_selected": head.get("rows"),
                "rows_done": sum(1 for r in records if r.get("type") == "row"),
                "seconds": summary.get("seconds"),
            }
        )
        header = {k: v for k, v in head.items() if k not in ("type", "runs")}
        for r in records:
            if r.get("type") == "shared":
                shared = {**r, "run": run_id}
            elif r.get("type") == "row":
                rows[str(r.get("id"))] = {**r, "run": run_id}
    return {"header": header, "runs": seen, "shared": shared, "rows": rows}


def view_records(folded: dict[str, Any]) -> list[dict[str, Any]]:
    rows = sorted(folded["rows"].values(), key=lambda r: (r.get("row") or 0, str(r.get("id"))))
    runs = folded["runs"]
    latest = runs[-1] if runs else {}
    out: list[dict[str, Any]] = [
        {**folded["header"], "type": "run", "view": "latest result of every row over all runs", "runs": runs}
    ]
    if folded["shared"] is not None:
        out.append(folded["shared"])
    out.extend(rows)
    out.append({"type": "summary", **count_rows(rows), "latest_run": latest.get("run"), "status": latest.get("status")})
    return out


def count_rows(rows: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Row statuses (ok / up_to_date / failed) and QC verdicts (passed / flagged / failed)."""
    counts = {"rows": 0, "ok": 0, "up_to_date": 0, "failed": 0, "qc_passed": 0, "qc_flagged": 0, "qc_failed": 0}
    for r in rows:
        counts["rows"] += 1
        key = str(r.get("status", "")).replace("-", "_")
        if key in counts:
            counts[key] += 1
        verdict = r.get("verdict")
        if verdict in ("passed", "flagged", "failed"):
            counts[f"qc_{verdict}"] += 1
    return counts


def update_view(root: Path) -> Path:
    """Fold every run folder not yet in `root/manifest.jsonl` into it (atomically)."""
    view = root / VIEW
    base = read_records(view) if view.is_file() and not view.is_symlink() else []  # a planted link is replaced
    head = next((r for r in base if r.get("type") == "run"), None)
    known = {str(r.get("run")) for r in (head or {}).get("runs") or []}
    if head is None:  # no view yet (or one from before run folders): build it from every run
        base, known = [], set()
    fresh = [(p.name, read_records(p / MANIFEST)) for p in run_folders(root) if p.name not in known]
    if not fresh and base:
        return view
    records = view_records(fold(fresh, base))
    atomic_write_text(view, "".join(dumps(r) + "\n" for r in records))
    return view
