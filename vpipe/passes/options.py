"""Pass options, written `segment-lipsync{margin_ms=80}`: parsed by the type each option
(dataclass field) declares, and printed back the same way, so a pipeline's text round-trips
(`format_pass(create(text)) == text` for a pass whose options differ from their defaults)."""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from vpipe.passes.registry import UnknownPass


class BadPassOption(UnknownPass):
    """An option the pass does not have, or a value that is not of the option's type."""


def split_spec(spec: str) -> tuple[str, dict[str, str]]:
    """'segment-lipsync{margin_ms=80, x=y}' → ('segment-lipsync', {'margin_ms': '80', 'x': 'y'})."""
    name, brace, rest = spec.partition("{")
    name = name.strip()
    raw: dict[str, str] = {}
    if brace:
        if not rest.rstrip().endswith("}"):
            raise BadPassOption(f"{name}: options must end with '}}'")
        for item in filter(None, (p.strip() for p in rest.rstrip()[:-1].split(","))):
            key, eq, value = item.partition("=")
            if not eq:
                raise BadPassOption(f"{name}: option '{item}' needs a value (key=value)")
            raw[key.strip()] = value.strip()
    return name, raw


def options(cls: type[Any]) -> dict[str, dataclasses.Field[Any]]:
    """A pass class's options: its dataclass fields, by name."""
    return {f.name: f for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else {}


def parse_options(cls: type[Any], raw: dict[str, str]) -> dict[str, Any]:
    """Typed keyword arguments for `cls` from the raw text values."""
    fields = options(cls)
    hints = typing.get_type_hints(cls)
    out: dict[str, Any] = {}
    for key, text in raw.items():
        if key not in fields:
            raise BadPassOption(f"{cls.name}: unknown option '{key}' (options: {', '.join(fields) or 'none'})")
        out[key] = _parse(cls.name, key, text, hints[key])
    return out


def _parse(name: str, key: str, text: str, annotation: Any) -> Any:
    kinds = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,)
    if text == "none" and type(None) in kinds:
        return None
    for kind in (k for k in kinds if k is not type(None)):
        if kind is bool:
            if text.lower() in ("true", "false", "1", "0", "yes", "no", "on", "off"):
                return text.lower() in ("true", "1", "yes", "on")
        elif kind in (int, float):
            try:
                return kind(text)
            except ValueError:
                pass
        elif kind is str:
            return text
    wanted = " or ".join(getattr(k, "__name__", str(k)) for k in kinds)
    raise BadPassOption(f"{name}: option '{key}' must be {wanted}, not '{text}'")


def _text(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def format_pass(instance: Any) -> str:
    """The pass as a pipeline element: its name, and the options that differ from their
    defaults in braces (`segment-lipsync{margin_ms=80.0}`)."""
    changed = [
        f"{f.name}={_text(getattr(instance, f.name))}"
        for f in options(type(instance)).values()
        if f.default is dataclasses.MISSING or getattr(instance, f.name) != f.default
    ]
    return instance.name + ("{" + ", ".join(changed) + "}" if changed else "")
