"""hoist-shared: loop-invariant code motion across rows.

Lowering writes every op per row. An op that is pure and reads only shared values gives
the same result for every row, so it is moved to the shared scope and runs once:
decoding and aligning the source, tracking the face, the mouth inventory, the speaker
profile, the lexicon.

Before:
    %video = media.open() {...} : Video per_row
    %audio = media.audio(%video) : Audio per_row
    %row = rows.row() {...} : Row per_row
    %script = template.render(%row) {...} : Script per_row

After:
    %video = media.open() {...} : Video shared
    %audio = media.audio(%video) : Audio shared
    %row = rows.row() {...} : Row per_row
    %script = template.render(%row) {...} : Script per_row
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from vpipe.ir.dialect import lookup
from vpipe.ir.graph import Graph, Op
from vpipe.ir.types import Scope
from vpipe.passes.base import PassContext
from vpipe.passes.registry import register


@register
@dataclass(frozen=True)
class HoistShared:
    name: ClassVar[str] = "hoist-shared"
    summary: ClassVar[str] = "run row-independent work once instead of once per row"

    def run(self, graph: Graph, ctx: PassContext) -> Graph:
        scopes: dict[str, Scope] = {}
        ops: list[Op] = []
        hoisted = 0
        for op in graph.ops:  # program order is topological: operands are decided first
            spec = lookup(op.kind)
            invariant = (
                spec is not None
                and spec.pure
                and spec.fixed_scope is None
                and all(scopes[o] is Scope.SHARED for o in op.operands)
            )
            if invariant and op.scope is not Scope.SHARED:
                op = op.with_scope(Scope.SHARED)
                hoisted += 1
            for r in op.results:
                scopes[r.name] = r.scope
            ops.append(op)
        if hoisted:
            ctx.diagnostics.remark("VP210", f"hoisted {hoisted} op(s) out of the per-row loop")
        ctx.facts["hoisted"] = hoisted
        return Graph(graph.name, tuple(ops))
