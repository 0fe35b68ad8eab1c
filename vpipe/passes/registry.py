"""Passes by name. A pass module registers its class with `@register`; `vpipe.passes.catalog`
imports every pass module and answers "which passes are there" (the registry itself imports
no pass, so no pass module and the registry import each other)."""

from __future__ import annotations

from typing import Any

_PASSES: dict[str, type[Any]] = {}


class UnknownPass(KeyError):
    pass


def register(cls: type[Any]) -> type[Any]:
    """Class decorator: make a pass available by its `name`."""
    if cls.name in _PASSES:
        raise ValueError(f"pass {cls.name} registered twice")
    _PASSES[cls.name] = cls
    return cls


def registered_so_far() -> dict[str, type[Any]]:
    """The passes registered by the modules imported so far (ask `catalog.all_passes()`)."""
    return dict(sorted(_PASSES.items()))
