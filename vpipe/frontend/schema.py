"""Validate a recipe document against the JSON Schema and turn every violation into a
coded diagnostic at the offending node (with a "did you mean" where one helps)."""

from __future__ import annotations

import copy
import difflib
import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from vpipe.catalog import model_names
from vpipe.diagnostics.diagnostic import Diagnostic, Span
from vpipe.frontend.yamlmap import SourceMap, escape_pointer_token
from vpipe.kernel_api.backends import LIPSYNC_KEYWORDS, Task, default, names

SCHEMA_NAME = "recipe-v1.schema.json"
RECIPE_VERSION = 1


# Recipe keys whose values name a backend: their allowed values are the declared backends of
# the task (vpipe.kernel_api.backends), not a list written here or in the schema file.
BACKEND_KEYS: dict[tuple[str, ...], Task] = {
    ("source", "aligner", "engine"): "align",
    ("voice", "engine"): "tts",
    ("lipsync", "model"): "lipsync",
}


@cache
def _schema_file() -> dict[str, Any]:
    text = resources.files("vpipe.schemas").joinpath(SCHEMA_NAME).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def backend_values(task: Task) -> list[str]:
    """What a recipe may write where it names a backend of `task`: the declared backends; for
    lip-sync also `auto`, `none` and the catalog's models whose backend is not installed here
    (the recipe is valid; the loader and select-kernels say what is missing to run it)."""
    declared = names(task)
    if task == "lipsync":
        known = [n for n in model_names(task) if n not in declared]
        return [LIPSYNC_KEYWORDS[0], *declared, *known, *LIPSYNC_KEYWORDS[1:]]  # auto first, none last
    return declared


def _backend_key() -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(backend_values(task)) for task in BACKEND_KEYS.values())


@cache
def _schema_for(backends: tuple[tuple[str, ...], ...]) -> dict[str, Any]:
    schema = copy.deepcopy(_schema_file())
    for (path, task), values in zip(BACKEND_KEYS.items(), backends, strict=True):
        node = schema
        for key in path:
            node = node["properties"][key]
        node["enum"] = list(values)
        chosen = default(task) if task != "lipsync" else None
        if chosen is not None:  # the engine used when the recipe names none: the registry's default
            node["default"] = chosen.name
    return schema


def recipe_schema() -> dict[str, Any]:
    """The recipe schema, with the backend keys' values (and the default engines) taken from
    the backend registry, so a plug-in's backend is a valid value; `python -m vpipe.reference`
    writes the built-in ones into the schema file for editors. Do not modify the result."""
    return _schema_for(_backend_key())


@cache
def _validator_for(backends: tuple[tuple[str, ...], ...]) -> Draft202012Validator:
    return Draft202012Validator(_schema_for(backends))


def _validator() -> Draft202012Validator:
    return _validator_for(_backend_key())


def _object_node(node: dict[str, Any]) -> dict[str, Any]:
    """The mapping form of a schema node (the object branch of a oneOf)."""
    if "properties" in node or node.get("type") == "object":
        return node
    return next((o for o in node.get("oneOf", []) if o.get("type") == "object"), {})


def defaults(*path: str) -> dict[str, Any]:
    """The schema's default of every key of the mapping at `path` that declares one, e.g.
    `defaults("lipsync")` or `defaults("slots", "*")` (a free-keyed mapping's values). The
    schema is the one home of the recipe's defaults: the loader fills absent keys from here,
    and docs/recipe.md prints the same values."""
    node = _object_node(recipe_schema())
    for key in path:
        child = node["additionalProperties"] if key == "*" else node["properties"][key]
        node = _object_node(child)
    return {k: v["default"] for k, v in (node.get("properties") or {}).items() if "default" in v}


def with_defaults(value: Any, *path: str) -> dict[str, Any]:
    """The mapping at `path` of the document (or {} when absent), absent keys filled in from
    the schema's defaults."""
    given = value if isinstance(value, dict) else {}
    return {**defaults(*path), **given}


