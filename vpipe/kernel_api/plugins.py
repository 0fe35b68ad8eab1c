"""Finding the kernel modules: every module of the built-in `vpipe.kernels` package (a new
file is picked up as it is), then each module another package names under the `vpipe.kernels`
entry-point group. Importing a kernel module registers its kernels and declares its
backends; both registries call `load_plugins()` before they answer."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from importlib.metadata import entry_points

BUILTIN_PACKAGE = "vpipe.kernels"


def builtin_modules() -> list[str]:
    """The modules of the built-in kernel package, by name."""
    package = importlib.import_module(BUILTIN_PACKAGE)
    return sorted(f"{BUILTIN_PACKAGE}.{m.name}" for m in pkgutil.iter_modules(package.__path__))


@cache
def load_plugins() -> tuple[str, ...]:
    """Import built-in and third-party kernel modules once; returns plug-in load problems."""
    problems: list[str] = []
    for name in builtin_modules():
        importlib.import_module(name)
    for ep in entry_points(group="vpipe.kernels"):
        try:
            ep.load()
        except Exception as exc:  # a broken third-party plug-in must not break vpipe
            problems.append(f"{ep.name}: {exc}")
    return tuple(problems)
