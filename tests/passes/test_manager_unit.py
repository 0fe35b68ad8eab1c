"""The pass manager on its own (fake passes, a recording instrument): the order of every hook, a
skipped pass in the middle, verification of the input and after each pass (or not), a pass's
error diagnostics, and the time it reports."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest

from vpipe.diagnostics.diagnostic import Diagnostic, DiagnosticError
from vpipe.ir.graph import Graph
from vpipe.ir.parser import parse_graph
from vpipe.passes.base import PassContext
from vpipe.passes.instruments import Instrument
from vpipe.passes.manager import PassManager

GOOD = parse_graph('graph @g {\n  %row = rows.row() {"file": "rows.csv"} : Row per_row\n}\n')
# a shared op that uses a per-row value: invalid IR
BAD = parse_graph(
    'graph @g {\n  %row = rows.row() {"file": "rows.csv"} : Row per_row\n'
    '  %s = template.render(%row) {"template": "hi"} : Script shared\n}\n'
)


@dataclass(frozen=True)
class Rename:
    """Renames the graph (a visible change) after sleeping `sleep` seconds."""

    name: str
    sleep: float = 0.0
    result: Graph | None = None
    summary: ClassVar[str] = "test only"

    def run(self, graph: Graph, ctx: PassContext) -> Graph:
        time.sleep(self.sleep)
        return self.result if self.result is not None else Graph(f"{graph.name}+{self.name}", graph.ops)


@dataclass(frozen=True)
class Complains:
    name: ClassVar[str] = "complains"
    summary: ClassVar[str] = "test only"

    def run(self, graph: Graph, ctx: PassContext) -> Graph:
        ctx.diagnostics.add(Diagnostic("VP201", "this pass found a problem", None))
        return graph


@dataclass
class Recorder(Instrument):
    skip: frozenset[str] = frozenset()
    events: list[tuple[Any, ...]] = field(default_factory=list)

    def before_pipeline(self, graph: Graph) -> None:
        self.events.append(("start", graph.name))

    def should_run(self, name: str, graph: Graph) -> bool:
        self.events.append(("ask", name, graph.name))
        return name not in self.skip

    def before_pass(self, name: str, graph: Graph) -> None:
        self.events.append(("before", name, graph.name))

    def after_pass(self, name: str, before: Graph, after: Graph, seconds: float) -> None:
        self.events.append(("after", name, before.name, after.name, seconds))

    def skipped(self, name: str) -> None:
        self.events.append(("skipped", name))

    def after_pipeline(self, graph: Graph) -> None:
        self.events.append(("end", graph.name))


def test_hooks_in_order_and_a_skipped_pass_in_the_middle() -> None:
    rec, other = Recorder(skip=frozenset({"b"})), Recorder()
    out = PassManager([Rename("a"), Rename("b"), Rename("c")], [rec, other]).run(GOOD, PassContext())
    assert out.name == "g+a+c"
    events = [e[:4] if e[0] == "after" else e for e in rec.events]
    assert events == [
        ("start", "g"),
        ("ask", "a", "g"),
        ("before", "a", "g"),
        ("after", "a", "g", "g+a"),
        ("ask", "b", "g+a"),
        ("skipped", "b"),
        ("ask", "c", "g+a"),
        ("before", "c", "g+a"),
        ("after", "c", "g+a", "g+a+c"),
        ("end", "g+a+c"),
    ]
    assert ("skipped", "b") in other.events  # every instrument hears that a pass was skipped
    assert ("before", "b", "g+a") not in other.events


def test_every_instrument_is_asked_and_one_no_skips() -> None:
    first, second = Recorder(skip=frozenset({"a"})), Recorder()
    out = PassManager([Rename("a")], [first, second]).run(GOOD, PassContext())
    assert out.name == "g"
    assert ("ask", "a", "g") in second.events and ("skipped", "a") in second.events


def test_the_time_of_each_pass_is_measured() -> None:
    rec = Recorder()
    PassManager([Rename("slow", sleep=0.05), Rename("fast")], [rec]).run(GOOD, PassContext())
    (slow,) = [e[4] for e in rec.events if e[0] == "after" and e[1] == "slow"]
    (fast,) = [e[4] for e in rec.events if e[0] == "after" and e[1] == "fast"]
    assert 0.05 <= slow < 5 and 0 <= fast < slow


def test_an_invalid_input_is_refused_before_any_pass() -> None:
    rec = Recorder()
    with pytest.raises(DiagnosticError) as info:
        PassManager([Rename("a")], [rec]).run(BAD, PassContext())
    first = info.value.diagnostics[0]
    assert (
        first.code == "VP110" and first.message == "the IR is invalid after the input (a vpipe bug; please report it)"
    )
    assert first.notes and all(n.startswith("VP1") for n in first.notes)
    assert [d.code for d in info.value.diagnostics[1:]] == [n.split()[0] for n in first.notes]
    assert rec.events == []


def test_a_pass_that_breaks_the_ir_is_named_unless_verification_is_off() -> None:
    with pytest.raises(DiagnosticError) as info:
        PassManager([Rename("ok"), Rename("breaker", result=BAD)]).run(GOOD, PassContext())
    assert info.value.diagnostics[0].message.startswith("the IR is invalid after pass 'breaker'")
    assert PassManager([Rename("breaker", result=BAD)], verify_each=False).run(GOOD, PassContext()) is BAD


def test_a_pass_with_errors_stops_the_pipeline() -> None:
    rec = Recorder()
    ctx = PassContext()
    with pytest.raises(DiagnosticError) as info:
        PassManager([Complains(), Rename("never")], [rec]).run(GOOD, ctx)
    assert [d.code for d in info.value.diagnostics] == ["VP201"]
    assert not any(e[0] == "after" for e in rec.events) and ("ask", "never", "g") not in rec.events


def test_an_empty_pipeline_returns_its_input() -> None:
    rec = Recorder()
    assert PassManager([], [rec]).run(GOOD, PassContext()) is GOOD
    assert rec.events == [("start", "g"), ("end", "g")]
