"""The catalog: hardware presets and model facts, kept as data files in this package."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any

import yaml


def _load(name: str) -> dict[str, Any]:
    text = resources.files("vpipe.catalog").joinpath(name).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    assert isinstance(data, dict), f"{name} must be a mapping"
    return data


@cache
def hardware_presets() -> dict[str, dict[str, Any]]:
    return _load("hardware.yaml")


@cache
def models() -> dict[str, Any]:
    return _load("models.yaml")


def model_entries(task: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    """(id, entry) for every model, optionally only those of one task (lipsync, tts, align)."""
    entries = models().get("models", {})
    return [(k, v) for k, v in entries.items() if task is None or v.get("task") == task]


def model(model_id: str) -> dict[str, Any] | None:
    entry = models().get("models", {}).get(model_id)
    return entry if isinstance(entry, dict) else None


def model_names(task: str) -> list[str]:
    """What a recipe calls the catalog's models of a task: the id without its version
    (`latentsync-1.5` and `latentsync-1.6` are both `latentsync`), in catalog order."""
    return list(dict.fromkeys(re.sub(r"-\d+(\.\d+)*$", "", k) for k, _ in model_entries(task)))