def _pointer(path: Any) -> str:
    return "".join("/" + escape_pointer_token(p) for p in path)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


_EXPECTED = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean (true/false)",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}

# Human descriptions of the accepted forms of each `oneOf` in the schema, by pointer shape.
_ONE_OF_FORMS = {
    "rows": "a path ending in .csv/.tsv/.jsonl, a mapping with 'csv' or 'jsonl', or a list of rows",
    "target": "a preset name (cpu, t4-16g, rtx3060-12g, rtx4090-24g, a100-80g, h100-80g) or a mapping",
    "slot": "the spoken words as a string, or a mapping with 'say'",
    "lexicon": "a path to a YAML file, or a mapping of word to pronunciation",
}


def _suggest(word: str, options: list[str]) -> str | None:
    match = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return match[0] if match else None


def _key_name(pointer: str) -> str:
    return pointer.rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~") if pointer else "recipe"


def _where(pointer: str) -> str:
    """'under source' / 'at the top level' — used in messages about keys."""
    return f"in '{pointer.lstrip('/').replace('/', '.')}'" if pointer else "at the top level"


def _form_for(pointer: str) -> str | None:
    parts = pointer.strip("/").split("/")
    if parts == ["rows"]:
        return _ONE_OF_FORMS["rows"]
    if parts == ["target"]:
        return _ONE_OF_FORMS["target"]
    if len(parts) == 2 and parts[0] == "slots":
        return _ONE_OF_FORMS["slot"]
    if parts == ["voice", "lexicon"]:
        return _ONE_OF_FORMS["lexicon"]
    return None


