"""Progress display for `vpipe run` (rich bars on a terminal, nothing otherwise)."""

from __future__ import annotations

import sys
from types import TracebackType

from vpipe.runtime.executor import RowOutcome


class RunProgress:
    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self._progress = None
        self._task = None
        self.ok = self.failed = 0

    def __enter__(self) -> RunProgress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self._progress.start()
        return self

    def shared(self, what: str) -> None:
        if self._progress is not None:
            self._task = self._progress.add_task(what, total=None)

    def row(self, outcome: RowOutcome) -> None:
        if outcome.status == "failed":
            self.failed += 1
        else:
            self.ok += 1
        if self._progress is not None and self._task is not None:
            self._progress.update(
                self._task,
                advance=1,
                description=f"rendering rows ({self.ok} ok, {self.failed} failed)",
            )

    def set_total(self, total: int) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, total=total, completed=0, description="rendering rows")

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
