"""Which rows a run renders: `--rows 1:10` and `--only ID` over the recipe's rows, and the
value a row's ops see. The selection is read as it is iterated, never listed."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence

from vpipe.data.rowdata import RowValue
from vpipe.diagnostics.diagnostic import Diagnostic, DiagnosticError
from vpipe.frontend.rows import Row


class Selection:
    """The selected rows, read from the recipe's rows as they are iterated (a CSV's rows are
    never all in memory: `frontend.csvrows.StreamedRows`), and how many there are."""

    def __init__(self, rows: Sequence[Row], lo: int, hi: int, only: frozenset[str], count: int) -> None:
        self._rows, self._lo, self._hi, self._only, self._count = rows, lo, hi, only, count

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Row]:
        # rows are numbered by position (row k + 1 is rows[k]); read in order, not sought one by one
        for row in itertools.islice(self._rows, self._lo, self._hi):
            if not self._only or row.id in self._only:
                yield row


def select_rows(rows: Sequence[Row], spec: str | None, only: tuple[str, ...]) -> Selection:
    """The rows `--rows spec` and `--only ids` select (VP014 when they select none)."""
    start, end = 1, len(rows)
    if spec:
        start_s, _, end_s = spec.partition(":")
        try:
            start = int(start_s) if start_s else 1
            end = int(end_s) if end_s else (start if ":" not in spec else len(rows))
        except ValueError:
            raise DiagnosticError(
                Diagnostic("VP014", f"--rows '{spec}' must look like 3, 1:10, :5 or 4:", None)
            ) from None
    lo, hi = max(start, 1) - 1, max(min(end, len(rows)), 0)
    wanted = frozenset(only)
    count = max(hi - lo, 0)
    if wanted:
        found = {r.id for r in rows if r.id in wanted}  # one pass: ids are not kept
        unknown = wanted - found
        if unknown:
            raise DiagnosticError(Diagnostic("VP014", f"--only: no row has id {', '.join(sorted(unknown))}", None))
        count = sum(1 for r in itertools.islice(rows, lo, max(hi, lo)) if r.id in wanted)
    if not count:
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
    return Selection(rows, lo, max(hi, lo), wanted, count)


def row_value(row: Row) -> RowValue:
    return RowValue(row.index, row.id, dict(row.values), row.span.file, row.span.line)
