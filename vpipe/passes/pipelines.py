"""Named pipelines. `vpipe build --pipeline NAME` picks one; a comma-separated list of
pass names (with options in braces) is a pipeline too."""

from __future__ import annotations

from vpipe.passes.base import Pass
from vpipe.passes.catalog import create
from vpipe.passes.registry import UnknownPass

PIPELINES: dict[str, tuple[str, ...]] = {
    # What `vpipe build` and `vpipe run` use.
    "default": (
        "resolve-slots",
        "hoist-shared",
        "segment-lipsync",
        "fit-vram",
        "reduce-steps",
        "splice-gops",
        "own-gops",
        "splice-aac",
        "keep-recorded",
        "dedupe",
        "select-kernels",
        "export-onnx",
        "batch-rows",
    ),
    # No optimisation pass, only what correctness needs (slots bound, kernels chosen): every op
    # runs per row, the lip-sync kernel finds its windows itself, every row re-encodes its whole
    # video. With `vpipe run --no-cache` this is the naive baseline the passes are measured against.
    "O0": ("resolve-slots", "select-kernels"),
}


def pipeline(spec: str) -> list[Pass]:
    names = PIPELINES.get(spec)
    if names is None:
        names = tuple(_split(spec))
    if not names:
        raise UnknownPass(spec)
    return [create(n) for n in names]


def _split(spec: str) -> list[str]:
    """Split on commas that are not inside {options}."""
    parts, depth, current = [], 0, ""
    for ch in spec:
        depth += ch == "{"
        depth -= ch == "}"
        if ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip():
        parts.append(current.strip())
    return parts
