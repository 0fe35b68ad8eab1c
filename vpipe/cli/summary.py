"""What `vpipe run` prints at the end: a table of the rows by QC gate (passed / flagged /
failed), the rows that need a look, and where the manifest and the review report are."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

from vpipe.runtime.records import dumps
from vpipe.runtime.run import RunSummary

SHOWN = 10  # flagged / failed rows listed by name; the report has them all


def _shown(path: Path | None) -> str:
    if path is None:
        return "-"
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def _reason(outcome: object) -> str:
    report = getattr(outcome, "report", None) or {}
    failures = report.get("failures") or []
    if failures:
        return str(failures[0])
    diagnostics = getattr(outcome, "diagnostics", [])
    errors = [d for d in diagnostics if d.is_error]
    return f"{errors[0].code} {errors[0].message}" if errors else ""


def render_run_summary(summary: RunSummary) -> str:
    v = summary.verdicts()
    ok, fresh, failed = summary.count("ok"), summary.count("up-to-date"), summary.failed
    lines = []
    if summary.status != "complete":
        lines.append(f"run INTERRUPTED after {len(summary.outcomes)} of {summary.selected} row(s)")
    header = ("rows", "passed", "flagged", "failed", "unmeasured")
    values = (len(summary.outcomes), v["passed"], v["flagged"], v["failed"], v["unmeasured"])
    width = [max(len(h), len(str(x))) + 2 for h, x in zip(header, values, strict=True)]
    lines.append("QC      " + "".join(h.rjust(w) for h, w in zip(header, width, strict=True)))
    lines.append("        " + "".join(str(x).rjust(w) for x, w in zip(values, width, strict=True)))
    need_look = v["flagged"] + v["failed"]
    if need_look:  # the outcomes are read back from disk, only as far as the first SHOWN
        shown = itertools.islice((o for o in summary.outcomes if o.verdict in ("flagged", "failed")), SHOWN)
        lines.extend(f"  {o.verdict:<8} row {o.index} ({o.id}): {_reason(o)}" for o in shown)
    if need_look > SHOWN:
        lines.append(f"  … and {need_look - SHOWN} more (see the report)")
    lines.append(
        f"rendered {ok} row(s), {fresh} up to date, {failed} failed in {summary.total_seconds:.1f} s "
        f"(shared {summary.shared_seconds:.1f} s, median {summary.median_row_seconds():.2f} s per row)"
    )
    share = summary.qc_share()
    if share is not None:
        lines.append(f"QC took a median {100 * share:.0f} % of a rendered row's time")
    if summary.report is not None:
        lines.append(f"report:   {_shown(summary.report)}")
    lines.append(f"manifest: {_shown(summary.manifest)} (this run: {_shown(summary.run_manifest)})")
    return "\n".join(lines)


def run_json(summary: RunSummary) -> str:
    return dumps(
        {
            "status": summary.status,
            "rows": [o.to_json() for o in summary.outcomes],
            "counts": {
                "ok": summary.count("ok"),
                "up_to_date": summary.count("up-to-date"),
                "failed": summary.failed,
                **{f"qc_{k}": n for k, n in summary.verdicts().items()},
            },
            "seconds": round(summary.total_seconds, 3),
            "shared_seconds": round(summary.shared_seconds, 3),
            "startup_seconds": round(summary.startup_seconds, 3) if summary.startup_seconds is not None else None,
            "manifest": str(summary.manifest) if summary.manifest else None,
            "run_manifest": str(summary.run_manifest) if summary.run_manifest else None,
            "report": str(summary.report) if summary.report else None,
        },
        indent=2,
    )
