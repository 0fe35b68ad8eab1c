"""The printed IR reads back into an equal graph (round trip), and bad text is a coded error."""

from __future__ import annotations

from pathlib import Path

import pytest

from vpipe.diagnostics.diagnostic import DiagnosticError
from vpipe.driver import BuildOptions, compile_recipe
from vpipe.ir.graph import Estimate, Graph, Loc, Op, Value
from vpipe.ir.parser import parse_graph, parse_op
from vpipe.ir.printer import print_graph, print_op
from vpipe.ir.types import Scope, Type


def test_round_trip_of_lowered_and_optimized_graphs(tiny_recipe: Path) -> None:
    build = compile_recipe(tiny_recipe, BuildOptions(analyze=False))
    for graph in (build.input_graph, build.graph):
        text = print_graph(graph)
        again = parse_graph(text)
        assert again == graph
        assert print_graph(again) == text


def test_round_trip_of_every_clause() -> None:
    op = Op(
        "media.open",
        (),
        (Value("v", Type.of("Video", fps=29.97, w=640, h=360, vfr=True), Scope.SHARED),),
        {"kind": "video", "path": 'a "quoted" path/ünïcode.mp4', "nested": {"list": [1, 2.5, None, True]}},
        Loc("dir/recipe.yaml", 3, 10, "/source/video"),
        "pyav@cpu",
        Estimate(0.25, 12.5, 0.0),
    )
    line = print_op(op)
    assert parse_op(line) == op
    assert "kernel(pyav@cpu)" in line and "est(t=0.25, ram_mb=12.5, vram_mb=0)" in line


def test_multiple_results_and_comments() -> None:
    text = """
// a comment
graph @g {
  %a, %b = test.pair() : Text, Text shared   // trailing comment
  %c = text.const() {"text": "x"} : Text per_row
}
"""
    g = parse_graph(text)
    assert [r.name for r in g.ops[0].results] == ["a", "b"]
    assert parse_graph(print_graph(g)) == g


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("%a = x.y() : T bogus", "unknown scope 'bogus'"),
        ("%a = x.y( : T shared", "expected a %value"),
        ("%a, %b = x.y() : T shared", "2 result(s) but 1 type(s)"),
        ('%a = x.y() {"k": } : T shared', "bad JSON"),
        ("%a = x.y() : T shared whatever(1)", "unknown clause 'whatever'"),
        ("a = x.y() : T shared", "expected a %value"),
    ],
)
def test_parse_errors_are_coded(text: str, message: str) -> None:
    with pytest.raises(DiagnosticError) as info:
        parse_op(text, 7, "file.ir")
    d = info.value.diagnostics[0]
    assert d.code == "VP112"
    assert message in d.message
    assert d.span is not None and d.span.line == 7


def test_graph_needs_header_and_closing_brace() -> None:
    with pytest.raises(DiagnosticError):
        parse_graph("%a = x.y() : T shared\n")
    with pytest.raises(DiagnosticError):
        parse_graph("graph @g {\n  %a = x.y() : T shared\n")
    assert parse_graph("graph @empty {\n}\n") == Graph("empty", ())
