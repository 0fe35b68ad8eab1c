"""Progress inside a row, on a real render of the interview clip: the run tells its progress
display each phase of the row as it starts (script, speech, lip-sync, encode, QC) and, while
lip-sync and the encoder loop over frames, how many of them are done — up to the frames the
row re-animates and re-encodes. With --jobs 2 the worker processes' phases reach the
display too (slow: two more processes load the models)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import vpipe
from tests.clips import INTERVIEW
from tests.e2e.helpers import write_recipe

pytestmark = pytest.mark.media


class Display:
    """A progress display that keeps what it is told."""

    def __init__(self) -> None:
        self.events: list[tuple[int, str, str, int, int]] = []
        self.rows: list[int] = []

    def shared(self, what: str) -> None:
        pass

    def set_total(self, total: int) -> None:
        pass

    def row(self, outcome: Any) -> None:
        self.rows.append(outcome.index)

    def phase(self, index: int, row_id: str, phase: str, done: int, total: int) -> None:
        self.events.append((index, row_id, phase, done, total))

    def phases(self, index: int) -> list[str]:
        """The row's phases in the order they started."""
        seen: list[str] = []
        for i, _, phase, done, _ in self.events:
            if i == index and done == 0 and phase not in seen:
                seen.append(phase)
        return seen

    def frames(self, index: int, phase: str) -> list[tuple[int, int]]:
        return [(d, t) for i, _, p, d, t in self.events if i == index and p == phase and d > 0]


def test_a_row_reports_each_phase_and_its_frames(tmp_path: Path, e2e_cache: Path) -> None:
    recipe = write_recipe(tmp_path, INTERVIEW, ["mentoring"], lipsync="retrieve", duration="auto")
    display = Display()
    summary = vpipe.compile(recipe, cache_dir=e2e_cache).run(force=True, report=False, progress=display)
    (row,) = summary.outcomes
    assert row.status == "ok", row.diagnostics
    assert display.phases(1) == ["script", "speech", "lip-sync", "encode", "QC"]
    assert display.rows == [1] and display.events[-1][2] == "QC"  # every phase before the row is done
    lipsync = display.frames(1, "lip-sync")
    done, total = lipsync[-1]
    assert total > 0 and done == total, lipsync  # the last frame always reaches the display
    assert [d for d, _ in lipsync] == sorted(d for d, _ in lipsync)  # counts only go up
    encoded = display.frames(1, "encode")
    assert encoded and encoded[-1][0] == encoded[-1][1] > 0, encoded  # the re-encoded GOPs' frames


@pytest.mark.slow
def test_worker_processes_report_their_rows_phases(tmp_path: Path, e2e_cache: Path) -> None:
    recipe = write_recipe(tmp_path, INTERVIEW, ["mentoring", "guidance"], lipsync="retrieve", duration="auto")
    display = Display()
    summary = vpipe.compile(recipe, cache_dir=e2e_cache).run(force=True, report=False, jobs=2, progress=display)
    assert [o.status for o in summary.outcomes] == ["ok", "ok"]
    for index, row_id in ((1, "r1"), (2, "r2")):
        assert display.phases(index) == ["script", "speech", "lip-sync", "encode", "QC"]
        assert {e[1] for e in display.events if e[0] == index} == {row_id}
        done, total = display.frames(index, "lip-sync")[-1]
        assert done == total > 0
