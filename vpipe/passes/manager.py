"""Run a pipeline of passes, verifying the graph after each one."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from vpipe.diagnostics.diagnostic import Diagnostic, DiagnosticError
from vpipe.ir.graph import Graph
from vpipe.ir.verify import verify
from vpipe.passes.base import Pass, PassContext
from vpipe.passes.instruments import Instrument


@dataclass
class PassManager:
    """Runs the passes in order. Instruments see every step (after TVM's PassInstrument):
    `should_run` may skip a pass (every instrument is asked; one False skips it, and all
    hear `skipped`), `before_pass` and `after_pass` bracket each pass that runs."""

    passes: Sequence[Pass]
    instruments: list[Instrument] = field(default_factory=list)
    verify_each: bool = True

    def run(self, graph: Graph, ctx: PassContext) -> Graph:
        self._verify(graph, "the input")
        for inst in self.instruments:
            inst.before_pipeline(graph)
        for p in self.passes:
            if not all([inst.should_run(p.name, graph) for inst in self.instruments]):
                for inst in self.instruments:
                    inst.skipped(p.name)
                continue
            for inst in self.instruments:
                inst.before_pass(p.name, graph)
            start = time.perf_counter()
            after = p.run(graph, ctx)
            seconds = time.perf_counter() - start
            if ctx.diagnostics.has_errors:
                raise DiagnosticError(ctx.diagnostics.items)
            if self.verify_each:
                self._verify(after, f"pass '{p.name}'")
            for inst in self.instruments:
                inst.after_pass(p.name, graph, after, seconds)
            graph = after
        for inst in self.instruments:
            inst.after_pipeline(graph)
        return graph

    @staticmethod
    def _verify(graph: Graph, what: str) -> None:
        problems = verify(graph)
        if problems:
            raise DiagnosticError(
                [
                    Diagnostic(
                        "VP110",
                        f"the IR is invalid after {what} (a vpipe bug; please report it)",
                        None,
                        notes=tuple(f"{d.code} {d.message}" for d in problems),
                    ),
                    *problems,
                ]
            )
