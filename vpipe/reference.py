"""The reference documents, generated so they cannot drift from the code.

- docs/recipe.md from the recipe JSON Schema (every key: type, default, allowed values,
  limits, description);
- docs/cli.md from the typer application (every command and option);
- the backend keys' allowed values in the schema file itself (`lipsync.model`, `voice.engine`,
  `source.aligner.engine`), from the declared backends.

`python -m vpipe.reference` rewrites both; a test fails when a committed file is stale.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parents[1] / "docs"
SCHEMA = Path(__file__).resolve().parent / "schemas" / "recipe-v1.schema.json"

_LIMITS = (
    ("minimum", "≥ {}"),
    ("exclusiveMinimum", "> {}"),
    ("maximum", "≤ {}"),
    ("minLength", "at least {} character(s)"),
    ("maxLength", "at most {} characters"),
    ("minItems", "at least {} items"),
    ("pattern", "matches `{}`"),
)


def _type(node: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in node:
        node = {**defs[node["$ref"].rsplit("/", 1)[1]], **{k: v for k, v in node.items() if k != "$ref"}}
    if "const" in node:
        return f"`{json.dumps(node['const'])}`"
    if "enum" in node:
        return " | ".join(f"`{v}`" for v in node["enum"])
    if "oneOf" in node and "type" not in node:
        return " or ".join(dict.fromkeys(_type(v, defs) for v in node["oneOf"]))
    t = node.get("type", "any")
    if isinstance(t, list):
        return " | ".join(t)
    if t == "array" and isinstance(node.get("items"), dict):
        return f"list of {_type(node['items'], defs)}"
    return str(t)


def _details(node: dict[str, Any]) -> str:
    parts = [fmt.format(node[k]) for k, fmt in _LIMITS if k in node and not (k == "minLength" and node[k] == 1)]
    if node.get("minLength") == 1:
        parts.append("non-empty")
    if "default" in node:
        parts.insert(0, f"default `{json.dumps(node['default'], ensure_ascii=False)}`")
    return "; ".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _object_shapes(node: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path suffix, object schema) of every object shape a value may take: itself, its
    oneOf options, list items, and the values of a free-keyed mapping (`.<name>`)."""
    if "properties" in node:
        yield "", node
    for option in node.get("oneOf", []):
        if option.get("type") == "array" and isinstance(option.get("items"), dict):
            yield from ((f"[]{suffix}", shape) for suffix, shape in _object_shapes(option["items"]))
        elif "properties" in option:
            yield "", option
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        yield from ((f".<name>{suffix}", shape) for suffix, shape in _object_shapes(extra))


def _rows(node: dict[str, Any], path: str, defs: dict[str, Any]) -> Iterator[tuple[str, ...]]:
    extra = node.get("additionalProperties")
    if isinstance(extra, dict) and "oneOf" in extra:  # a free-keyed mapping whose values take several forms
        described = [o.get("description", "") for o in extra["oneOf"] if o.get("description")]
        yield (f"`{path}.<name>`", _cell(_type(extra, defs)), "", _cell(" ".join(described)))
    for suffix, shape in _object_shapes(node):
        required = set(shape.get("required", []))
        for key, child in shape.get("properties", {}).items():
            full = f"{path}{suffix}.{key}"
            yield (
                f"`{full}`" + (" *(required)*" if key in required else ""),
                _cell(_type(child, defs)),
                _cell(_details(child)),
                _cell(child.get("description", "")),
            )
            yield from _rows(child, full, defs)


def recipe_reference(schema: dict[str, Any] | None = None) -> str:
    from vpipe.frontend.schema import recipe_schema

    schema = schema or recipe_schema()
    defs = schema.get("$defs", {})
    lines = [
        "# Recipe reference (format `vpipe: 1`)",
        "",
        "<!-- Generated from vpipe/schemas/recipe-v1.schema.json by `python -m vpipe.reference`. Do not edit. -->",
        "",
        schema.get("description", ""),
        "",
        "Editors validate a recipe against the schema when its first line names it: "
        "`# yaml-language-server: $schema=<path or URL of recipe-v1.schema.json>` (see examples/quickstart). "
        "Paths are relative to the recipe's folder. The template is Jinja2 (sandboxed, undefined "
        "variables are errors); CSV values are data and are never rendered as templates.",
        "",
    ]
    required = set(schema.get("required", []))
    for key, node in schema["properties"].items():
        if key == "$schema":
            continue
        lines += [f"## `{key}`" + (" (required)" if key in required else ""), ""]
        if node.get("description"):
            lines += [node["description"], ""]
        details = _details(node)
        lines += [f"Type: {_type(node, defs)}" + (f"; {details}" if details else "") + ".", ""]
        rows = list(dict.fromkeys(_rows(node, key, defs)))
        if rows:
            lines += ["| key | type | default and limits | description |", "|---|---|---|---|"]
            lines += ["| " + " | ".join(r) + " |" for r in rows]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def cli_reference() -> str:
    import typer
    from typer.cli import get_docs_for_click

    from vpipe.cli.app import app

    command = typer.main.get_command(app)
    ctx = typer.Context(command)
    text = get_docs_for_click(obj=command, ctx=ctx, name="vpipe", title="CLI reference")
    header = "<!-- Generated from vpipe.cli by `python -m vpipe.reference`. Do not edit. -->\n\n"
    return header + text.strip() + "\n"


def schema_file() -> str:
    """The schema file's text with the backend keys' `enum` lists set to the declared
    backends (the rest of the file, hand-written, is kept as it is)."""
    from vpipe.frontend.schema import BACKEND_KEYS, backend_values

    text = SCHEMA.read_text(encoding="utf-8")
    for path, task in BACKEND_KEYS.items():
        pos = 0
        for key in path:
            pos = text.index(f'"{key}": {{', pos)
        start = text.index('"enum": [', pos) + len('"enum": ')
        end = text.index("]", start) + 1
        text = text[:start] + json.dumps(backend_values(task)) + text[end:]
    return text


def documents() -> dict[Path, str]:
    return {DOCS / "recipe.md": recipe_reference(), DOCS / "cli.md": cli_reference(), SCHEMA: schema_file()}


def main() -> int:
    DOCS.mkdir(exist_ok=True)
    for path, text in documents().items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
