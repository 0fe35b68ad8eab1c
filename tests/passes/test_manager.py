"""Pass manager: verification after each pass, and the instruments behind the CLI flags."""

from __future__ import annotations

import io
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar

import pytest

from tests.passes.helpers import normalized
from vpipe.diagnostics.diagnostic import DiagnosticError
from vpipe.driver import BuildOptions, compile_recipe
from vpipe.ir.graph import Graph
from vpipe.ir.parser import parse_graph
from vpipe.passes.base import PassContext
from vpipe.passes.instruments import DumpIR, Instrument, PrintAfter, RecordChanges, TimePasses
from vpipe.passes.manager import PassManager
from vpipe.passes.pipelines import pipeline


def build(recipe: Path, **kw: object) -> tuple[str, object]:
    stream = io.StringIO()
    result = compile_recipe(recipe, BuildOptions(analyze=False, stream=stream, **kw))  # type: ignore[arg-type]
    return stream.getvalue(), result


def test_print_after_all_prints_every_pass(tiny_recipe: Path) -> None:
    out, _ = build(tiny_recipe, print_after_all=True)
    for name in ("resolve-slots", "hoist-shared", "segment-lipsync", "select-kernels"):
        assert f"// -----// IR Dump After {name} //----- //" in out
    dumps = out.split("// -----// IR Dump After ")[1:]
    for dump in dumps:  # every dump is valid printed IR
        parse_graph(dump.split("\n", 1)[1])


def test_print_after_one_pass(tiny_recipe: Path) -> None:
    out, _ = build(tiny_recipe, print_after=frozenset({"hoist-shared"}))
    assert out.count("IR Dump After") == 1 and "IR Dump After hoist-shared" in out
    assert " shared" in out


def test_print_after_change_skips_passes_that_changed_nothing(tiny_recipe: Path) -> None:
    out, result = build(tiny_recipe, print_after_change=True)
    printed = {line.split("After ")[1].split(" //")[0] for line in out.splitlines() if "IR Dump After" in line}
    assert printed == set(result.changed)  # type: ignore[attr-defined]
    assert "segment-lipsync" not in printed  # no slot times without analysis: nothing to segment


def test_disable_pass_keeps_ops_per_row(tiny_recipe: Path) -> None:
    _, result = build(tiny_recipe, disabled=frozenset({"hoist-shared"}))
    assert result.disabled == ["hoist-shared"]  # type: ignore[attr-defined]
    assert all(op.scope.value == "per_row" for op in result.graph)  # type: ignore[attr-defined]


def test_dump_ir_writes_one_file_per_pass(tiny_recipe: Path, tmp_path: Path) -> None:
    _, result = build(tiny_recipe, dump_ir=tmp_path / "ir")
    files = sorted(p.name for p in (tmp_path / "ir").glob("*.ir"))
    assert files == [
        "00-input.ir",
        "01-resolve-slots.ir",
        "02-hoist-shared.ir",
        "03-segment-lipsync.ir",
        "04-fit-vram.ir",
        "05-reduce-steps.ir",
        "06-splice-gops.ir",
        "07-own-gops.ir",
        "08-splice-aac.ir",
        "09-keep-recorded.ir",
        "10-dedupe.ir",
        "11-select-kernels.ir",
        "12-export-onnx.ir",
        "13-batch-rows.ir",
    ]
    last = parse_graph((tmp_path / "ir" / "13-batch-rows.ir").read_text())
    assert last == result.graph  # type: ignore[attr-defined]


def test_time_passes_reports_each_pass(tiny_recipe: Path) -> None:
    out, result = build(tiny_recipe, time_passes=True)
    assert "Pass execution timing report" in out
    names = [name for name, _ in result.timings]  # type: ignore[attr-defined]
    assert names == [
        "resolve-slots",
        "hoist-shared",
        "segment-lipsync",
        "fit-vram",
        "reduce-steps",
        "splice-gops",
        "own-gops",
        "splice-aac",
        "keep-recorded",
        "dedupe",
        "select-kernels",
        "export-onnx",
        "batch-rows",
    ]
    assert all(seconds >= 0 for _, seconds in result.timings)  # type: ignore[attr-defined]


