"""Progress inside a row: op kinds to phases, frame counts reaching a reporter, throttled."""

from __future__ import annotations

import time

import pytest

from vpipe import phases


@pytest.mark.parametrize(
    ("kind", "phase"),
    [
        ("template.render", "script"),
        ("rows.row", "script"),
        ("speech.synthesize", "speech"),
        ("audio.splice", "speech"),
        ("lipsync.apply", "lip-sync"),
        ("face.track_image", "lip-sync"),
        ("media.splice", "encode"),
        ("media.write", "encode"),
        ("qc.measure", "QC"),
    ],
)
def test_every_op_kind_has_its_phase(kind: str, phase: str) -> None:
    assert phases.phase_of(kind) == phase and phase in phases.PHASES


def test_frames_reach_the_reporter_of_the_running_op_only() -> None:
    heard: list[tuple[str, int, int]] = []
    phases.advance(1, 10)  # no reporter: nothing happens
    with phases.running("lipsync.apply", lambda *event: heard.append(event)):
        for k in range(1, 4):
            phases.advance(k, 3)
    phases.advance(3, 3)
    with phases.running("qc.measure", None):  # no display: not even the phase is computed
        phases.advance(1, 1)
    assert heard[0] == ("lip-sync", 0, 0)  # announced before any frame
    assert heard[-1] == ("lip-sync", 3, 3)  # the last frame always arrives
    assert all(e[0] == "lip-sync" for e in heard) and len(heard) <= 4


def test_a_reporter_hears_at_most_one_update_per_interval() -> None:
    heard: list[tuple[int, int]] = []
    with phases.reporting(lambda done, total: heard.append((done, total)), interval=0.05):
        start = time.monotonic()
        for k in range(1, 20001):
            phases.advance(k, 20000)
        elapsed = time.monotonic() - start
    assert heard[-1] == (20000, 20000)
    assert len(heard) <= elapsed / 0.05 + 2  # throttled, plus the first and the last
    # frame counts whose total is not known ahead (0) are throttled too, never "finished"
    unknown: list[tuple[int, int]] = []
    with phases.reporting(lambda done, total: unknown.append((done, total)), interval=10.0):
        for k in range(1, 100):
            phases.advance(k, 0)
    assert unknown == [(1, 0)]
