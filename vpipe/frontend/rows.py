"""Read the recipients (CSV, TSV, JSONL or inline rows) with the file position of every
row, so a problem with one row is reported at `rows.csv:LINE` and only that row fails."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vpipe.diagnostics.diagnostic import Diagnostic, DiagnosticError, Span
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
    rows: tuple[Row, ...]
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
        problems.append(
            Diagnostic(
                "VP041",
                f"id column '{id_column}' is not a column of {file}",
                id_span or header_span,
                help=f"columns are: {', '.join(columns)}",
            )
        )
        id_column = None
    rows: list[Row] = []
    seen: dict[str, int] = {}
    for i, (values, span, row_problems) in enumerate(raw, start=1):
        rid = str(i)
        if id_column is not None:
            value = values.get(id_column)
            if value is None or str(value).strip() == "":
                row_problems.append(Diagnostic("VP047", f"row {i} has no value in id column '{id_column}'", span))
            else:
                rid = str(value).strip()
        if rid in seen:
            row_problems.append(
                Diagnostic(
                    "VP049",
                    f"row {i} has the same id '{rid}' as row {seen[rid]}",
                    span,
                    help="row ids must be unique so --only and the manifest can name a row",
                )
            )
        else:
            seen[rid] = i
        rows.append(Row(i, rid, values, span, tuple(row_problems)))
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
    text = _decode(path, display, encoding)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    columns, header_span = _header(reader, text, display)
    raw: list[tuple[dict[str, Any], Span, list[Diagnostic]]] = []
    while True:
        line_no = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise DiagnosticError(
                Diagnostic("VP040", f"cannot parse CSV: {exc}", Span(display, reader.line_num, 1, reader.line_num, 2))
            ) from None
        if not fields or all(not f.strip() for f in fields):
            continue  # blank lines are not rows
        if len(raw) >= MAX_ROWS:
            raise DiagnosticError(
                Diagnostic("VP040", f"more than {MAX_ROWS} rows", Span(display, line_no, 1, line_no, 2))
            )
        raw.append(_csv_row(fields, columns, len(raw) + 1, Span(display, line_no, 1, line_no, 2)))
    return _finish(display, columns, raw, id_column, header_span, True, id_span)


def _decode(path: Path, display: str, encoding: str) -> str:
    """The rows file's text (a UTF-8 byte-order mark dropped); VP020/VP040 when it cannot be read."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DiagnosticError(Diagnostic("VP020", f"cannot read rows file: {exc.strerror}", Span(display))) from None
    try:
        return data.decode("utf-8-sig" if encoding.lower().replace("_", "-") == "utf-8" else encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        line = data[: getattr(exc, "start", 0)].count(b"\n") + 1
        raise DiagnosticError(
            Diagnostic(
                "VP040",
                f"{display} is not valid {encoding} text ({exc.__class__.__name__})",
                Span(display, line, 1, line, 2),
                help="save the file as UTF-8, or set rows: {csv: ..., encoding: ...}",
            )
        ) from None


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
