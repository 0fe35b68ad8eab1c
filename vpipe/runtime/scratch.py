"""A folder of its own for one phase of a run (the shared phase, a row): created under the
run's work folder, removed with everything in it when the phase ends, however it ends."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def scratch(root: Path | None, name: str) -> Iterator[Path]:
    """A new folder `name-XXXX` under `root` (the system's temporary folder when None)."""
    if root is not None:
        root.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=root))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
