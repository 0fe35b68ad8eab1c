"""Reading recipients (vpipe/frontend/rows.py): every row keeps the line it came from, a bad row
fails alone with a coded diagnostic at that line, and the file-level problems (empty, not
text, a broken header) stop the recipe with the position of the fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from vpipe.diagnostics.diagnostic import Diagnostic, DiagnosticError, Span
from vpipe.frontend import rows as rows_io
from vpipe.frontend.rows import read_csv, read_inline, read_jsonl
from vpipe.frontend.yamlmap import load_yaml


def csv_file(tmp_path: Path, text: str | bytes, name: str = "rows.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def codes(problems: tuple) -> list[str]:  # type: ignore[type-arg]
    return [d.code for d in problems]


def fails(call, *args, **kwargs) -> list:  # type: ignore[no-untyped-def,type-arg]
    with pytest.raises(DiagnosticError) as info:
        call(*args, **kwargs)
    return info.value.diagnostics


# --- CSV -----------------------------------------------------------------------------------------
def test_csv_rows_keep_their_lines_values_and_ids(tmp_path: Path) -> None:
    path = csv_file(tmp_path, 'name,email\n Ana , a@x.org\n\n"Ben, Jr.",b@x.org\n,,\n"Zoë\nSecond",z@x.org\n')
    rs = read_csv(path, "rows.csv")
    assert rs.file == "rows.csv" and rs.columns == ("name", "email") and rs.uniform is True and rs.problems == ()
    assert [r.values for r in rs.rows] == [
        {"name": "Ana", "email": "a@x.org"},
        {"name": "Ben, Jr.", "email": "b@x.org"},
        {"name": "Zoë\nSecond", "email": "z@x.org"},
    ]
    assert [r.index for r in rs.rows] == [1, 2, 3] and [r.id for r in rs.rows] == ["1", "2", "3"]
    assert [r.span for r in rs.rows] == [Span("rows.csv", n, 1, n, 2) for n in (2, 4, 6)]
    assert all(r.problems == () for r in rs.rows)
    assert rs.header_span == Span("rows.csv", 1, 1, 1, 2)


def test_a_byte_order_mark_and_tabs(tmp_path: Path) -> None:
    rs = read_csv(csv_file(tmp_path, "\ufeffname\tcity\nAna\tRome\n"), "r.tsv", delimiter="\t")
    assert rs.columns == ("name", "city") and rs.rows[0].values == {"name": "Ana", "city": "Rome"}
    for spelling in ("UTF_8", "utf-8", "Utf-8"):  # any spelling of UTF-8 drops the byte-order mark
        rs = read_csv(csv_file(tmp_path, "\ufeffname\nAna\n"), "r.csv", encoding=spelling)
        assert rs.columns == ("name",) and rs.rows[0].values == {"name": "Ana"}


def test_other_encodings(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "name\nZoë\n".encode("latin-1"))
    assert read_csv(path, "r.csv", encoding="latin-1").rows[0].values == {"name": "Zoë"}
    (d,) = fails(read_csv, path, "r.csv")
    assert d == Diagnostic(
        "VP040",
        "r.csv is not valid utf-8 text (UnicodeDecodeError)",
        Span("r.csv", 2, 1, 2, 2),
        help="save the file as UTF-8, or set rows: {csv: ..., encoding: ...}",
    )
    (d,) = fails(read_csv, csv_file(tmp_path, "\nname\nAna\n"), "r.csv", encoding="no-such-codec")
    assert (d.code, d.message, d.span) == (
        "VP040",
        "r.csv is not valid no-such-codec text (LookupError)",
        Span("r.csv", 1, 1, 1, 2),  # an unknown encoding: the file's first line
    )
    (d,) = fails(read_csv, path, "r.csv", encoding="no-such-codec")
    assert d.code == "VP040" and "LookupError" in d.message and d.span.line == 1


def test_the_line_of_a_bad_byte_is_reported(tmp_path: Path) -> None:
    (d,) = fails(read_csv, csv_file(tmp_path, b"name\nAna\nBen\n\xff\n"), "r.csv")
    assert d.code == "VP040" and d.span.line == 4


def test_a_missing_file(tmp_path: Path) -> None:
    (d,) = fails(read_csv, tmp_path / "nope.csv", "nope.csv")
    assert d.code == "VP020" and "cannot read rows file" in d.message and d.span == Span("nope.csv")
    (d,) = fails(read_jsonl, tmp_path / "nope.jsonl", "nope.jsonl")
    assert d.code == "VP020" and d.span == Span("nope.jsonl")
    assert d.message == "cannot read rows file: No such file or directory"


@pytest.mark.parametrize("text", ["", "\n", " , \n", "\n\nname\nAna\n"])
def test_an_empty_file_or_header(tmp_path: Path, text: str) -> None:
    (d,) = fails(read_csv, csv_file(tmp_path, text), "r.csv")
    assert d == Diagnostic(
        "VP043", "r.csv is empty", Span("r.csv", 1, 1, 1, 2), help="the first line must name the columns"
    )


def test_a_header_without_rows(tmp_path: Path) -> None:
    rs = read_csv(csv_file(tmp_path, "name,city\n\n , \n"), "r.csv")
    assert rs.rows == () and rs.problems == (
        Diagnostic("VP043", "r.csv has no rows", Span("r.csv", 1, 1, 1, 2), help="add at least one recipient row"),
    )


def test_header_problems_point_at_the_column(tmp_path: Path) -> None:
    diags = fails(read_csv, csv_file(tmp_path, "name,city,,name\nA,B,C,D\n"), "r.csv")
    assert codes(tuple(diags)) == ["VP044", "VP044"]
    assert "empty name" in diags[0].message
    assert "'name' appears twice" in diags[1].message and diags[1].span == Span("r.csv", 1, 12, 1, 16)
    assert diags[0] == Diagnostic("VP044", "a CSV column has an empty name", Span("r.csv", 1, 1, 1, 2))


def test_each_repeated_column_is_pointed_at_where_it_is(tmp_path: Path) -> None:
    """Not at the first place the name occurs as text ('b' inside 'ab'), nor every repeat at the
    second occurrence; names with spaces too."""
    diags = fails(read_csv, csv_file(tmp_path, "ab,b,b,x,x,x\n1,2,3,4,5,6\n"), "r.csv")
    assert [(d.message, d.span) for d in diags] == [
        ("column 'b' appears twice in the header", Span("r.csv", 1, 6, 1, 7)),
        ("column 'x' appears twice in the header", Span("r.csv", 1, 10, 1, 11)),
        ("column 'x' appears twice in the header", Span("r.csv", 1, 12, 1, 13)),
    ]
    (d,) = fails(read_csv, csv_file(tmp_path, "first name,city, first name\nA,B,C\n"), "r.csv")
    assert d.span == Span("r.csv", 1, 18, 1, 28)
    empty, repeat = fails(read_csv, csv_file(tmp_path, "xb,b,,b\n1,2,3,4\n"), "r.csv")  # an empty name between
    assert empty.message == "a CSV column has an empty name" and repeat.span == Span("r.csv", 1, 7, 1, 8)
    # a quoted name with an escaped quote is not found as written: the whole line's start
    (d,) = fails(read_csv, csv_file(tmp_path, '"a""b",x,"a""b"\n1,2,3\n'), "r.csv")
    assert d.message == "column 'a\"b' appears twice in the header" and d.span == Span("r.csv", 1, 1, 1, 4)


def test_a_broken_header_or_row(tmp_path: Path) -> None:
    (d,) = fails(read_csv, csv_file(tmp_path, '"na"me\nA\n'), "r.csv")
    assert d == Diagnostic("VP040", "cannot parse CSV header: ',' expected after '\"'", Span("r.csv", 1, 1, 1, 2))
    (d,) = fails(read_csv, csv_file(tmp_path, 'name\nA\n"B"x\n'), "r.csv")
    assert d == Diagnostic("VP040", "cannot parse CSV: ',' expected after '\"'", Span("r.csv", 3, 1, 3, 2))


def test_ragged_rows_fail_alone(tmp_path: Path) -> None:
    rs = read_csv(csv_file(tmp_path, "name,city\nAna,Rome\nBen\nCy,Oslo,extra\n"), "r.csv")
    assert [codes(r.problems) for r in rs.rows] == [[], ["VP042"], ["VP042"]]
    assert rs.rows[1].problems[0].message == "row 2 has 1 field, but the header has 2"
    assert rs.rows[2].problems[0].message == "row 3 has 3 fields, but the header has 2"
    assert rs.rows[1].problems[0].span == Span("r.csv", 3, 1, 3, 2)
    assert rs.rows[1].problems[0].help == 'quote values that contain the delimiter, e.g. "Paris, France"'
    assert rs.rows[1].values == {"name": "Ben"} and rs.rows[2].values == {"name": "Cy", "city": "Oslo"}


def test_a_long_field_is_cut_and_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rows_io, "MAX_FIELD_CHARS", 5)
    rs = read_csv(csv_file(tmp_path, "name,city\nAnastasia,Rome\nAnnie,Oslo\n"), "r.csv")
    assert codes(rs.rows[0].problems) == ["VP048"] and rs.rows[0].values["name"] == "Anast"
    assert rs.rows[0].problems[0] == Diagnostic(
        "VP048", "row 1: 'name' is longer than 5 characters", Span("r.csv", 2, 1, 2, 2)
    )
    assert rs.rows[1].problems == () and rs.rows[1].values["name"] == "Annie"  # exactly the limit


def test_the_row_count_is_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rows_io, "MAX_ROWS", 2)
    assert len(read_csv(csv_file(tmp_path, "n\n1\n2\n"), "r.csv").rows) == 2
    (d,) = fails(read_csv, csv_file(tmp_path, "n\n1\n2\n3\n"), "r.csv")
    assert d == Diagnostic("VP040", "more than 2 rows", Span("r.csv", 4, 1, 4, 2))


def test_id_column(tmp_path: Path) -> None:
    rs = read_csv(csv_file(tmp_path, "id,name\n a1 ,Ana\n,Ben\nb2,Cy\na1,Di\n"), "r.csv", id_column="id")
    assert [r.id for r in rs.rows] == ["a1", "2", "b2", "a1"]
    assert [codes(r.problems) for r in rs.rows] == [[], ["VP047"], [], ["VP049"]]
    assert rs.rows[1].problems[0] == Diagnostic(
        "VP047", "row 2 has no value in id column 'id'", Span("r.csv", 3, 1, 3, 2)
    )
    assert rs.rows[3].problems[0] == Diagnostic(
        "VP049",
        "row 4 has the same id 'a1' as row 1",
        Span("r.csv", 5, 1, 5, 2),
        help="row ids must be unique so --only and the manifest can name a row",
    )


def test_default_ids_can_collide_with_given_ones(tmp_path: Path) -> None:
    rs = read_csv(csv_file(tmp_path, "id\n2\n\n"), "r.csv", id_column="id")
    assert [r.id for r in rs.rows] == ["2"]
    rs = read_csv(csv_file(tmp_path, "id,n\n2,a\n,b\n"), "r.csv", id_column="id")
    assert [codes(r.problems) for r in rs.rows] == [[], ["VP047", "VP049"]]


def test_an_unknown_id_column(tmp_path: Path) -> None:
    where = Span("recipe.yaml", 7, 3, 7, 9)
    rs = read_csv(csv_file(tmp_path, "name\nAna\n"), "r.csv", id_column="email", id_span=where)
    assert rs.problems == (
        Diagnostic("VP041", "id column 'email' is not a column of r.csv", where, help="columns are: name"),
    )
    assert [r.id for r in rs.rows] == ["1"] and rs.rows[0].problems == ()  # numbered, not failed
    two = read_csv(csv_file(tmp_path, "name,city\nAna,Rome\n"), "r.csv", id_column="email")
    assert two.problems[0].help == "columns are: name, city"
    rs = read_csv(csv_file(tmp_path, "name\nAna\n"), "r.csv", id_column="email")
    assert rs.problems[0].span == rs.header_span


# --- JSONL ---------------------------------------------------------------------------------------
def test_jsonl_rows(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path, '\ufeff{"name": " Ana ", "n": 3}\n\n{"city": "Rome", "name": "Ben", "ok": true}\n', "r.jsonl"
    )
    rs = read_jsonl(path, "r.jsonl")
    assert rs.columns == ("name", "n", "city", "ok") and not rs.uniform and rs.problems == ()
    assert [r.values for r in rs.rows] == [{"name": "Ana", "n": 3}, {"city": "Rome", "name": "Ben", "ok": True}]
    assert [r.span for r in rs.rows] == [Span("r.jsonl", 1, 1, 1, 26), Span("r.jsonl", 3, 1, 3, 44)]


def test_jsonl_bad_rows_fail_alone(tmp_path: Path) -> None:
    text = '{"name": "Ana"}\n{"name": \n[1, 2]\n{"name": {"first": "B"}, "tags": [1]}\n{"name": "Cy"}\n'
    rs = read_jsonl(csv_file(tmp_path, text, "r.jsonl"), "r.jsonl", id_column="name")
    assert [codes(r.problems) for r in rs.rows] == [[], ["VP045", "VP047"], ["VP046", "VP047"], ["VP046", "VP046"], []]
    bad_json = rs.rows[1].problems[0]
    assert bad_json.message.startswith("row 2 is not valid JSON") and bad_json.span == Span("r.jsonl", 2, 10, 2, 11)
    assert rs.rows[1].span == bad_json.span  # the row points at the fault
    assert rs.rows[2].problems[0].message == "row 3 must be a JSON object, not list"
    assert rs.rows[2].problems[0].span == rs.rows[2].span == Span("r.jsonl", 3, 1, 3, 7)
    assert rs.rows[3].problems[0].message == "row 4: 'name' must be a plain value, not a dict"
    assert rs.rows[3].problems[1].message == "row 4: 'tags' must be a plain value, not a list"
    assert rs.rows[3].problems[0].span == rs.rows[3].span and rs.rows[3].span.line == 4
    assert [r.id for r in rs.rows][-1] == "Cy"


def test_jsonl_not_utf8_or_empty(tmp_path: Path) -> None:
    (d,) = fails(read_jsonl, csv_file(tmp_path, b'{"a": "\xff"}\n', "r.jsonl"), "r.jsonl")
    assert (d.code, d.message, d.span) == ("VP040", "r.jsonl is not valid UTF-8", Span("r.jsonl"))
    rs = read_jsonl(csv_file(tmp_path, "\n \n", "r.jsonl"), "r.jsonl")
    assert codes(rs.problems) == ["VP043"] and rs.file == "r.jsonl"
    assert rs.problems[0].span == rs.header_span == Span("r.jsonl", 1, 1, 1, 2)
    assert rs.problems[0].message == "r.jsonl has no rows" and rs.uniform is False


# --- inline rows ---------------------------------------------------------------------------------
def test_inline_rows_point_into_the_recipe() -> None:
    doc, smap = load_yaml("rows:\n  - {name: ' Ana ', n: 1}\n  - {city: Rome}\n", "recipe.yaml")
    rs = read_inline(doc["rows"], smap, "/rows")
    assert rs.file == "recipe.yaml" and rs.columns == ("name", "n", "city") and not rs.uniform
    assert [r.values for r in rs.rows] == [{"name": "Ana", "n": 1}, {"city": "Rome"}]
    assert [r.span.line for r in rs.rows] == [2, 3] and rs.header_span.line == 1
    assert [r.id for r in rs.rows] == ["1", "2"] and rs.uniform is False and rs.problems == ()


def test_windows_line_ends(tmp_path: Path) -> None:
    """CRLF files: the same values, and spans that do not count the '\\r'."""
    lf = '{"name": "Ana"}\n{"name": "Ben"}\n'
    a = read_jsonl(csv_file(tmp_path, lf, "lf.jsonl"), "r.jsonl")
    b = read_jsonl(csv_file(tmp_path, lf.replace("\n", "\r\n"), "crlf.jsonl"), "r.jsonl")
    assert [r.values for r in a.rows] == [r.values for r in b.rows] == [{"name": "Ana"}, {"name": "Ben"}]
    assert [r.span for r in b.rows] == [r.span for r in a.rows] == [Span("r.jsonl", n, 1, n, 16) for n in (1, 2)]
    c = read_csv(csv_file(tmp_path, "name\r\nAna\r\nBen\r\n"), "r.csv")
    assert [r.values for r in c.rows] == [{"name": "Ana"}, {"name": "Ben"}] and [r.span.line for r in c.rows] == [2, 3]


# --- streamed: a CSV's rows are read from the file when used, never all kept -------------------
def test_csv_rows_are_read_from_the_file_each_time_and_one_by_one(tmp_path: Path) -> None:
    text = "id,name\n" + "".join(f'r{i},"N{i}\nline two"\n' if i % 7 == 0 else f"r{i},N{i}\n\n" for i in range(1, 300))
    path = csv_file(tmp_path, text + "r5,again\n")
    rs = read_csv(path, "rows.csv", id_column="id")
    assert isinstance(rs.rows, rows_io.StreamedRows) and len(rs.rows) == 300
    every = list(rs.rows)
    assert every == list(rs.rows) and [rs.rows[k] for k in (299, 0, 6, 7, 150, -1)] == [
        every[k] for k in (299, 0, 6, 7, 150, -1)
    ]
    assert rs.rows[6].values == {"id": "r7", "name": "N7\nline two"} and (
        rs.rows[6].span.line,
        rs.rows[7].span.line,
    ) == (14, 16)
    assert rs.rows[2:4] == every[2:4]
    # the duplicate id is found by the scan, which kept one digest per id, not the rows
    (dup,) = [r for r in every if r.problems]
    assert dup.index == 300 and dup.problems[0].message == "row 300 has the same id 'r5' as row 5"
    with pytest.raises(IndexError):
        rs.rows[300]
    path.write_text(text.replace("N1", "M1"), encoding="utf-8")  # edited since: not read as the old rows
    (d,) = fails(list, rs.rows)
    assert d.code == "VP040" and "changed" in d.message


def test_scanning_keeps_no_row(tmp_path: Path) -> None:
    """Reading a 20,000-row CSV allocates ~a hundred bytes a row at its peak (the ids' digests)
    and keeps less (positions and lines, 16 bytes a row) — the rows themselves ~1 KB each."""
    import tracemalloc

    path = csv_file(
        tmp_path, "id,value,email\n" + "".join(f"r{i},value number {i},p{i}@example.org\n" for i in range(20_000))
    )
    tracemalloc.start()
    try:
        rs = read_csv(path, "rows.csv", id_column="id")
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(rs.rows) == 20_000 and rs.rows[19_999].values["email"] == "p19999@example.org"
    assert kept < 20_000 * 40 and peak < 20_000 * 250, (kept, peak)
