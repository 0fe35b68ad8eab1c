"""Read the recipients (CSV, TSV, JSONL or inline rows) with the file position of every
row, so a problem with one row is reported at `rows.csv:LINE` and only that row fails."""

from __future__ import annotations

import csv
import json
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from vpipe.diagnostics.diagnostic import Diagnostic, DiagnosticError, Span
from vpipe.frontend.csvrows import (
    CsvFormat,
    StreamedRows,
    blank,
    check_decodes,
    file_stamp,
    id_digest,
    open_text,
    records,
)
from vpipe.frontend.yamlmap import SourceMap

MAX_ROWS = 1_000_000
MAX_FIELD_CHARS = 10_000


@dataclass(frozen=True)
class Row:
    index: int  # 1-based position among the data rows
    id: str
    values: dict[str, Any]
    span: Span  # where the row is written (CSV line, JSONL line, or inline list item)
    problems: tuple[Diagnostic, ...] = ()
    output: Path | None = None  # the file the row writes (set by the frontend's row check)


@dataclass(frozen=True)
class RowSet:
    file: str  # display name of where rows came from (the CSV, or the recipe for inline rows)
    columns: tuple[str, ...]
    rows: Sequence[Row]  # a tuple, or for a CSV its StreamedRows (frontend.csvrows: never all in memory)
    header_span: Span
    uniform: bool  # all rows have the same columns (CSV) — column problems are reported once
    problems: tuple[Diagnostic, ...] = field(default=())


def _finish(
    file: str,
    columns: list[str],
    raw: list[tuple[dict[str, Any], Span, list[Diagnostic]]],
    id_column: str | None,
    header_span: Span,
    uniform: bool,
    id_span: Span | None,
) -> RowSet:
    problems: list[Diagnostic] = []
    if id_column is not None and uniform and id_column not in columns:
        problems.append(_no_id_column(file, id_column, columns, id_span or header_span))
        id_column = None
    rows: list[Row] = []
    seen: dict[bytes, int] = {}
    for i, (values, span, row_problems) in enumerate(raw, start=1):
        _check_id(values, i, span, id_column, seen, row_problems)
        rows.append(Row(i, _row_id(values, i, id_column) or str(i), values, span, tuple(row_problems)))
    if not rows:
        problems.append(Diagnostic("VP043", f"{file} has no rows", header_span, help="add at least one recipient row"))
    return RowSet(file, tuple(columns), tuple(rows), header_span, uniform, tuple(problems))


def read_csv(
    path: Path,
    display: str,
    delimiter: str = ",",
    encoding: str = "utf-8",
    id_column: str | None = None,
    id_span: Span | None = None,
) -> RowSet:
    """The CSV's rows as a `StreamedRows` (frontend.csvrows): one pass here checks every
    record (fields, ids) keeping only positions, ids' digests and the problems found; the
    rows are read from the file again whenever they are used."""
    fmt = CsvFormat(
        path, display, delimiter, "utf-8-sig" if encoding.lower().replace("_", "-") == "utf-8" else encoding
    )
    check_decodes(fmt)
    fmt = replace(fmt, stamp=file_stamp(path))  # the rows are read from this file, as it is now
    with open_text(fmt) as f:
        header_text = f.readline()
        f.seek(0)
        found = records(f, fmt, 1, header=True)
        reader = _HeaderReader(found)
        columns, header_span = _header(reader, header_text, display)
        problems: list[Diagnostic] = []
        if id_column is not None and id_column not in columns:
            problems.append(_no_id_column(display, id_column, columns, id_span or header_span))
            id_column = None
        starts, lines = array("q"), array("q")
        kept: dict[int, tuple[Diagnostic, ...]] = {}
        seen: dict[bytes, int] = {}  # id digest → the first row with it (frontend.csvrows: the bound)
        for start, line_no, fields in found:
            if blank(fields):
                continue  # blank lines are not rows
            if len(starts) >= MAX_ROWS:
                raise DiagnosticError(
                    Diagnostic("VP040", f"more than {MAX_ROWS} rows", Span(display, line_no, 1, line_no, 2))
                )
            index = len(starts) + 1
            values, span, row_problems = _csv_row(fields, columns, index, Span(display, line_no, 1, line_no, 2))
            _check_id(values, index, span, id_column, seen, row_problems)
            if row_problems:
                kept[index] = tuple(row_problems)
            starts.append(start)
            lines.append(line_no)
    rows = StreamedRows(fmt, starts, lines, partial(_streamed_row, tuple(columns), display, id_column), kept)
    if not rows:
        problems.append(
            Diagnostic("VP043", f"{display} has no rows", header_span, help="add at least one recipient row")
        )
    return RowSet(display, tuple(columns), rows, header_span, True, tuple(problems))