class _Mapper:
    def __init__(self, smap: SourceMap) -> None:
        self.smap = smap

    def diagnostics(self, error: ValidationError) -> list[Diagnostic]:
        pointer = _pointer(error.absolute_path)
        handler = getattr(self, f"_on_{error.validator}", None)
        if handler is not None:
            result: list[Diagnostic] = handler(error, pointer)
            return result
        return [Diagnostic("VP015", error.message, self.smap.value(pointer))]

    # --- keyword handlers -------------------------------------------------------------
    def _on_additionalProperties(self, e: ValidationError, pointer: str) -> list[Diagnostic]:
        allowed = sorted(e.schema.get("properties", {}))
        if not isinstance(e.instance, dict):
            return []
        extra = [k for k in e.instance if k not in allowed]
        if e.schema.get("additionalProperties") is not False:
            # additionalProperties is a schema (e.g. inline rows) — a value is wrong, not a key
            return [Diagnostic("VP011", f"{_key_name(pointer)}: {e.message}", self.smap.value(pointer))]
        out = []
        for key in extra:
            child = f"{pointer}/{escape_pointer_token(key)}"
            guess = _suggest(key, allowed)
            help_text = f"did you mean '{guess}'?" if guess else f"allowed keys {_where(pointer)}: {', '.join(allowed)}"
            out.append(
                Diagnostic(
                    "VP012",
                    f"unknown key '{key}' {_where(pointer)}",
                    self.smap.key(child),
                    help=help_text,
                    label="unknown key",
                )
            )
        return out

    def _on_required(self, e: ValidationError, pointer: str) -> list[Diagnostic]:
        missing = [k for k in e.validator_value if k not in (e.instance or {})]
        span = self.smap.key(pointer) if pointer else Span(self.smap.file, 1, 1, 1, 2)
        return [
            Diagnostic(
                "VP010",
                f"missing required key '{k}' {_where(pointer)}",
                span,
                help=_required_help(pointer, k),
            )
            for k in missing
        ]

    def _on_type(self, e: ValidationError, pointer: str) -> list[Diagnostic]:
        expected = e.validator_value
        names = [expected] if isinstance(expected, str) else list(expected)
        want = " or ".join(_EXPECTED.get(n, n) for n in names)
        return [
            Diagnostic(
                "VP011",
                f"'{_key_name(pointer)}' must be {want}, not {_type_name(e.instance)}",
                self.smap.value(pointer),
                label=f"expected {want}",
            )
        ]

    def _on_enum(self, e: ValidationError, pointer: str) -> list[Diagnostic]:
        options = [str(o) for o in e.validator_value]
        guess = _suggest(str(e.instance), options)
        return [
            Diagnostic(
                "VP013",
                f"'{e.instance}' is not a valid value for '{_key_name(pointer)}'",
                self.smap.value(pointer),
                help=f"did you mean '{guess}'?" if guess else f"choose one of: {', '.join(options)}",
                notes=() if not guess else (f"valid values: {', '.join(options)}",),
            )
        ]

    def _on_const(self, e: ValidationError, pointer: str) -> list[Diagnostic]:
        if pointer == "/vpipe":
            return [
                Diagnostic(
                    "VP005",
                    f"unsupported recipe version {e.instance!r}; this vpipe reads version {RECIPE_VERSION}",
                    self.smap.value(pointer),
                    help=f"set 'vpipe: {RECIPE_VERSION}', or upgrade vpipe",
                )
            ]
        return [Diagnostic("VP013", f"'{_key_name(pointer)}' must be {e.validator_value!r}", self.smap.value(pointer))]

    def _range(self, e: ValidationError, pointer: str, what: str) -> list[Diagnostic]:
        return [
            Diagnostic(
                "VP014",
                f"'{_key_name(pointer)}' is {e.instance!r}, but must be {what} {e.validator_value}",
                self.smap.value(pointer),
            )
        ]

    def _on_minimum(self, e: ValidationError, pointer: str) -> list[Diagnostic]:
        return self._range(e, pointer, "at least")

    def _on_maximum(self, e: ValidationError, pointer: str) -> list[Diagnostic]:
        return self._range(e, pointer, "at most")

    def _on_exclusiveMinimum(self, e: ValidationError, pointer: str) -> list[Diagnostic]:
        return self._range(e, pointer, "greater than")

    def _on_minLength(self, e: ValidationError, pointer: str) -> list[Diagnostic]:
        return [Diagnostic("VP014", f"'{_key_name(pointer)}' must not be empty", self.smap.value(pointer))]

    def _on_maxLength(self, e: ValidationError, pointer: str) -> list[Diagnostic]:
        return [
            Diagnostic(
                "VP014",
                f"'{_key_name(pointer)}' must be at most {e.validator_value} character(s)",
                self.smap.value(pointer),
            )
        ]

    def _on_minItems(self, e: ValidationError, pointer: str) -> list[Diagnostic]:
        return [Diagnostic("VP014", f"'{_key_name(pointer)}' must not be an empty list", self.smap.value(pointer))]

    def _on_pattern(self, e: ValidationError, pointer: str) -> list[Diagnostic]:
        if "propertyNames" in e.schema_path:  # the instance is a key of the mapping at `pointer`
            return self._on_propertyNames(e, pointer)
        if pointer == "/rows":
            return [
                Diagnostic(
                    "VP015",
                    f"rows file '{e.instance}' must end in .csv, .tsv or .jsonl",
                    self.smap.value(pointer),
                    help="or write rows: {csv: PATH} to read a CSV with another extension",
                )
            ]
        return [
            Diagnostic(
                "VP015",
                f"'{e.instance}' does not match the pattern {e.validator_value}",
                self.smap.value(pointer),
            )
        ]

    def _on_propertyNames(self, e: ValidationError, pointer: str) -> list[Diagnostic]:
        name = e.instance
        child = f"{pointer}/{escape_pointer_token(name)}"
        fixed = "".join(c if c.isalnum() or c == "_" else "_" for c in str(name))
        if fixed[:1].isdigit():
            fixed = "_" + fixed
        return [
            Diagnostic(
                "VP015",
                f"slot name '{name}' is not a valid variable name",
                self.smap.key(child),
                help=f"use letters, digits and '_' (not starting with a digit), e.g. '{fixed}'",
            )
        ]

    def _on_oneOf(self, e: ValidationError, pointer: str) -> list[Diagnostic]:
        if pointer == "/source" and isinstance(e.instance, dict):
            has_video, has_image = "video" in e.instance, "image" in e.instance
            if has_video and has_image:
                return [
                    Diagnostic(
                        "VP016",
                        "source has both 'video' and 'image'; give exactly one",
                        self.smap.key(pointer + "/image"),
                    )
                ]
            return [
                Diagnostic(
                    "VP010",
                    "source needs 'video' (a recording) or 'image' (a still portrait)",
                    self.smap.key(pointer),
                    help="e.g. source: {video: presenter.mp4}",
                )
            ]
        # Choose the branch the user evidently meant: same JSON type, and for mappings the
        # branch whose required key is present. Report that branch's own errors.
        branches: dict[int, list[ValidationError]] = {}
        for sub in e.context or []:
            branches.setdefault(int(sub.schema_path[0]), []).append(sub)
        plausible = [i for i, schema in enumerate(e.validator_value) if _plausible(self._resolve(schema), e.instance)]
        if len(plausible) == 1 and plausible[0] in branches:
            out: list[Diagnostic] = []
            for sub in sorted(branches[plausible[0]], key=lambda s: list(s.path)):
                out.extend(self.diagnostics(sub))
            if out:
                return out
        form = _form_for(pointer) or "one of the accepted forms"
        return [
            Diagnostic(
                "VP011",
                f"'{_key_name(pointer)}' must be {form}, not {_type_name(e.instance)}",
                self.smap.value(pointer),
            )
        ]

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            resolved: dict[str, Any] = _schema_file()["$defs"][ref.split("/")[-1]]
            return resolved
        return schema


