"""What a pass is and what it may look at.

A pass is a small frozen dataclass: its fields are its options, `run(graph, ctx)` returns
a new graph. Passes never mutate and never execute kernels themselves; when a pass needs
a fact about the source (e.g. the aligned words), it asks `ctx.evaluate`, which the
driver wires to the runtime's cached evaluation of shared values. How passes are named
and found is `vpipe.passes.registry` (a pass module registers itself there) and
`vpipe.passes.catalog` (which imports every pass module).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from vpipe.diagnostics.diagnostic import DiagnosticBag, Span
from vpipe.ir.graph import Graph, Op
from vpipe.kernel_api.context import Target


class Pass(Protocol):
    name: ClassVar[str]
    summary: ClassVar[str]

    def run(self, graph: Graph, ctx: PassContext) -> Graph: ...


Evaluator = Callable[[Graph, str], Any]


@dataclass
class PassContext:
    """What passes may consult: recipe spans for diagnostics, the target, the kernel
    registry (through `kernels`), and compile-time evaluation of shared values."""

    diagnostics: DiagnosticBag = field(default_factory=DiagnosticBag)
    evaluator: Evaluator | None = None
    target: Target = field(default_factory=Target)  # the hardware planned for
    spans: Callable[[str], Span] | None = None  # recipe JSON pointer → span
    options: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)  # results passes publish for the plan summary
    # whether a catalog model's weights are installed (model id, the op's own weights folder or
    # None); None: not known (a pass then assumes they are)
    weights_ready: Callable[[str, str | None], bool] | None = None

    def evaluate(self, graph: Graph, value: str) -> Any | None:
        """The run-time value of a shared value, or None when evaluation is off or fails."""
        if self.evaluator is None:
            return None
        return self.evaluator(graph, value)

    def span(self, op: Op, pointer: str | None = None) -> Span | None:
        if pointer is not None and self.spans is not None:
            return self.spans(pointer)
        return op.span
