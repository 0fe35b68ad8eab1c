"""Estimates from earlier runs: a row's CPU time carried to the machine's load now.

Timings lines are written by `record_run` as a run writes them; the arithmetic of
`calibrated` is checked against them (the end-to-end test, tests/e2e/test_check.py, checks
the same on a real run of the interview clip)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vpipe.runtime.calibration import FRESH_SECONDS, TIMINGS, calibrated, contention, cpu_clock, probe, record_run

LATER = time.time() + 2 * FRESH_SECONDS  # the runs recorded here are then stale: contention decides


def test_contention_is_the_share_of_a_core_among_the_others() -> None:
    assert contention(0.0, 1, 2) == 1.0  # a quiet machine: as fast as its CPU time
    assert contention(1.0, 1, 2) == 1.0  # one other process, two cores: still a core each
    assert contention(5.0, 1, 2) == 3.0  # six runnable on two cores: a third of a core
    assert contention(3.0, 2, 2) == 2.5  # --jobs 2 competes with itself too


def test_a_row_is_its_cpu_time_at_the_load_now(tmp_path: Path) -> None:
    # a run at load 5: its steady rows took 3× their CPU time
    record_run(tmp_path, "p", [30.0, 6.0, 9.0], 20.0, False, row_cpu=[10.0, 2.0, 3.0], shared_cpu=4.0, load=5.0)
    line = json.loads((tmp_path / TIMINGS).read_text())
    assert line["rows_cpu"] == [10.0, 2.0, 3.0] and line["load"] == 5.0 and line["jobs"] == 1
    then = contention(5.0, 1, line["cores"])
    quiet = calibrated(tmp_path, "p", load=0.0, now=LATER)
    assert quiet is not None and quiet["basis"] == "cpu"
    assert quiet["k"] == pytest.approx(3.0 / then, abs=0.001)  # what the load does not explain
    now = quiet["k"] * contention(0.0, 1, line["cores"])
    assert quiet["per_row_seconds"] == pytest.approx(2.5 * now)  # median steady CPU time
    assert quiet["warmup_seconds"] == pytest.approx((10.0 - 2.5) * now)
    assert quiet["shared_seconds"] == pytest.approx(4.0 * now) and quiet["shared_cached_seconds"] is None
    busy = calibrated(tmp_path, "p", load=9.0, now=LATER)
    assert busy is not None
    assert busy["per_row_seconds"] / quiet["per_row_seconds"] == pytest.approx(
        contention(9.0, 1, line["cores"]) / contention(0.0, 1, line["cores"])
    )
    # at the load it ran under, the estimate is what the run measured
    same = calibrated(tmp_path, "p", load=5.0, now=LATER)
    assert same is not None and same["per_row_seconds"] == pytest.approx(7.5, abs=0.01)


def test_waiting_beyond_the_load_is_calibrated(tmp_path: Path) -> None:
    # a quiet run whose rows took twice their CPU time (waiting on files, pipes): k = 2
    record_run(tmp_path, "p", [10.0, 4.0, 4.0], 1.0, True, row_cpu=[5.0, 2.0, 2.0], shared_cpu=0.5, load=0.0)
    est = calibrated(tmp_path, "p", load=0.0, now=LATER)
    assert est is not None and est["k"] == pytest.approx(2.0)
    assert est["per_row_seconds"] == pytest.approx(4.0)
    assert est["shared_cached_seconds"] == pytest.approx(1.0) and est["shared_seconds"] is None


def test_older_lines_without_cpu_time_still_estimate_from_wall_time(tmp_path: Path) -> None:
    record_run(tmp_path, "p", [20.0, 5.0, 7.0], 3.0, False)
    record_run(tmp_path, "other", [1.0], 0.0, False, row_cpu=[1.0], shared_cpu=0.0, load=0.0)
    est = calibrated(tmp_path, "p", load=4.0)
    assert est is not None and est["basis"] == "wall"
    assert est["per_row_seconds"] == 6.0 and est["warmup_seconds"] == 14.0 and est["shared_seconds"] == 3.0
    assert calibrated(tmp_path, "nothing") is None


def test_cpu_clock_counts_finished_child_processes() -> None:
    before = cpu_clock()
    spin = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass"
    subprocess.run([sys.executable, "-c", spin], check=True)
    assert cpu_clock() - before >= 0.3
    start, wall = cpu_clock(), time.perf_counter()
    time.sleep(0.2)  # waiting is not CPU time
    assert cpu_clock() - start < 0.1 and time.perf_counter() - wall >= 0.2


def test_probe_sees_the_share_of_a_core_it_gets() -> None:
    assert 1.0 <= probe(0.05) < 100.0


def test_recorded_contention_wins_over_the_load_average(tmp_path: Path) -> None:
    record_run(
        tmp_path, "p", [30.0, 8.0, 8.0], 1.0, True, row_cpu=[6.0, 2.0, 2.0], shared_cpu=0.1, load=1.0, stretch=4.0
    )
    est = calibrated(tmp_path, "p", load=1.0, stretch=2.0, now=LATER)
    assert est is not None and est["k"] == pytest.approx(1.0)  # 8 s = 2 s of CPU × contention 4
    assert est["per_row_seconds"] == pytest.approx(4.0) and est["contention"] == 2.0


def test_a_recent_run_sets_the_pace(tmp_path: Path) -> None:
    # the last run, minutes ago: its steady rows went at 3.5× their CPU time; the next is forecast so
    record_run(tmp_path, "p", [40.0, 7.0, 8.75], 0.2, True, row_cpu=[12.0, 2.0, 2.5], shared_cpu=0.1, stretch=2.0)
    est = calibrated(tmp_path, "p", stretch=9.0)  # whatever a momentary probe says now
    assert est is not None and est["pace"] == pytest.approx(3.5) and est["pace_age_seconds"] < 60
    assert est["per_row_seconds"] == pytest.approx(2.25 * 3.5)
    assert est["warmup_seconds"] == pytest.approx((12.0 - 2.25) * 3.5)
    stale = calibrated(tmp_path, "p", stretch=9.0, now=LATER)
    assert stale is not None and stale["pace"] is None and stale["contention"] == 9.0