_JSON_TYPES = {
    "string": str,
    "object": dict,
    "array": list,
    "boolean": bool,
    "integer": int,
    "number": (int, float),
}


def _plausible(schema: dict[str, Any], instance: Any) -> bool:
    if "enum" in schema:
        return isinstance(instance, str)
    t = schema.get("type")
    if t is None:
        return True
    types = [t] if isinstance(t, str) else t
    if not any(isinstance(instance, _JSON_TYPES[x]) for x in types if x in _JSON_TYPES):
        return False
    if isinstance(instance, dict):
        required = schema.get("required", [])
        return all(k in instance for k in required)
    return True


def _required_help(pointer: str, key: str) -> str | None:
    examples = {
        ("", "vpipe"): "add 'vpipe: 1' as the first line",
        ("", "source"): "e.g. source: {video: presenter.mp4}",
        ("", "template"): 'e.g. template: "Hi {{ first_name }}, welcome to {{ city }}!"',
        ("", "rows"): "e.g. rows: leads.csv",
    }
    return examples.get((pointer, key))


def validate(data: Any, smap: SourceMap) -> list[Diagnostic]:
    """All schema violations of `data`, as diagnostics sorted by position."""
    if not isinstance(data, dict):
        return [
            Diagnostic(
                "VP004",
                f"a recipe must be a mapping of keys to values, not {_type_name(data)}",
                smap.value("") if data is not None else Span(smap.file, 1, 1, 1, 2),
                help="start from examples/quickstart/recipe.yaml",
            )
        ]
    mapper = _Mapper(smap)
    out: list[Diagnostic] = []
    seen: set[tuple[str, str, int, int]] = set()
    for error in _validator().iter_errors(data):
        for d in mapper.diagnostics(error):
            key = (d.code, d.message, d.span.line if d.span else 0, d.span.col if d.span else 0)
            if key not in seen:
                seen.add(key)
                out.append(d)
    return sorted(out, key=lambda d: (d.span.line, d.span.col) if d.span else (0, 0))
