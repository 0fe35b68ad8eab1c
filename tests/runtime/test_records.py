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


def _reference_view(root: Path) -> list[dict]:
    """The view as the runtime folded it before it streamed (all records in memory): the oracle."""
    from vpipe.runtime.records import count_rows, run_status

    rows: dict[str, dict] = {}
    shared, header, seen = None, {}, []
    for folder in run_folders(root):
        records = read_records(folder / "manifest.jsonl")
        head = next((r for r in records if r.get("type") == "run"), {})
        summary = next((r for r in records if r.get("type") == "summary"), {})
        seen.append(
            {
                "run": folder.name,
                "started": head.get("started"),
                "status": run_status(records),
                "rows_selected": head.get("rows"),
                "rows_done": sum(1 for r in records if r.get("type") == "row"),
                "seconds": summary.get("seconds"),
            }
        )
        header = {k: v for k, v in head.items() if k not in ("type", "runs")}
        for r in records:
            if r.get("type") == "shared":
                shared = {**r, "run": folder.name}
            elif r.get("type") == "row":
                rows[str(r.get("id"))] = {**r, "run": folder.name}
    ordered = sorted(rows.values(), key=lambda r: (r.get("row") or 0, str(r.get("id"))))
    latest = seen[-1] if seen else {}
    view = [{**header, "type": "run", "view": "latest result of every row over all runs", "runs": seen}]
    view += [shared] if shared is not None else []
    return [*view, *ordered, {"type": "summary", **count_rows(ordered), "latest_run": latest.get("run"), "status": latest.get("status")}]


def test_the_streamed_view_equals_the_view_folded_in_memory_run_after_run(tmp_path: Path) -> None:
    runs = [
        [(1, "a", "ok"), (2, "b", "failed"), (3, "c", "up-to-date")],
        [(2, "b", "ok"), (10, "j", "ok")],
        [(3, "c", "failed"), (1, "a", "ok")],
    ]
    for k, rows in enumerate(runs):
        _run(tmp_path, rows, f"20260101-00000{k}-1", finish=None if k == 2 else "complete")
        update_view(tmp_path)  # folded over the view before it, run by run
        assert _view(tmp_path) == _reference_view(tmp_path)
    (tmp_path / "manifest.jsonl").unlink()  # and from every run at once
    update_view(tmp_path)
    assert _view(tmp_path) == _reference_view(tmp_path)


def test_the_view_of_many_rows_holds_their_places_not_their_records(tmp_path: Path) -> None:
    import tracemalloc

    folder = tmp_path / "runs" / "20260101-000000-1"
    folder.mkdir(parents=True)
    qc = {f"m{k}": k / 7 for k in range(40)}  # a row record of ~1 kB, as QC's metrics make it
    lines = [{"type": "run", "run": folder.name, "rows": 1_000}]
    lines += [{"type": "row", "row": i + 1, "id": f"r{i + 1}", "status": "ok", "verdict": "passed", "qc": qc} for i in range(1_000)]
    (folder / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in [*lines, {"type": "summary", "ok": 1_000}]))
    del lines
    tracemalloc.start()
    try:
        update_view(tmp_path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    view = _view(tmp_path)
    assert len(view) == 1_002 and view[-1]["ok"] == 1_000 and view[5]["id"] == "r5"
    assert peak / 1_000 < 1_000, f"{peak / 1_000:.0f} B a row"  # all records in memory (before): 6.9 kB a row
