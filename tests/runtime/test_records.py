"""Run records: strict JSON, one manifest per run folder, and the latest view that never
loses a row's last result (runs that select other rows, runs killed without a summary)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from vpipe.runtime.records import RunRecord, dumps, read_records, run_folders, strict, update_view


def _run(root: Path, rows: list[tuple[int, str, str]], run_id: str, finish: str | None = "complete") -> Path:
    record = RunRecord(root, {"rows": len(rows)}, run_id=run_id)
    record.write({"type": "shared", "seconds": 1.0})
    for index, row_id, status in rows:
        record.write({"type": "row", "row": index, "id": row_id, "status": status, "verdict": "passed"})
    if finish is not None:
        record.close({"ok": len(rows)}, finish)
    return record.folder


def _view(root: Path) -> list[dict]:
    return [json.loads(line) for line in (root / "manifest.jsonl").read_text().splitlines()]


def test_strict_json_writes_null_for_non_finite_numbers() -> None:
    value = {"heard_old": -math.inf, "x": math.nan, "y": np.float32(0.5), "a": np.arange(2), "p": Path("o.mp4")}
    text = dumps(value)
    assert json.loads(text) == {"heard_old": None, "x": None, "y": 0.5, "a": [0, 1], "p": "o.mp4"}
    assert "Infinity" not in text and "NaN" not in text
    assert strict((1.0, float("inf"))) == [1.0, None]


def test_view_keeps_every_rows_last_result(tmp_path: Path) -> None:
    _run(tmp_path, [(1, "a", "ok"), (2, "b", "failed")], "20260101-000000-1")
    update_view(tmp_path)
    _run(tmp_path, [(2, "b", "ok")], "20260101-000100-1")  # --rows 2
    update_view(tmp_path)
    view = _view(tmp_path)
    rows = {r["id"]: r for r in view if r["type"] == "row"}
    assert {k: (r["status"], r["run"]) for k, r in rows.items()} == {
        "a": ("ok", "20260101-000000-1"),
        "b": ("ok", "20260101-000100-1"),
    }
    assert view[-1]["type"] == "summary" and view[-1]["ok"] == 2 and view[-1]["failed"] == 0
    assert [r["run"] for r in view[0]["runs"]] == ["20260101-000000-1", "20260101-000100-1"]


def test_killed_run_is_marked_interrupted_and_its_finished_rows_count(tmp_path: Path) -> None:
    _run(tmp_path, [(1, "a", "ok"), (2, "b", "ok")], "20260101-000000-1")
    folder = _run(tmp_path, [(1, "a", "failed")], "20260101-000100-1", finish=None)  # SIGKILL: no summary
    with open(folder / "manifest.jsonl", "a") as f:
        f.write('{"type": "row", "row": 2, "id"')  # a line cut short by the kill
    assert [p.name for p in run_folders(tmp_path)] == ["20260101-000000-1", "20260101-000100-1"]
    assert len(read_records(folder / "manifest.jsonl")) == 3  # run, shared, row a; the torn line skipped
    update_view(tmp_path)
    view = _view(tmp_path)
    assert [r["status"] for r in view[0]["runs"]] == ["complete", "interrupted"]
    rows = {r["id"]: r["status"] for r in view if r["type"] == "row"}
    assert rows == {"a": "failed", "b": "ok"}
    assert view[-1]["status"] == "interrupted"


def test_ctrl_c_summary_and_folders_of_the_same_second(tmp_path: Path) -> None:
    first = _run(tmp_path, [(1, "a", "ok")], "20260101-000000-1", finish="interrupted")
    second = _run(tmp_path, [(1, "a", "ok")], "20260101-000000-1")
    assert first != second and second.name == "20260101-000000-1.2"
    assert read_records(first / "manifest.jsonl")[-1]["status"] == "interrupted"
    update_view(tmp_path)
    assert [r["status"] for r in _view(tmp_path)[0]["runs"]] == ["interrupted", "complete"]