class _HeaderReader:
    """The first record of `records(...)` as `_header` reads it (a csv reader's `next`)."""

    def __init__(self, found: Any) -> None:
        self.found = found

    def __next__(self) -> list[str]:
        return next(self.found)[2]


def _no_id_column(file: str, id_column: str, columns: list[str] | tuple[str, ...], span: Span) -> Diagnostic:
    return Diagnostic(
        "VP041", f"id column '{id_column}' is not a column of {file}", span, help=f"columns are: {', '.join(columns)}"
    )


def _row_id(values: dict[str, Any], index: int, id_column: str | None) -> str | None:
    """The row's id: its id column's value (None when empty), or its number."""
    if id_column is None:
        return str(index)
    value = values.get(id_column)
    return None if value is None or str(value).strip() == "" else str(value).strip()


def _check_id(
    values: dict[str, Any],
    index: int,
    span: Span,
    id_column: str | None,
    seen: dict[bytes, int],
    problems: list[Diagnostic],
) -> None:
    """VP047 (no id) and VP049 (an id an earlier row has), `seen` keeping one digest per id."""
    rid = _row_id(values, index, id_column)
    if rid is None:
        problems.append(Diagnostic("VP047", f"row {index} has no value in id column '{id_column}'", span))
        rid = str(index)
    key = id_digest(rid)
    if key in seen:
        problems.append(
            Diagnostic(
                "VP049",
                f"row {index} has the same id '{rid}' as row {seen[key]}",
                span,
                help="row ids must be unique so --only and the manifest can name a row",
            )
        )
    else:
        seen[key] = index


def _streamed_row(
    columns: tuple[str, ...],
    display: str,
    id_column: str | None,
    index: int,
    line_no: int,
    fields: list[str],
    problems: tuple[Diagnostic, ...],
) -> Row:
    """Row `index` rebuilt from its record, with the problems the checks found for it."""
    values, span, _ = _csv_row(fields, list(columns), index, Span(display, line_no, 1, line_no, 2))
    return Row(index, _row_id(values, index, id_column) or str(index), values, span, problems)


def _header(reader: Any, text: str, display: str) -> tuple[list[str], Span]:
    """The column names of the first line: present (VP043), named and unique (VP044)."""
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise DiagnosticError(
            Diagnostic("VP040", f"cannot parse CSV header: {exc}", Span(display, 1, 1, 1, 2))
        ) from None
    header_span = Span(display, 1, 1, 1, 2)
    if header is None or not any(h.strip() for h in header):
        raise DiagnosticError(
            Diagnostic("VP043", f"{display} is empty", header_span, help="the first line must name the columns")
        )
    columns = [h.strip() for h in header]
    header_text = text.split("\n", 1)[0]
    problems: list[Diagnostic] = []
    seen_cols: set[str] = set()
    cursor = 0  # the columns appear in order: each name is searched after the previous one
    for name in columns:
        at = header_text.find(name, cursor) if name else -1
        if at >= 0:
            cursor = at + len(name)
        if not name:
            problems.append(Diagnostic("VP044", "a CSV column has an empty name", header_span))
        elif name in seen_cols:
            col = at + 1 if at >= 0 else 1
            problems.append(
                Diagnostic(
                    "VP044", f"column '{name}' appears twice in the header", Span(display, 1, col, 1, col + len(name))
                )
            )
        seen_cols.add(name)
    if problems:
        raise DiagnosticError(problems)
    return columns, header_span


