"""Which rows a run renders: `--rows 1:10` and `--only ID` over the recipe's rows, and the
value a row's ops see."""

from __future__ import annotations

from vpipe.data.rowdata import RowValue
from vpipe.diagnostics.diagnostic import Diagnostic, DiagnosticError
from vpipe.frontend.rows import Row


def select_rows(rows: tuple[Row, ...], spec: str | None, only: tuple[str, ...]) -> list[Row]:
    chosen = list(rows)
    if spec:
        start_s, _, end_s = spec.partition(":")
        try:
            start = int(start_s) if start_s else 1
            end = int(end_s) if end_s else (start if ":" not in spec else len(rows))
        except ValueError:
            raise DiagnosticError(
                Diagnostic("VP014", f"--rows '{spec}' must look like 3, 1:10, :5 or 4:", None)
            ) from None
        chosen = [r for r in chosen if start <= r.index <= end]
    if only:
        wanted = set(only)
        unknown = wanted - {r.id for r in rows}
        if unknown:
            raise DiagnosticError(Diagnostic("VP014", f"--only: no row has id {', '.join(sorted(unknown))}", None))
        chosen = [r for r in chosen if r.id in wanted]
    if not chosen:
        what = " and ".join(
            x for x in (f"--rows {spec}" if spec else "", f"--only {', '.join(only)}" if only else "") if x
        )
        raise DiagnosticError(
            Diagnostic(
                "VP014",
                f"{what or 'the row selection'} selects no row (the recipe has {len(rows)} row(s))",
                None,
                help=f"rows are numbered 1 to {len(rows)}" if rows else "add rows to the recipe",
            )
        )
    return chosen


def row_value(row: Row) -> RowValue:
    return RowValue(row.index, row.id, dict(row.values), row.span.file, row.span.line)
