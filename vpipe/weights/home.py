"""Where vpipe keeps model weights by default (and its memo of their hashes)."""

from __future__ import annotations

import os
from pathlib import Path


def default_root() -> Path:
    """`~/.cache/vpipe/models` ($XDG_CACHE_HOME respected)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vpipe" / "models"
