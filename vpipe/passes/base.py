"""What a pass is, how passes are found by name, and what they may look at.

A pass is a small frozen dataclass: its fields are its options, `run(graph, ctx)` returns
a new graph. Passes never mutate and never execute kernels themselves; when a pass needs
a fact about the source (e.g. the aligned words), it asks `ctx.evaluate`, which the
driver wires to the runtime's cached evaluation of shared values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from vpipe.diagnostics.diagnostic import DiagnosticBag, Span
from vpipe.ir.graph import Graph, Op


class Pass(Protocol):
    name: ClassVar[str]
    summary: ClassVar[str]

    def run(self, graph: Graph, ctx: PassContext) -> Graph: ...


_PASSES: dict[str, type[Any]] = {}


def register(cls: type[Any]) -> type[Any]:
    """Class decorator: make a pass available by its `name`."""
    if cls.name in _PASSES:
        raise ValueError(f"pass {cls.name} registered twice")
    _PASSES[cls.name] = cls
    return cls


def registered() -> dict[str, type[Any]]:
    import vpipe.passes.catalog  # noqa: F401  (imports every pass module)

    return dict(sorted(_PASSES.items()))


class UnknownPass(KeyError):
    pass


def create(spec: str) -> Pass:
    """'segment-lipsync' or 'segment-lipsync{margin_ms=80}' → a pass instance."""
    name, _, rest = spec.partition("{")
    name = name.strip()
    cls = registered().get(name)
    if cls is None:
        raise UnknownPass(name)
    kwargs: dict[str, Any] = {}
    if rest:
        body = rest.rstrip("}").strip()
        fields = {f.name: f for f in dataclasses.fields(cls)}
        for item in filter(None, (p.strip() for p in body.split(","))):
            key, _, raw = item.partition("=")
            key = key.strip()
            if key not in fields:
                raise UnknownPass(f"{name}: unknown option '{key}' (options: {', '.join(fields) or 'none'})")
            kwargs[key] = _coerce(raw.strip(), fields[key].type)
    instance: Pass = cls(**kwargs)
    return instance


def _coerce(raw: str, annotation: Any) -> Any:
    text = str(annotation)
    if "bool" in text:
        return raw.lower() in ("1", "true", "yes", "on")
    if "int" in text:
        return int(raw)
    if "float" in text:
        return float(raw)
    return raw


Evaluator = Callable[[Graph, str], Any]


@dataclass
class PassContext:
    """What passes may consult: recipe spans for diagnostics, the target, the kernel
    registry (through `kernels`), and compile-time evaluation of shared values."""

    diagnostics: DiagnosticBag = field(default_factory=DiagnosticBag)
    evaluator: Evaluator | None = None
    target: Any = None  # vpipe.frontend.recipe.TargetSpec
    spans: Callable[[str], Span] | None = None  # recipe JSON pointer → span
    options: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)  # results passes publish for the plan summary

    def evaluate(self, graph: Graph, value: str) -> Any | None:
        """The run-time value of a shared value, or None when evaluation is off or fails."""
        if self.evaluator is None:
            return None
        return self.evaluator(graph, value)

    def span(self, op: Op, pointer: str | None = None) -> Span | None:
        if pointer is not None and self.spans is not None:
            return self.spans(pointer)
        if op.loc is None:
            return None
        return Span(op.loc.file, op.loc.line, op.loc.col, op.loc.line, op.loc.col + 1, op.loc.pointer)
