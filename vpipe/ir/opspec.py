"""Op specifications: what each op kind takes, returns and accepts as attributes.

The verifier checks every op against its spec; kernels implement specs; passes reason
with the spec's flags (e.g. only `pure` ops may be hoisted or deduplicated).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator

from vpipe.ir.types import Scope


@dataclass(frozen=True)
class OpSpec:
    kind: str
    summary: str
    operands: tuple[tuple[str, str], ...]  # (role, type name)
    results: tuple[str, ...]  # type names
    attrs: dict[str, Any] = field(default_factory=dict)  # JSON Schema "properties"
    required: tuple[str, ...] = ()
    pure: bool = True  # deterministic in its inputs: may be hoisted, cached, deduplicated
    fixed_scope: Scope | None = None  # e.g. rows.row is always per_row

    def attr_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": self.attrs,
            "required": list(self.required),
            "additionalProperties": False,
        }

    def validator(self) -> Draft202012Validator:
        return _validators.setdefault(self.kind, Draft202012Validator(self.attr_schema()))


_validators: dict[str, Draft202012Validator] = {}
_REGISTRY: dict[str, OpSpec] = {}


def define(spec: OpSpec) -> OpSpec:
    _ensure_dialect()
    if spec.kind in _REGISTRY:
        raise ValueError(f"op {spec.kind} defined twice")
    _REGISTRY[spec.kind] = spec
    return spec


def lookup(kind: str) -> OpSpec | None:
    _ensure_dialect()
    return _REGISTRY.get(kind)


def all_specs() -> list[OpSpec]:
    _ensure_dialect()
    return sorted(_REGISTRY.values(), key=lambda s: s.kind)


_dialect_loaded = False


def _ensure_dialect() -> None:
    """Load vpipe's own op set once, whatever else (plug-ins, tests) defined ops first."""
    global _dialect_loaded
    if not _dialect_loaded:
        _dialect_loaded = True
        import vpipe.ir.dialect  # noqa: F401  (defines the op set on import)
