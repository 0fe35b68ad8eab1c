"""Quality measurements of one output, with the thresholds they were judged against."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vpipe.data.codec import cacheable


@cacheable("QcReport")
@dataclass(frozen=True)
class QcReport:
    metrics: dict[str, float]  # e.g. "skill.loudness_delta_db": 0.8
    failures: tuple[str, ...]  # human sentences, one per missed threshold
    fail_rows: bool  # whether a missed threshold fails the row
    contact_sheet: str | None = None  # the review image written beside the output, if asked for
    # for the review report: window frame times with measured and predicted mouth aperture,
    # the re-rendered windows, the worst output frame by each visual measure, the slot edits
    curves: dict[str, Any] | None = None

    @property
    def failed(self) -> bool:
        return bool(self.failures)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "metrics": {k: round(v, 4) for k, v in sorted(self.metrics.items())},
            "failures": list(self.failures),
        }
        if self.contact_sheet is not None:
            out["contact_sheet"] = self.contact_sheet
        if self.curves:
            out["curves"] = self.curves
        return out
