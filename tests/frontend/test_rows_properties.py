"""Property tests (hypothesis) of the rows readers: whatever text the cells hold (delimiters,
quotes, line breaks of every kind, any script), a CSV written by Python's csv module or a JSONL
written by json.dumps reads back cell for cell, each row at the line where it starts."""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from vpipe.frontend.rows import read_csv, read_jsonl

LINE_BREAK = re.compile(r"\r\n|\r|\n")
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
cells = st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=12)
columns = st.lists(
    st.text(st.characters(exclude_characters="\x00\r\n", exclude_categories=("Cs",)), min_size=1, max_size=8).filter(
        lambda c: c.strip() == c and c
    ),
    min_size=1,
    max_size=4,
    unique=True,
)


def _write(suffix: str, text: str) -> Path:
    with tempfile.NamedTemporaryFile("wb", suffix=suffix, delete=False) as handle:
        handle.write(text.encode("utf-8"))
    return Path(handle.name)


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    cols = draw(columns)
    rows = draw(st.lists(st.lists(cells, min_size=len(cols), max_size=len(cols)), min_size=1, max_size=5))
    rows = [r for r in rows if any(c.strip() for c in r)]  # blank lines are not rows
    return cols, draw(st.just(rows).filter(bool))


@SETTINGS
@given(tables(), st.sampled_from([",", ";", "\t"]))
@example((["name"], [["a\u2028b"], ["c\x85d"], ["e\x0cf"]]), ",")
def test_csv_cells_read_back_at_their_lines(table: tuple[list[str], list[list[str]]], delimiter: str) -> None:
    cols, rows = table
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=delimiter)  # "\r\n": cells holding "\r" or "\n" are quoted
    writer.writerow(cols)
    starts = []
    for row in rows:
        starts.append(len(LINE_BREAK.findall(buf.getvalue())) + 1)  # as an editor counts lines
        writer.writerow(row)
    path = _write(".csv", buf.getvalue())
    try:
        rs = read_csv(path, "r.csv", delimiter=delimiter)
        read = list(rs.rows)  # streamed: read from the file again, in order and one by one
        one_by_one = [rs.rows[k] for k in reversed(range(len(rs.rows)))][::-1]
    finally:
        path.unlink()
    assert list(rs.columns) == cols
    assert read == one_by_one
    assert [r.values for r in read] == [dict(zip(cols, (c.strip() for c in row), strict=True)) for row in rows]
    assert [r.span.line for r in read] == starts
    assert all(r.problems == () for r in read) and rs.problems == ()


json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | cells


@SETTINGS
@given(st.lists(st.dictionaries(cells, json_scalars, min_size=1, max_size=4), min_size=1, max_size=5))
@example([{"name": "a\u2028b"}, {"name": "c\x85d\x1ce"}])  # found by this test: splitlines() cut the rows
def test_jsonl_rows_read_back_one_per_line(rows: list[dict[str, object]]) -> None:
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    path = _write(".jsonl", text)
    try:
        rs = read_jsonl(path, "r.jsonl")
    finally:
        path.unlink()
    strip = {k: (v.strip() if isinstance(v, str) else v) for r in rows for k, v in r.items()}
    assert len(rs.rows) == len(rows), [r.problems for r in rs.rows]
    assert [r.span.line for r in rs.rows] == list(range(1, len(rows) + 1))
    for got, want in zip(rs.rows, rows, strict=True):
        assert got.problems == ()
        assert got.values == {k: (v.strip() if isinstance(v, str) else v) for k, v in want.items()}
    assert set(rs.columns) == set(strip)
