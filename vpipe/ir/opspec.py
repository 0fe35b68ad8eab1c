"""Op specifications: what each op kind takes, returns and accepts as attributes.

The verifier checks every op against its spec; kernels implement specs; passes reason
with the spec's flags (e.g. only `pure` ops may be hoisted or deduplicated). vpipe's own
op set, and the lookup over every defined op, is `vpipe.ir.dialect`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator

from vpipe.ir.types import Scope

# Op traits: what the runtime needs to know about an op, said by its spec instead of by its kind.
OUTPUT = "output"  # its value is the row's output file (the manifest's `output`, the up-to-date check)
REPORT = "report"  # its value is the row's quality report (`to_json()`, `failed`, `fail_rows`)
WRITES_FILE = "writes_file"  # it writes a file outside the cache: a cached value is reused only while
# `value.still_valid()` says that file is still there, unchanged
SCRIPT = "script"  # its value is the row's rendered script (`.text`, the manifest's `script`)
DURATIONS = "durations"  # its value holds the slots' duration decisions (`.clips`, the manifest's
# `duration`; the last such op of the row wins)
TRAITS = frozenset({OUTPUT, REPORT, WRITES_FILE, SCRIPT, DURATIONS})


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
    optional: int = 0  # how many of the last operands may be left out (e.g. an inventory only some backends read)
    traits: frozenset[str] = frozenset()  # from TRAITS

    def __post_init__(self) -> None:
        unknown = self.traits - TRAITS
        if unknown:
            raise ValueError(f"op {self.kind}: unknown traits {sorted(unknown)}")

    @property
    def min_operands(self) -> int:
        return len(self.operands) - self.optional

    def roles(self, operands: tuple[str, ...]) -> dict[str, str]:
        """Operand values by role (`{"video": "video", "spans": "spans", ...}`); an optional
        operand left out has no entry."""
        return {role: value for (role, _), value in zip(self.operands, operands, strict=False)}

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
    """Add an op kind to the op table (vpipe's own in `vpipe.ir.dialect`; a plug-in's anywhere)."""
    if spec.kind in _REGISTRY:
        raise ValueError(f"op {spec.kind} defined twice")
    _REGISTRY[spec.kind] = spec
    return spec


def defined() -> dict[str, OpSpec]:
    """The op kinds defined so far. Ask `vpipe.ir.dialect.lookup`, which loads vpipe's own first."""
    return _REGISTRY
