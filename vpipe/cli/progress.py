"""Progress display for `vpipe run` (rich bars on a terminal, nothing otherwise): the rows done,
and under it one line per row being rendered with its phase (script, speech, lip-sync,
encode, QC) and, where the phase loops over frames, how many are done."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

from vpipe.diagnostics.render import for_terminal
from vpipe.runtime.executor import RowOutcome


class RunProgress:
    def __init__(self, enabled: bool, total: int, console: Any = None) -> None:
        # a console given (tests, a caller's own) is drawn on even when it is not a terminal
        self.enabled = enabled and (console is not None or sys.stderr.isatty())
        self.console = console
        self._progress: Any = None
        self._task: Any = None
        self._rows: dict[int, Any] = {}  # row index → its phase line, while it renders
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
                console=self.console or Console(stderr=True),
                transient=False,
            )
            self._progress.start()
        return self

    def shared(self, what: str) -> None:
        if self._progress is not None:
            self._task = self._progress.add_task(what, total=None)

    def phase(self, index: int, row_id: str, phase: str, done: int, total: int) -> None:
        """Row `index` is in `phase`, `done` of `total` frames (total 0: frames not counted)."""
        if self._progress is None:
            return
        from rich.markup import escape

        # a row id is data: never markup, never a terminal control sequence
        label = f"  row {index} ({escape(for_terminal(row_id))}): {phase}"
        if total <= 0 and done > 0:
            label += f", {done} frames"
        task = self._rows.get(index)
        if task is None:
            self._rows[index] = self._progress.add_task(label, total=total or None, completed=done)
        else:
            self._progress.update(task, description=label, total=total or None, completed=done)

    def row(self, outcome: RowOutcome) -> None:
        if outcome.status == "failed":
            self.failed += 1
        else:
            self.ok += 1
        if self._progress is not None and outcome.index in self._rows:
            self._progress.remove_task(self._rows.pop(outcome.index))
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
