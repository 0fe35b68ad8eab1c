"""vpipe: personalized talking-head videos, compiled.

`vpipe.compile(recipe) -> Build` and `Build.run(rows=..., jobs=...)` are the Python API
(see vpipe.api); the command line uses the same calls.
"""

from __future__ import annotations

from typing import Any

from vpipe.version import __version__

__all__ = ["Build", "DiagnosticError", "__version__", "compile"]


def __getattr__(name: str) -> Any:  # imported on first use: `import vpipe` stays light
    if name in ("compile", "Build"):
        from vpipe import api

        return getattr(api, name)
    if name == "DiagnosticError":
        from vpipe.diagnostics.diagnostic import DiagnosticError

        return DiagnosticError
    raise AttributeError(f"module 'vpipe' has no attribute {name!r}")
