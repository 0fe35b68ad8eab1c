"""The generated reference documents are committed and current, and cover everything."""

from __future__ import annotations

import json
import re

from vpipe.reference import DOCS, SCHEMA, cli_reference, documents, recipe_reference


def test_committed_reference_documents_are_current() -> None:
    for path, text in documents().items():
        assert path.is_file(), f"{path} is missing: run python -m vpipe.reference"
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: run python -m vpipe.reference"


def _keys(node: dict, path: str) -> set[str]:
    out = set()
    shapes = [node] + [o for o in node.get("oneOf", []) if "properties" in o]
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        shapes += [o for o in extra.get("oneOf", [extra]) if "properties" in o]
    for shape in shapes:
        for key, child in shape.get("properties", {}).items():
            out.add(key)
            out |= _keys(child, f"{path}.{key}")
    return out


def test_every_schema_key_is_documented() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    text = recipe_reference(schema)
    documented = set(re.findall(r"`(?:[\w<>\[\]]+\.)*([\w$]+)`", text))
    missing = _keys(schema, "") - documented - {"$schema"}
    assert not missing, f"undocumented recipe keys: {sorted(missing)}"


def test_every_command_and_option_is_documented() -> None:
    import typer

    from vpipe.cli.app import app

    text = cli_reference()
    command = typer.main.get_command(app)
    for name, sub in command.commands.items():  # type: ignore[attr-defined]
        assert f"## `vpipe {name}`" in text
        for param in sub.params:
            for opt in param.opts:
                if opt.startswith("--"):
                    assert re.search(rf"[`, ]{re.escape(opt)}\b", text), f"vpipe {name} {opt} is not documented"
    assert (DOCS / "cli.md").read_text(encoding="utf-8") == text
