"""The Python API the command line uses: `vpipe.compile(recipe) -> Build`, its plan and
diagnostics, and errors as `vpipe.DiagnosticError` (rendering with `Build.run` is exercised
by the end-to-end tests and benchmarks/estimates.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import vpipe


def test_compile_gives_a_build_with_its_plan(tiny_recipe: Path) -> None:
    build = vpipe.compile(tiny_recipe, analyze=False)
    assert isinstance(build, vpipe.Build)
    assert build.recipe.name == "tiny" and len(build.recipe.rows.rows) == 3
    assert build.plan["rows"]["total"] == 3 and build.plan["estimate"]["per_row_seconds"] > 0
    assert any(op.kind == "template.render" for op in build.graph)


def test_recipe_errors_raise_diagnostic_error(tiny_recipe: Path) -> None:
    tiny_recipe.write_text(tiny_recipe.read_text().replace("rows: rows.csv", "rows: nope.csv"))
    with pytest.raises(vpipe.DiagnosticError) as info:
        vpipe.compile(tiny_recipe, analyze=False)
    assert [d.code for d in info.value.diagnostics] == ["VP020"]


def test_import_vpipe_stays_light() -> None:
    """`import vpipe` loads the API on first use, not the compiler or any media library."""
    code = "import sys, vpipe; print(vpipe.__version__, 'vpipe.api' in sys.modules, 'av' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == [vpipe.__version__, "False", "False"]
