"""The HTML review report of a run (or of the latest view over all runs).

`write_report(folder)` reads `folder/manifest.jsonl` and writes `folder/report/index.html`
with one picture set per row under `folder/report/rows/`: the contact sheet (before/after,
worst frames first), the waveform with the slots marked, the mouth aperture against the
prediction. The page needs no network; videos are linked by relative path.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from vpipe.atomic import atomic_write_bytes, atomic_write_text
from vpipe.report.collect import RowView, baselines, collect
from vpipe.runtime.records import RUNS, dumps

REPORT = "report"
PLAN = "plan.json"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:60] or "row"


def _rel(path: Path, start: Path) -> str:
    try:
        return Path(os.path.relpath(path, start)).as_posix()
    except ValueError:
        return path.as_uri()


_UNREAD = object()


class _Source:
    """The source's audio and frames, decoded once for all the rows of a report."""

    def __init__(self, path: Path | None) -> None:
        self.path = path if path is not None and path.is_file() else None
        self._recording: Any = _UNREAD
        self._frames: dict[int, Any] = {}
        self._closed: bool | None = None  # whether the source's GOPs are closed (asked once, if needed)

    def recording(self) -> Any:
        """The source's sound (report/wave.py), or None when it has none."""
        if self._recording is _UNREAD:
            from vpipe.report.wave import read_recording

            self._recording = read_recording(self.path)
        return self._recording

    def frames(self, indices: list[int]) -> dict[int, Any]:
        missing = sorted(set(indices) - set(self._frames))
        if missing and self.path is not None:
            from vpipe.media.decode import read_frames
            from vpipe.report.sheet import SEEK_FROM, seek_index

            if missing[0] >= SEEK_FROM and self._closed is None:  # a source's decoder may seek only at closed GOPs
                from vpipe.qc.pairs import stream_gops

                self._closed = stream_gops(self.path).closed
            self._frames.update(read_frames(self.path, missing, seek_index(self.path, missing[0], bool(self._closed))))
        return {k: self._frames[k] for k in indices if k in self._frames}


def _earlier_pictures(folder: Path) -> Path | None:
    """The pictures of the run before this one (a run folder's previous sibling), if any."""
    if folder.parent.name != RUNS:
        return None
    earlier = sorted(p for p in folder.parent.iterdir() if p.name < folder.name and (p / REPORT / "rows").is_dir())
    return earlier[-1] / REPORT / "rows" if earlier else None


def _have(path: Path, earlier: Path | None) -> bool:
    """Whether `path` exists, copying it from the previous run's pictures of the same output
    when they have it: a re-run of up-to-date rows does not decode their videos again."""
    if path.is_file():
        return True
    if earlier is not None and (earlier / path.name).is_file():
        atomic_write_bytes(path, (earlier / path.name).read_bytes())
        return True
    return False


def _row_assets(row: RowView, report: Path, source: _Source, earlier: Path | None = None) -> dict[str, str]:
    """Write (or reuse) one row's pictures; returns their paths relative to the report."""
    from vpipe.report import figures, sheet

    r = row.record
    out: dict[str, str] = {}
    output = Path(r["output"]) if r.get("output") else None
    if output is None or not output.is_file():
        return out
    out["video"] = _rel(output, report)
    # named by the output's content key: rows (and runs) with the same output share pictures
    key = str(r.get("key") or "")[:20] or f"{_safe(row.id)}-{os.path.getmtime(output):.0f}"
    stem = report / "rows" / key
    curves = row.curves
    slots = list(curves.get("slots") or [])
    sheet_path = stem.with_name(stem.name + "-sheet.jpg")
    if source.path is not None:
        if not _have(sheet_path, earlier):
            picks = list(curves.get("review_frames") or [])
            if not picks:
                from vpipe.probe import probe_video

                info = probe_video(output)
                picks = sheet.frames_around_slots(info.duration, info.fps, slots)
            sheet.write_sheet(sheet_path, output, source, picks, curves.get("face_box"))
        if sheet_path.is_file():
            out["sheet"] = _rel(sheet_path, report)
    wave_path = stem.with_name(stem.name + "-wave.svg")
    if not _have(wave_path, earlier):
        from vpipe.report.wave import row_sound

        recording = source.recording()
        sound, rate = row_sound(output, recording, slots)  # the slots from the output, the rest from the recording
        lane, lane_rate = (recording.samples, recording.rate) if recording is not None else (None, None)
        atomic_write_text(wave_path, figures.waveform_svg(sound, lane, rate, slots, f"row {row.id}", lane_rate))
    out["wave"] = _rel(wave_path, report)
    if curves.get("times"):
        mouth_path = stem.with_name(stem.name + "-mouth.svg")
        if not _have(mouth_path, earlier):
            atomic_write_text(
                mouth_path,
                figures.aperture_svg(
                    curves["times"], curves.get("aperture") or [], curves.get("predicted") or [], slots
                ),
            )
        out["mouth"] = _rel(mouth_path, report)
    return out


def write_report(folder: Path, plan: dict[str, Any] | None = None) -> Path:
    """Write `folder/report/index.html` from `folder/manifest.jsonl`; returns its path."""
    from vpipe.report.html import page

    folder = Path(folder)
    if plan is not None:
        atomic_write_text(folder / PLAN, dumps(plan, indent=2) + "\n")
    data = collect(folder)
    report = folder / REPORT
    (report / "rows").mkdir(parents=True, exist_ok=True)
    if plan is None:
        plan = _find_plan(folder, data.header.get("run"))
    source = _Source(Path(data.header["source"]) if data.header.get("source") else None)
    assets: dict[str, dict[str, str]] = {}
    earlier = _earlier_pictures(folder)
    for row in data.rows:
        try:
            assets[row.id] = _row_assets(row, report, source, earlier)
        except Exception as exc:  # a row whose file cannot be read still gets its line in the report
            assets[row.id] = {}
            row.record.setdefault("diagnostics", []).append(
                {"code": "VP321", "message": f"report pictures could not be made: {type(exc).__name__}: {exc}"}
            )
    plan_text = None
    if plan:
        from vpipe.plan import render_plan

        try:
            plan_text = render_plan(plan)
        except (KeyError, TypeError, ValueError):
            plan_text = json.dumps(plan, indent=2)
    target = report / "index.html"
    atomic_write_text(target, page(data, assets, plan_text, baselines(data.rows)))
    return target


def _find_plan(folder: Path, run_id: Any) -> dict[str, Any] | None:
    """The run's own plan, or for a view the plan of its latest run."""
    candidates = [folder / PLAN]
    if run_id:
        candidates.append(folder / "runs" / str(run_id) / PLAN)
    for path in candidates:
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                continue
            return data if isinstance(data, dict) else None
    return None
