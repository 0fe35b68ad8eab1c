"""The IR verifier: the invariants every graph satisfies between passes.

- every op kind is defined, with the operand/result arity and types of its spec;
- every value is defined once, before its uses (so the graph is acyclic);
- attributes match the op spec's schema;
- all results of an op share one scope, fixed-scope ops keep theirs, and no shared op
  reads a per-row value (shared work must not depend on any row).
"""

from __future__ import annotations

from vpipe.diagnostics.diagnostic import Diagnostic
from vpipe.ir.dialect import lookup
from vpipe.ir.graph import Graph, Op, thaw
from vpipe.ir.types import Scope


def _name(op: Op) -> str:
    return ", ".join(f"%{r.name}" for r in op.results) or op.kind


def verify(graph: Graph) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    defined: dict[str, Op] = {}
    later = {r.name for op in graph.ops for r in op.results}

    def bad(code: str, op: Op, message: str) -> None:
        problems.append(Diagnostic(code, f"{_name(op)} = {op.kind}: {message}", op.span))

    for op in graph.ops:
        spec = lookup(op.kind)
        for operand in op.operands:
            if operand not in defined:
                if operand in later:
                    bad("VP101", op, f"uses %{operand} before it is defined (a cycle or misordered ops)")
                else:
                    bad("VP101", op, f"uses %{operand}, which is never defined")
        for result in op.results:
            if result.name in defined:
                bad("VP102", op, f"%{result.name} is already defined by {defined[result.name].kind}")
        if len({r.scope for r in op.results}) > 1:
            bad("VP105", op, "results of one op must share a scope")
        if spec is None:
            bad("VP106", op, f"unknown op kind '{op.kind}'")
        else:
            if not spec.min_operands <= len(op.operands) <= len(spec.operands):
                count = f"{spec.min_operands} to {len(spec.operands)}" if spec.optional else str(len(spec.operands))
                bad("VP103", op, f"takes {count} operand(s), got {len(op.operands)}")
            else:
                for operand, (role, type_name) in zip(op.operands, spec.operands, strict=False):
                    if operand in defined:
                        got = graph.values[operand].type
                        if got.name != type_name:
                            bad("VP103", op, f"operand '{role}' must be {type_name}, got %{operand} : {got}")
            if len(op.results) != len(spec.results):
                bad("VP103", op, f"returns {len(spec.results)} result(s), got {len(op.results)}")
            else:
                for result, type_name in zip(op.results, spec.results, strict=True):
                    if result.type.name != type_name:
                        bad("VP103", op, f"result %{result.name} must be {type_name}, got {result.type}")
            for err in spec.validator().iter_errors(thaw(op.attrs)):
                where = "/".join(str(p) for p in err.absolute_path)
                bad("VP104", op, f"attribute {where + ': ' if where else ''}{err.message}")
            if spec.fixed_scope is not None and op.scope is not spec.fixed_scope:
                bad("VP105", op, f"must be {spec.fixed_scope.value}")
        if op.scope is Scope.SHARED:
            for operand in op.operands:
                if operand in defined and graph.values[operand].scope is Scope.PER_ROW:
                    bad("VP105", op, f"is shared but reads per-row value %{operand}")
        for result in op.results:
            defined.setdefault(result.name, op)
    return problems
