"""Every pass vpipe has, found by name: this module imports each pass module (each registers
itself with `vpipe.passes.registry.register`) and builds passes from their pipeline text.
A new pass is its own file plus one name in the import below."""

from __future__ import annotations

from typing import Any

from vpipe.passes import (  # noqa: F401
    batch_rows,
    dedupe,
    export_onnx,
    fit_vram,
    hoist_shared,
    keep_recorded,
    own_gops,
    reduce_steps,
    resolve_slots,
    segment_lipsync,
    select_kernels,
    splice_aac,
    splice_gops,
)
from vpipe.passes.base import Pass
from vpipe.passes.options import parse_options, split_spec
from vpipe.passes.registry import UnknownPass, registered_so_far


def all_passes() -> dict[str, type[Any]]:
    """Pass classes by name, sorted."""
    return registered_so_far()


def create(spec: str) -> Pass:
    """'segment-lipsync' or 'segment-lipsync{margin_ms=80}' → a pass instance."""
    name, raw = split_spec(spec)
    cls = all_passes().get(name)
    if cls is None:
        raise UnknownPass(name)
    instance: Pass = cls(**parse_options(cls, raw))
    return instance
