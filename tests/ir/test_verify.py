"""The verifier rejects each kind of broken graph, and accepts the lowered ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from vpipe.driver import BuildOptions, compile_recipe
from vpipe.ir.parser import parse_graph
from vpipe.ir.verify import verify

VALID = """
graph @g {
  %video = media.open() {"kind": "video", "path": "a.mp4"} : Video shared
  %audio = media.audio(%video) : Audio shared
  %row = rows.row() {"file": "rows.csv"} : Row per_row
  %script = template.render(%row) {"template": "hi"} : Script per_row
}
"""


def codes(text: str) -> list[str]:
    return [d.code for d in verify(parse_graph(text))]


def test_valid_graph_passes() -> None:
    assert codes(VALID) == []


def test_lowered_graphs_pass(tiny_recipe: Path) -> None:
    build = compile_recipe(tiny_recipe, BuildOptions(analyze=False))
    assert verify(build.input_graph) == []
    assert verify(build.graph) == []


@pytest.mark.parametrize(
    ("name", "broken", "code"),
    [
        (
            "use before definition (cycle)",
            VALID.replace("%audio = media.audio(%video)", "%audio = media.audio(%video2)").replace(
                "%row = rows.row()",
                '%video2 = media.open() {"kind": "video", "path": "b.mp4"} : Video shared\n  %row = rows.row()',
            ),
            "VP101",
        ),
        ("undefined operand", VALID.replace("media.audio(%video)", "media.audio(%nowhere)"), "VP101"),
        ("defined twice", VALID.replace("%audio = media.audio", "%video = media.audio"), "VP102"),
        (
            "operand of the wrong type",
            VALID.replace("media.audio(%video)", "media.audio(%row)").replace(
                '%audio = media.audio(%row) : Audio shared\n  %row = rows.row() {"file": "rows.csv"} : Row per_row',
                '%row = rows.row() {"file": "rows.csv"} : Row per_row\n  %audio = media.audio(%row) : Audio per_row',
            ),
            "VP103",
        ),
        ("wrong operand count", VALID.replace("media.audio(%video)", "media.audio(%video, %video)"), "VP103"),
        ("wrong result type", VALID.replace(": Audio shared", ": Text shared"), "VP103"),
        ("attribute of the wrong type", VALID.replace('"path": "a.mp4"', '"path": 5'), "VP104"),
        ("unknown attribute", VALID.replace('{"template": "hi"}', '{"template": "hi", "bogus": 1}'), "VP104"),
        ("missing required attribute", VALID.replace('{"template": "hi"}', "{}"), "VP104"),
        (
            "shared op reads a per-row value",
            VALID.replace(
                '%script = template.render(%row) {"template": "hi"} : Script per_row',
                '%script = template.render(%row) {"template": "hi"} : Script shared',
            ),
            "VP105",
        ),
        ("fixed scope moved", VALID.replace(": Row per_row", ": Row shared"), "VP105"),
        ("unknown op kind", VALID.replace("media.audio", "media.teleport"), "VP106"),
    ],
)
def test_rejects_each_broken_kind(name: str, broken: str, code: str) -> None:
    found = codes(broken)
    assert code in found, f"{name}: expected {code}, got {found}"


def test_mixed_scopes_in_one_op_rejected() -> None:
    text = """
graph @g {
  %a, %b = test.pair() : Text, Text shared
}
"""
    g = parse_graph(text)
    from dataclasses import replace

    from vpipe.ir.types import Scope

    op = g.ops[0]
    mixed = replace(op, results=(op.results[0], replace(op.results[1], scope=Scope.PER_ROW)))
    found = [d.code for d in verify(g.replace_ops({0: mixed}))]
    assert "VP105" in found
