"""What the review report shows, gathered from a manifest: the rows (flagged first), their
headline QC figures, the plan and the source's own baselines."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vpipe.runtime.records import MANIFEST, count_rows, read_records, run_status

ORDER = {"failed": 0, "flagged": 1, "unmeasured": 2, "passed": 3}

# headline figures: (column title, how to aggregate the per-slot metrics, metric suffix, format, worse is)
FIGURES = (
    ("sync / natural", "min", "sync_ratio", "{:.2f}", "low"),
    ("untouched PSNR dB", "min", "untouched_psnr_min_db", "{:.1f}", "low"),
    ("seam ratio", "max", "seam_ratio", "{:.2f}", "high"),
    ("loudness Δ dB", "maxabs", "loudness_delta_db", "{:+.2f}", "high"),
    ("speaker sim.", "min", "speaker_similarity", "{:.2f}", "low"),
    ("heard: new − old", "min", "heard_margin", "{:+.2f}", "low"),
)


@dataclass
class RowView:
    record: dict[str, Any]
    figures: dict[str, float | None] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(self.record.get("id"))

    @property
    def verdict(self) -> str:
        return str(self.record.get("verdict") or ("failed" if self.record.get("status") == "failed" else "unmeasured"))

    @property
    def metrics(self) -> dict[str, Any]:
        return dict((self.record.get("qc") or {}).get("metrics") or {})

    @property
    def curves(self) -> dict[str, Any]:
        return dict((self.record.get("qc") or {}).get("curves") or {})

    @property
    def failures(self) -> list[str]:
        return list((self.record.get("qc") or {}).get("failures") or [])


@dataclass
class ReportData:
    folder: Path
    header: dict[str, Any]
    shared: dict[str, Any] | None
    rows: list[RowView]
    status: str
    counts: dict[str, int]
    plan: dict[str, Any] | None = None


def _finite(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) else None


def figures(metrics: dict[str, Any]) -> dict[str, float | None]:
    """The headline figures of one row from its QC metrics (per-slot ones aggregated)."""
    out: dict[str, float | None] = {}
    margins: list[float] = []
    for key, value in metrics.items():
        if key.endswith(".heard_new"):
            old = _finite(metrics.get(key[: -len("heard_new")] + "heard_old"))
            new = _finite(value)
            if new is not None:
                margins.append(new - (old if old is not None else 0.0))
    for title, how, suffix, _, _ in FIGURES:
        if suffix == "heard_margin":
            values = margins
        else:
            values = [
                v
                for k, raw in metrics.items()
                if (k == suffix or k.endswith("." + suffix)) and (v := _finite(raw)) is not None
            ]
        if not values:
            out[title] = None
        elif how == "min":
            out[title] = min(values)
        elif how == "max":
            out[title] = max(values)
        else:
            out[title] = max(values, key=abs)
    return out


def collect(folder: Path) -> ReportData:
    """From a run folder (its manifest) or an output folder (the latest view)."""
    records = read_records(folder / MANIFEST)
    header = next((r for r in records if r.get("type") == "run"), {})
    shared = next((r for r in records if r.get("type") == "shared"), None)
    rows = [RowView(r) for r in records if r.get("type") == "row"]
    for row in rows:
        row.figures = figures(row.metrics)
    rows.sort(key=lambda r: (ORDER.get(r.verdict, 2), r.record.get("row") or 0))
    status = run_status(records) if "view" not in header else str(records[-1].get("status") or "complete")
    return ReportData(folder, header, shared, rows, status, count_rows(r.record for r in rows))


def baselines(rows: list[RowView]) -> dict[str, float | None]:
    """The source's own values the rows are judged against (the same for every row)."""
    out: dict[str, float | None] = {}
    for row in rows:
        m = row.metrics
        for key, title in (
            ("sync_natural", "natural sync (source)"),
            ("sync_control", "control: new audio, mouth untouched"),
        ):
            if out.get(title) is None and _finite(m.get(key)) is not None:
                out[title] = _finite(m.get(key))
        for key, value in m.items():
            if key.endswith(".speaker_similarity_source") and out.get("speaker similarity of the source") is None:
                out["speaker similarity of the source"] = _finite(value)
    return out
