"""Run one pass on IR text and compare with expected IR text (the Before/Expected style)."""

from __future__ import annotations

from vpipe.ir.parser import parse_graph
from vpipe.ir.printer import print_graph
from vpipe.ir.verify import verify
from vpipe.passes.base import PassContext
from vpipe.passes.catalog import create


def run_pass(spec: str, before: str, ctx: PassContext | None = None) -> str:
    graph = parse_graph(before)
    assert verify(graph) == [], "the Before IR must be valid"
    ctx = ctx or PassContext()
    after = create(spec).run(graph, ctx)
    assert verify(after) == [], "the pass must produce valid IR"
    return print_graph(after)


def normalized(text: str) -> str:
    return print_graph(parse_graph(text))