def test_unknown_pass_names_are_coded_errors(tiny_recipe: Path) -> None:
    for kw in ({"pipeline": "no-such-pipeline"}, {"disabled": frozenset({"nope"})}):
        with pytest.raises(DiagnosticError) as info:
            build(tiny_recipe, **kw)
        assert info.value.diagnostics[0].code == "VP113"


@dataclass(frozen=True)
class BreakScopes:
    """A deliberately buggy pass: makes a per-row op shared."""

    name: ClassVar[str] = "break-scopes"
    summary: ClassVar[str] = "test only"

    def run(self, graph: Graph, ctx: PassContext) -> Graph:
        return graph.map_ops(lambda op: op.with_scope(type(op.scope)("shared")) if op.kind == "template.render" else op)


def test_verifier_catches_a_broken_pass() -> None:
    graph = parse_graph("""
graph @g {
  %row = rows.row() {"file": "rows.csv"} : Row per_row
  %script = template.render(%row) {"template": "hi"} : Script per_row
}
""")
    with pytest.raises(DiagnosticError) as info:
        PassManager([BreakScopes()]).run(graph, PassContext())
    codes = [d.code for d in info.value.diagnostics]
    assert codes[0] == "VP110" and "VP105" in codes
    assert "break-scopes" in info.value.diagnostics[0].message


def test_instruments_directly(tmp_path: Path) -> None:
    graph = parse_graph("""
graph @g {
  %video = media.open() {"kind": "video", "path": "a.mp4"} : Video per_row
}
""")
    stream = io.StringIO()
    record = RecordChanges()
    timer = TimePasses(stream)
    passes = pipeline("hoist-shared,segment-lipsync{}")
    after = PassManager(passes, [PrintAfter(stream, None, True), DumpIR(tmp_path), record, timer]).run(
        graph, PassContext()
    )
    assert record.changed == ["hoist-shared"]
    assert stream.getvalue().count("IR Dump After") == 1
    assert normalized((tmp_path / "01-hoist-shared.ir").read_text()) == normalized(
        'graph @g {\n  %video = media.open() {"kind": "video", "path": "a.mp4"} : Video shared\n}\n'
    )
    assert after == replace(graph, ops=(graph.ops[0].with_scope(type(graph.ops[0].scope)("shared")),))


def test_pass_options_parse() -> None:
    (p,) = pipeline("segment-lipsync")
    assert p.name == "segment-lipsync"
    with pytest.raises(KeyError):
        pipeline("segment-lipsync{bogus=1}")


@dataclass
class Trace(Instrument):
    """Records every hook in order; skips the passes in `skip`."""

    skip: frozenset[str] = frozenset()
    calls: list[str] = field(default_factory=list)

    def should_run(self, name: str, graph: Graph) -> bool:
        self.calls.append(f"should_run {name}")
        return name not in self.skip

    def before_pass(self, name: str, graph: Graph) -> None:
        self.calls.append(f"before {name} ({graph.ops[0].scope.value})")

    def after_pass(self, name: str, before: Graph, after: Graph, seconds: float) -> None:
        self.calls.append(f"after {name} ({after.ops[0].scope.value})")

    def skipped(self, name: str) -> None:
        self.calls.append(f"skipped {name}")


def test_should_run_and_before_pass_hooks() -> None:
    graph = parse_graph('graph @g {\n  %video = media.open() {"kind": "video", "path": "a.mp4"} : Video per_row\n}\n')
    trace, other = Trace(skip=frozenset({"segment-lipsync"})), Trace()
    after = PassManager(pipeline("hoist-shared,segment-lipsync"), [trace, other]).run(graph, PassContext())
    assert trace.calls == [
        "should_run hoist-shared",
        "before hoist-shared (per_row)",
        "after hoist-shared (shared)",
        "should_run segment-lipsync",
        "skipped segment-lipsync",
    ]
    assert other.calls[-2:] == ["should_run segment-lipsync", "skipped segment-lipsync"]  # one False skips for all
    assert after.ops[0].scope.value == "shared"
    skipped_all = Trace(skip=frozenset({"hoist-shared", "segment-lipsync"}))
    assert PassManager(pipeline("hoist-shared,segment-lipsync"), [skipped_all]).run(graph, PassContext()) == graph
