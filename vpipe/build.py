"""What a compiled recipe is, and where its files go: the build result the driver hands to
the runtime, the plan and the CLI, and the folders they share (build output, cache)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vpipe.diagnostics.diagnostic import Diagnostic
from vpipe.frontend.recipe import Recipe
from vpipe.ir.graph import Graph
from vpipe.kernel_api.context import Target


@dataclass
class BuildResult:
    recipe: Recipe
    input_graph: Graph
    graph: Graph
    diagnostics: list[Diagnostic]
    facts: dict[str, Any]
    changed: list[str]
    disabled: list[str]
    timings: list[tuple[str, float]]


def build_dir(recipe: Recipe) -> Path:
    return recipe.dir / ".vpipe" / recipe.file.stem


def cache_dir(recipe: Recipe, override: Path | None = None) -> Path:
    if override is not None:
        return override
    env = os.environ.get("VPIPE_CACHE_DIR")
    return Path(env) if env else recipe.dir / ".vpipe" / "cache"


def target_of(recipe: Recipe) -> Target:
    t = recipe.target
    return Target(device=t.device, precision=t.precision, vram_gb=t.vram_gb)