def _csv_row(
    fields: list[str], columns: list[str], row_number: int, span: Span
) -> tuple[dict[str, Any], Span, list[Diagnostic]]:
    """One row's values by column, and its own problems: a field count that is not the
    header's (VP042), a value too long (VP048, cut)."""
    row_problems: list[Diagnostic] = []
    if len(fields) != len(columns):
        row_problems.append(
            Diagnostic(
                "VP042",
                f"row {row_number} has {len(fields)} field{'s' if len(fields) != 1 else ''}, "
                f"but the header has {len(columns)}",
                span,
                help='quote values that contain the delimiter, e.g. "Paris, France"',
            )
        )
    values: dict[str, Any] = {}
    for name, value in zip(columns, fields, strict=False):  # ragged rows are reported above
        if len(value) > MAX_FIELD_CHARS:
            row_problems.append(
                Diagnostic("VP048", f"row {row_number}: '{name}' is longer than {MAX_FIELD_CHARS} characters", span)
            )
            value = value[:MAX_FIELD_CHARS]
        values[name] = value.strip()
    return values, span, row_problems


def read_jsonl(path: Path, display: str, id_column: str | None = None, id_span: Span | None = None) -> RowSet:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise DiagnosticError(Diagnostic("VP020", f"cannot read rows file: {exc.strerror}", Span(display))) from None
    except UnicodeDecodeError:
        raise DiagnosticError(Diagnostic("VP040", f"{display} is not valid UTF-8", Span(display))) from None
    raw: list[tuple[dict[str, Any], Span, list[Diagnostic]]] = []
    columns: list[str] = []
    # JSON Lines end at "\n" only: a string may hold U+2028, NEL or a form feed as it is,
    # where str.splitlines() would cut the row in two
    for line_no, line in enumerate((raw.removesuffix("\r") for raw in text.split("\n")), start=1):
        if not line.strip():
            continue
        span = Span(display, line_no, 1, line_no, len(line) + 1)
        row_number = len(raw) + 1
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raw.append(
                (
                    {},
                    Span(display, line_no, exc.colno, line_no, exc.colno + 1),
                    [
                        Diagnostic(
                            "VP045",
                            f"row {row_number} is not valid JSON: {exc.msg}",
                            Span(display, line_no, exc.colno, line_no, exc.colno + 1),
                        )
                    ],
                )
            )
            continue
        if not isinstance(value, dict):
            raw.append(
                (
                    {},
                    span,
                    [Diagnostic("VP046", f"row {row_number} must be a JSON object, not {type(value).__name__}", span)],
                )
            )
            continue
        problems: list[Diagnostic] = []
        for k, v in value.items():
            if isinstance(v, (dict, list)):
                problems.append(
                    Diagnostic(
                        "VP046", f"row {row_number}: '{k}' must be a plain value, not a {type(v).__name__}", span
                    )
                )
        for k in value:
            if k not in columns:
                columns.append(k)
        raw.append(({k: (v.strip() if isinstance(v, str) else v) for k, v in value.items()}, span, problems))
    return _finish(display, columns, raw, id_column, Span(display, 1, 1, 1, 2), False, id_span)


def read_inline(items: list[dict[str, Any]], smap: SourceMap, pointer: str) -> RowSet:
    raw: list[tuple[dict[str, Any], Span, list[Diagnostic]]] = []
    columns: list[str] = []
    for i, item in enumerate(items):
        for k in item:
            if k not in columns:
                columns.append(k)
        raw.append(
            ({k: (v.strip() if isinstance(v, str) else v) for k, v in item.items()}, smap.value(f"{pointer}/{i}"), [])
        )
    return _finish(smap.file, columns, raw, None, smap.key(pointer), False, None)


def with_columns_copied(mapping: tuple[tuple[str, str], ...], row: Row) -> Row:
    """The row with each (variable, column) of `mapping` set to that column's value (slot columns)."""
    return replace(row, values={**row.values, **{name: row.values[col] for name, col in mapping if col in row.values}})


def row_problems(rows: Sequence[Row]) -> list[Diagnostic]:
    """Every row's problems, in row order (streamed rows: from what the checks kept, not read again)."""
    if isinstance(rows, StreamedRows):
        return [d for index in sorted(rows.problems) for d in rows.problems[index]]
    return [d for r in rows for d in r.problems]
