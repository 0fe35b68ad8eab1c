"""Executor: shared ops run once, rows are isolated, results are cached by content."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vpipe.data.rowdata import RowValue
from vpipe.diagnostics.diagnostic import Diagnostic, DiagnosticError
from vpipe.ir.graph import Op
from vpipe.ir.opspec import OpSpec, define
from vpipe.ir.parser import parse_graph
from vpipe.kernel_api.registry import Kernel, kernel
from vpipe.runtime.cache import Cache
from vpipe.runtime.executor import Executor

CALLS: dict[str, int] = {}

define(OpSpec("test.expensive", "counts its calls", operands=(), results=("Text",), attrs={"n": {"type": "integer"}}))
define(OpSpec("test.per_row", "uses the row", operands=(("base", "Text"), ("script", "Script")), results=("Text",)))


@kernel("test.expensive", backend="test")
class Expensive(Kernel):
    def run(self, op: Op, inputs: list[Any], rt: Any) -> str:
        CALLS["expensive"] = CALLS.get("expensive", 0) + 1
        return f"base{op.attr('n')}"


@kernel("test.per_row", backend="test")
class PerRow(Kernel):
    def run(self, op: Op, inputs: list[Any], rt: Any) -> str:
        base, script = inputs
        CALLS["per_row"] = CALLS.get("per_row", 0) + 1
        if "boom" in script.text:
            raise DiagnosticError(Diagnostic("VP307", f"row {rt.row.index}: cannot say boom", rt.row_span()))
        if "bug" in script.text:
            raise ZeroDivisionError("a kernel bug")
        return f"{base}:{script.text}"


GRAPH = """
graph @g {
  %base = test.expensive() {"n": 1} : Text shared kernel(test@cpu)
  %row = rows.row() {"file": "rows.csv"} : Row per_row kernel(builtin@cpu)
  %script = template.render(%row) {"slots": [], "template": "hi {{ name }}"} : Script per_row kernel(builtin@cpu)
  %out = test.per_row(%base, %script) : Text per_row kernel(test@cpu)
}
"""


def rows(*names: str) -> list[RowValue]:
    return [RowValue(i, str(i), {"name": n}, "rows.csv", i + 1) for i, n in enumerate(names, start=1)]


def test_shared_once_rows_isolated(tmp_path: Path) -> None:
    CALLS.clear()
    ex = Executor(parse_graph(GRAPH), Cache(tmp_path / "cache"), work_root=tmp_path / "work", log_dir=tmp_path / "logs")
    shared = ex.run_shared()
    outcomes = [ex.run_row(shared, r) for r in rows("ana", "boom", "bug", "ben")]
    assert CALLS["expensive"] == 1
    assert [o.status for o in outcomes] == ["ok", "failed", "failed", "ok"]
    assert outcomes[1].diagnostics[0].code == "VP307"
    bug = outcomes[2].diagnostics[0]
    assert bug.code == "VP399" and "ZeroDivisionError" in bug.message
    assert "Traceback" not in bug.message
    log = Path(bug.notes[0].split("written to ")[1])
    assert "Traceback" in log.read_text()  # the traceback is kept, in the log only
    assert outcomes[0].timings and "out" in outcomes[0].timings


def test_cache_reuses_results_across_runs(tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    CALLS.clear()
    ex = Executor(parse_graph(GRAPH), Cache(cache_dir), work_root=tmp_path / "w")
    shared = ex.run_shared()
    first = [ex.run_row(shared, r) for r in rows("ana", "ben")]
    again = Executor(parse_graph(GRAPH), Cache(cache_dir), work_root=tmp_path / "w")
    shared2 = again.run_shared()
    second = [again.run_row(shared2, r) for r in rows("ana", "ben")]
    assert CALLS == {"expensive": 1, "per_row": 2}  # nothing recomputed the second time
    assert shared2.cached == ["base"]
    assert all(o.cached == ["out"] for o in second) and not any(o.cached for o in first)


def test_equal_content_shares_work_across_rows(tmp_path: Path) -> None:
    CALLS.clear()
    ex = Executor(parse_graph(GRAPH), Cache(tmp_path / "c"), work_root=tmp_path / "w")
    shared = ex.run_shared()
    outcomes = [ex.run_row(shared, r) for r in rows("ana", "ana", "ana")]
    assert CALLS["per_row"] == 1  # rows 2 and 3 render the same script: keyed by content
    assert [o.cached for o in outcomes] == [[], ["out"], ["out"]]


def test_changed_attribute_changes_the_key(tmp_path: Path) -> None:
    CALLS.clear()
    cache = Cache(tmp_path / "c")
    Executor(parse_graph(GRAPH), cache, work_root=tmp_path / "w").run_shared()
    Executor(parse_graph(GRAPH.replace('"n": 1', '"n": 2')), cache, work_root=tmp_path / "w").run_shared()
    assert CALLS["expensive"] == 2


def test_a_kernel_class_version_reaches_its_registration_and_cache_keys() -> None:
    """Bumping `version` on a kernel class must change the cache keys of its results (a
    stale cached result of an older kernel must never be reused)."""
    from vpipe.kernel_api import registry
    from vpipe.kernels.speech_tts import Synthesize

    info = registry.find("speech.synthesize", "tts@cpu")
    assert info is not None and info.version == Synthesize.version != "1"
    assert all(k.version == k.cls.version for k in registry.all_kernels())


define(
    OpSpec(
        "test.judge",
        "a row's report",
        operands=(("script", "Script"),),
        results=("Text",),
        attrs={"limit": {"type": "number"}},
        traits=frozenset({"report"}),
    )
)


@kernel("test.judge", backend="test", version="1")
class JudgeV1(Kernel):
    def run(self, op: Op, inputs: list[Any], rt: Any) -> str:
        return "v1"


@kernel("test.judge", backend="test2", version="2")
class JudgeV2(Kernel):
    def run(self, op: Op, inputs: list[Any], rt: Any) -> str:
        return "v2"


def test_a_copied_report_is_judged_by_the_qc_ops_attributes_and_kernel_versions(tmp_path: Path) -> None:
    """dedupe reuses an earlier row's QC report only when the QC ops would judge it the same
    way: same thresholds and the same kernel version (a QC kernel that measures differently
    re-measures the copy)."""

    def judged_by(limit: float, backend: str) -> str:
        text = f"""
graph @g {{
  %row = rows.row() {{"file": "rows.csv"}} : Row per_row kernel(builtin@cpu)
  %script = template.render(%row) {{"slots": [], "template": "hi"}} : Script per_row kernel(builtin@cpu)
  %qc = test.judge(%script) {{"limit": {limit}}} : Text per_row kernel({backend}@cpu)
}}
"""
        return Executor(parse_graph(text), Cache(tmp_path / "c"), work_root=tmp_path / "w")._qc_judged_by()

    assert judged_by(0.5, "test") == judged_by(0.5, "test")
    assert judged_by(0.5, "test") != judged_by(0.6, "test")
    assert judged_by(0.5, "test") != judged_by(0.5, "test2")
