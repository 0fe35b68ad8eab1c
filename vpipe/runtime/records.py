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
is lost when another run renders a different selection. It is rewritten a record at a time:
of each row only where its latest record lies is held (`_Fold`), not the records. Every line is strict JSON:
non-finite numbers become `null`, so `JSON.parse` and `jq` read it.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from vpipe import faults
from vpipe.atomic import atomic_path, check_no_links, create_exclusive

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
def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(byte offset, record) of each line of a manifest that is a JSON object, read one at a
    time (a line cut short by a killed writer, or not JSON, is skipped)."""
    try:
        f = open(path, "rb")  # noqa: SIM115 (closed by the with below, also when the caller stops early)
    except OSError:
        return
    with f:
        offset = 0
        for line in f:
            at, offset = offset, offset + len(line)
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:  # torn, or not UTF-8
                continue
            if isinstance(record, dict):
                yield at, record


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


class _Fold:
    """The latest view folded from the earlier view and the newer runs (oldest first), a record
    at a time: of each row only where its latest record is (source, byte offset) and its number
    are held, never the records themselves, so a view of many rows is rewritten in little memory."""

    def __init__(self) -> None:
        self.sources: list[tuple[Path, str | None]] = []  # (manifest, run id; None: the earlier view)
        self.places: dict[str, tuple[int, int, Any]] = {}  # row id -> (source, offset, row number)
        self.shared: dict[str, Any] | None = None
        self.header: dict[str, Any] = {}
        self.seen: list[dict[str, Any]] = []  # the runs folded, oldest first

    def view(self, path: Path) -> None:
        k = self._source(path, None)
        for at, r in _lines(path):
            if r.get("type") == "row":
                self.places[str(r.get("id"))] = (k, at, r.get("row") or 0)
            elif r.get("type") == "shared":
                self.shared = r
            elif r.get("type") == "run":
                self.header = r
                self.seen = list(r.get("runs") or [])

    def run(self, path: Path, run_id: str) -> None:
        k = self._source(path, run_id)
        head: dict[str, Any] | None = None
        first: dict[str, Any] | None = None  # the run's summary (its first), and its status (the last)
        last: dict[str, Any] | None = None
        done = 0
        for at, r in _lines(path):
            kind = r.get("type")
            if kind == "row":
                self.places[str(r.get("id"))] = (k, at, r.get("row") or 0)
                done += 1
            elif kind == "shared":
                self.shared = {**r, "run": run_id}
            elif kind == "run" and head is None:
                head = r
            elif kind == "summary":
                first, last = first or r, r
        head = head or {}
        self.seen.append(
            {
                "run": run_id,
                "started": head.get("started"),
                "status": str(last.get("status", COMPLETE)) if last else INTERRUPTED,
                "rows_selected": head.get("rows"),
                "rows_done": done,
                "seconds": (first or {}).get("seconds"),
            }
        )
        self.header = {k: v for k, v in head.items() if k not in ("type", "runs")}

    def _source(self, path: Path, run_id: str | None) -> int:
        self.sources.append((path, run_id))
        return len(self.sources) - 1

    def write(self, out: IO[str]) -> None:
        """The view: its header, the shared record, every row's latest record by row number,
        and a summary counted as the rows are written."""
        latest = self.seen[-1] if self.seen else {}
        out.write(dumps({**self.header, "type": "run", "view": "latest result of every row over all runs", "runs": self.seen}) + "\n")
        if self.shared is not None:
            out.write(dumps(self.shared) + "\n")
        with contextlib.ExitStack() as stack:
            files = [stack.enter_context(open(path, "rb")) for path, _ in self.sources]

            def rows() -> Iterator[dict[str, Any]]:
                for _, (k, at, _n) in sorted(self.places.items(), key=lambda p: (p[1][2], p[0])):
                    files[k].seek(at)
                    record = json.loads(files[k].readline())
                    run_id = self.sources[k][1]
                    record = record if run_id is None else {**record, "run": run_id}
                    out.write(dumps(record) + "\n")
                    yield record

            counts = count_rows(rows())
        out.write(dumps({"type": "summary", **counts, "latest_run": latest.get("run"), "status": latest.get("status")}) + "\n")


def update_view(root: Path) -> Path:
    """Fold every run folder not yet in `root/manifest.jsonl` into it (atomically)."""
    view = root / VIEW
    base = view if view.is_file() and not view.is_symlink() else None  # a planted link is replaced
    head = next((r for _, r in _lines(base) if r.get("type") == "run"), None) if base is not None else None
    known = {str(r.get("run")) for r in (head or {}).get("runs") or []}
    if head is None:  # no view yet (or one from before run folders): build it from every run
        base, known = None, set()
    fresh = [p for p in run_folders(root) if p.name not in known]
    if not fresh and base is not None:
        return view
    fold = _Fold()
    if base is not None:
        fold.view(base)
    for p in fresh:
        fold.run(p / MANIFEST, p.name)
    flags = os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0)  # the empty file atomic_path made, never a link
    with atomic_path(view) as tmp, os.fdopen(os.open(tmp, flags), "w", encoding="utf-8") as out:
        fold.write(out)
    return view
