"""`vpipe run`'s progress display: rows done, and each rendering row's phase and frames."""

from __future__ import annotations

import io

from rich.console import Console

from vpipe.cli.progress import RunProgress
from vpipe.runtime.executor import RowOutcome


def _console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=120, force_terminal=False, color_system=None), out


def test_a_rendering_row_shows_its_phase_and_frames() -> None:
    console, out = _console()
    with RunProgress(True, 0, console=console) as bar:
        bar.shared("analysing the source")
        bar.set_total(2)
        bar.phase(1, "r1", "speech", 0, 0)
        bar.phase(1, "r1", "lip-sync", 12, 40)
        shown = {t.description: (t.completed, t.total) for t in bar._progress.tasks}
        assert shown["  row 1 (r1): lip-sync"] == (12, 40)
        bar.phase(1, "r1", "encode", 7, 0)  # frames counted, total not known
        assert "  row 1 (r1): encode, 7 frames" in [t.description for t in bar._progress.tasks]
        bar.row(RowOutcome(1, "r1", "ok"))
        # the row's line goes when it is done; the rows bar counts it
        assert [t.description for t in bar._progress.tasks] == ["rendering rows (1 ok, 0 failed)"]
    assert "rendering rows (1 ok, 0 failed)" in out.getvalue()


def test_a_row_id_is_never_markup_or_a_terminal_control() -> None:
    console, out = _console()
    with RunProgress(True, 0, console=console) as bar:
        bar.phase(2, "[bold red]x[/]\x1b[2J", "QC", 0, 0)
        assert len(bar._progress.tasks) == 1
    assert "\x1b[2J" not in out.getvalue()
    assert "row 2 ([bold red]x[/]\\x1b[2J): QC" in out.getvalue()


def test_nothing_is_drawn_off_a_terminal() -> None:
    with RunProgress(True, 0) as bar:  # stderr under pytest is not a terminal
        bar.phase(1, "r1", "speech", 0, 0)
        assert bar._progress is None
