"""The IR: an immutable list of ops in SSA form (each value defined once, before its uses).

A `Graph` is a straight-line program over two scopes: `shared` values are computed once
per run, `per_row` values once for every recipient row. The list order is a topological
order; passes return new graphs and never mutate.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from types import MappingProxyType
from typing import Any

from vpipe.diagnostics.diagnostic import Span
from vpipe.ir.types import Scope, Type


def freeze(value: Any) -> Any:
    """Deep-freeze JSON-like data so ops stay immutable (dict → read-only mapping, list → tuple)."""
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """The inverse of freeze: plain dicts and lists, e.g. for JSON."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [thaw(v) for v in value]
    return value


@dataclass(frozen=True)
class Loc:
    """Where an op came from in the recipe."""

    file: str
    line: int = 0
    col: int = 0
    pointer: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def span(self) -> Span:
        """The recipe span a diagnostic about this op points at."""
        return Span(self.file, self.line, self.col, self.line, self.col + 1, self.pointer)


@dataclass(frozen=True)
class Estimate:
    """Resources one execution of the op needs (per row for per-row ops)."""

    seconds: float = 0.0
    ram_mb: float = 0.0
    vram_mb: float = 0.0

    def __post_init__(self) -> None:  # estimates are rough: a fixed precision prints and parses exactly
        object.__setattr__(self, "seconds", round(float(self.seconds), 4))
        object.__setattr__(self, "ram_mb", round(float(self.ram_mb), 1))
        object.__setattr__(self, "vram_mb", round(float(self.vram_mb), 1))

    def items(self) -> list[tuple[str, float]]:
        return [("t", self.seconds), ("ram_mb", self.ram_mb), ("vram_mb", self.vram_mb)]


@dataclass(frozen=True)
class Value:
    name: str  # SSA name without the '%'
    type: Type
    scope: Scope = Scope.PER_ROW


@dataclass(frozen=True)
class Op:
    kind: str
    operands: tuple[str, ...]
    results: tuple[Value, ...]
    attrs: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    loc: Loc | None = None
    kernel: str | None = None  # "backend@device" once select-kernels chose one
    estimate: Estimate | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.attrs, MappingProxyType):
            object.__setattr__(self, "attrs", freeze(self.attrs))

    @property
    def scope(self) -> Scope:
        return self.results[0].scope if self.results else Scope.SHARED

    @property
    def result(self) -> Value:
        assert len(self.results) == 1, f"{self.kind} has {len(self.results)} results"
        return self.results[0]

    @property
    def span(self) -> Span | None:
        """Where in the recipe this op came from, for diagnostics (None for a hand-made op)."""
        return self.loc.span() if self.loc is not None else None

    def attr(self, key: str, default: Any = None) -> Any:
        return self.attrs.get(key, default)

    def with_attrs(self, **updates: Any) -> Op:
        merged = {**thaw(self.attrs), **updates}
        return replace(self, attrs=freeze({k: v for k, v in merged.items() if v is not None}))

    def with_scope(self, scope: Scope) -> Op:
        return replace(self, results=tuple(replace(r, scope=scope) for r in self.results))


@dataclass(frozen=True)
class Graph:
    name: str
    ops: tuple[Op, ...]

    def __iter__(self) -> Iterator[Op]:
        return iter(self.ops)

    def __len__(self) -> int:
        return len(self.ops)

    @cached_property
    def values(self) -> dict[str, Value]:
        return {v.name: v for op in self.ops for v in op.results}

    @cached_property
    def producers(self) -> dict[str, Op]:
        return {v.name: op for op in self.ops for v in op.results}

    @cached_property
    def users(self) -> dict[str, list[Op]]:
        out: dict[str, list[Op]] = {}
        for op in self.ops:
            for name in op.operands:
                out.setdefault(name, []).append(op)
        return out

    def fresh_name(self, hint: str) -> str:
        """A value name not yet in the graph: `hint`, else `hint1`, `hint2`, ... (for a pass that
        adds an op)."""
        name, n = hint, 0
        while name in self.values:
            n += 1
            name = f"{hint}{n}"
        return name

    def value(self, name: str) -> Value:
        return self.values[name]

    def producer(self, name: str) -> Op:
        return self.producers[name]

    def find(self, kind: str) -> list[Op]:
        return [op for op in self.ops if op.kind == kind]

    def first(self, kind: str) -> Op | None:
        found = self.find(kind)
        return found[0] if found else None

    def replace_ops(self, mapping: Mapping[int, Op]) -> Graph:
        """A new graph with ops at the given indexes swapped."""
        return Graph(self.name, tuple(mapping.get(i, op) for i, op in enumerate(self.ops)))

    def map_ops(self, fn: Any) -> Graph:
        return Graph(self.name, tuple(fn(op) for op in self.ops))

    def upstream(self, names: set[str]) -> list[Op]:
        """Ops needed to compute the values `names`, in program order."""
        needed: set[str] = set()
        stack = list(names)
        while stack:
            n = stack.pop()
            if n in needed or n not in self.producers:
                continue
            needed.add(n)
            stack.extend(self.producers[n].operands)
        return [op for op in self.ops if any(r.name in needed for r in op.results)]


class GraphBuilder:
    """Appends ops with fresh, readable SSA names (`%audio`, `%audio1`, ...)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.ops: list[Op] = []
        self._taken: set[str] = set()

    def fresh(self, hint: str) -> str:
        name, n = hint, 0
        while name in self._taken:
            n += 1
            name = f"{hint}{n}"
        self._taken.add(name)
        return name

    def add(
        self,
        kind: str,
        operands: list[str] | tuple[str, ...],
        result_type: Type,
        hint: str,
        attrs: Mapping[str, Any] | None = None,
        loc: Loc | None = None,
        scope: Scope = Scope.PER_ROW,
    ) -> str:
        name = self.fresh(hint)
        self.ops.append(Op(kind, tuple(operands), (Value(name, result_type, scope),), attrs or {}, loc))
        return name

    def build(self) -> Graph:
        return Graph(self.name, tuple(self.ops))
