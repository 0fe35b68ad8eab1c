"""The example recipes in recipes/ and examples/ are valid: they compile without errors
(on stand-in media, since the sample presenter is made by `vpipe sample`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.media import make_video
from vpipe.diagnostics.diagnostic import Severity
from vpipe.driver import BuildOptions, compile_recipe

ROOT = Path(__file__).resolve().parents[2]
RECIPES = [*sorted((ROOT / "recipes").glob("*.yaml")), ROOT / "examples" / "quickstart" / "recipe.yaml"]


@pytest.mark.parametrize(
    "recipe", RECIPES, ids=[p.stem if p.parent.name == "recipes" else "quickstart" for p in RECIPES]
)
def test_example_recipe_compiles(recipe: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vpipe.sample import portrait

    tree = tmp_path / "repo"
    for folder in ("recipes", "examples/quickstart"):
        shutil.copytree(ROOT / folder, tree / folder, ignore=shutil.ignore_patterns("out", ".sample", "presenter.mp4"))
    make_video(tree / "examples/quickstart/presenter.mp4", seconds=1.0, size=(96, 96))
    shutil.copy(portrait(), tree / "recipes/portrait.jpg")
    copy = tree / recipe.relative_to(ROOT)
    monkeypatch.chdir(copy.parent)
    build = compile_recipe(copy, BuildOptions(analyze=False))
    errors = [d for d in build.diagnostics if d.severity is Severity.ERROR]
    assert not errors, errors
    assert len(build.graph.ops) > 5 and build.recipe.rows.rows
