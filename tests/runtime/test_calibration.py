"""Estimates from earlier runs: a row's CPU time carried to the machine's load now.

Timings lines are written by `record_run` as a run writes them; the arithmetic of
`calibrated` is checked against them (the end-to-end test, tests/e2e/test_check.py, checks
the same on a real run of the interview clip)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vpipe.runtime.calibration import (
    FRESH_SECONDS,
    TIMINGS,
    calibrated,
    contention,
    cpu_clock,
    probe,
    process_startup,
    record_run,
)


def later() -> float:
    """A moment when the runs recorded so far are stale (contention decides): taken when asked,
    after the test recorded them, not when the module was imported (a suite that reaches this
    file more than FRESH_SECONDS after collecting it would otherwise find them fresh)."""
    return time.time() + 2 * FRESH_SECONDS


def test_contention_is_the_share_of_a_core_among_the_others() -> None:
    assert contention(0.0, 1, 2) == 1.0  # a quiet machine: as fast as its CPU time
    assert contention(1.0, 1, 2) == 1.0  # one other process, two cores: still a core each
    assert contention(5.0, 1, 2) == 3.0  # six runnable on two cores: a third of a core
    assert contention(3.0, 2, 2) == 2.5  # --jobs 2 competes with itself too


def test_a_row_is_its_cpu_time_at_the_load_now(tmp_path: Path) -> None:
    # a run at load 5: rows and shared analysis took 65 s for 19 s of CPU
    record_run(tmp_path, "p", [30.0, 6.0, 9.0], 20.0, False, row_cpu=[10.0, 2.0, 3.0], shared_cpu=4.0, load=5.0)
    line = json.loads((tmp_path / TIMINGS).read_text())
    assert line["rows_cpu"] == [10.0, 2.0, 3.0] and line["load"] == 5.0 and line["jobs"] == 1
    then = contention(5.0, 1, line["cores"])
    quiet = calibrated(tmp_path, "p", load=0.0, now=later())
    assert quiet is not None and quiet["basis"] == "cpu"
    assert quiet["k"] == pytest.approx(65.0 / 19.0 / then, abs=0.001)  # what the load does not explain
    now = quiet["k"] * contention(0.0, 1, line["cores"])
    assert quiet["per_row_seconds"] == pytest.approx(2.5 * now, rel=1e-3)  # median steady CPU time
    assert quiet["warmup_seconds"] == pytest.approx((10.0 - 2.5) * now, rel=1e-3)
    assert quiet["shared_seconds"] == pytest.approx(4.0 * now, rel=1e-3) and quiet["shared_cached_seconds"] is None
    busy = calibrated(tmp_path, "p", load=9.0, now=later())
    assert busy is not None
    assert busy["per_row_seconds"] / quiet["per_row_seconds"] == pytest.approx(
        contention(9.0, 1, line["cores"]) / contention(0.0, 1, line["cores"])
    )
    # at the load it ran under, the estimate is the run's own pace
    same = calibrated(tmp_path, "p", load=5.0, now=later())
    assert same is not None and same["per_row_seconds"] == pytest.approx(2.5 * 65.0 / 19.0, rel=1e-3)


def test_waiting_beyond_the_load_is_calibrated(tmp_path: Path) -> None:
    # a quiet run whose rows took twice their CPU time (waiting on files, pipes): k = 2
    record_run(tmp_path, "p", [10.0, 4.0, 4.0], 1.0, True, row_cpu=[5.0, 2.0, 2.0], shared_cpu=0.5, load=0.0)
    est = calibrated(tmp_path, "p", load=0.0, now=later())
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
    # 48 s for 12 s of CPU under a measured contention of 4: nothing beyond the contention
    record_run(
        tmp_path, "p", [30.0, 8.0, 8.0], 2.0, True, row_cpu=[7.5, 2.0, 2.0], shared_cpu=0.5, load=1.0, stretch=4.0
    )
    est = calibrated(tmp_path, "p", load=1.0, stretch=2.0, now=later())
    assert est is not None and est["k"] == pytest.approx(1.0)
    assert est["per_row_seconds"] == pytest.approx(4.0) and est["contention"] == 2.0


def test_a_recent_run_sets_the_pace(tmp_path: Path) -> None:
    # the last run, minutes ago: it took 3.5× its CPU time; the next is forecast so
    record_run(tmp_path, "p", [42.0, 7.0, 7.0], 0.0, True, row_cpu=[12.0, 2.0, 2.0], shared_cpu=0.0, stretch=2.0)
    est = calibrated(tmp_path, "p", stretch=9.0)  # whatever a momentary probe says now
    assert est is not None and est["pace"] == pytest.approx(3.5) and est["pace_age_seconds"] < 60
    assert est["per_row_seconds"] == pytest.approx(2.0 * 3.5)
    assert est["warmup_seconds"] == pytest.approx((12.0 - 2.0) * 3.5)
    stale = calibrated(tmp_path, "p", stretch=9.0, now=later())
    assert stale is not None and stale["pace"] is None and stale["contention"] == 9.0


def test_every_part_is_its_cpu_time_at_the_whole_runs_pace(tmp_path: Path) -> None:
    """A run: start-up 6 s for 2 s of CPU, shared 1.5 s for 1 s, rows [24, 4, 4] s for
    [8, 2, 2] s of CPU: 39.5 s for 15 s of CPU. The next run, at the pace the last one set,
    is each part's CPU × 39.5/15 (the plan's total is their sum: plan.py)."""
    record_run(
        tmp_path,
        "p",
        [24.0, 4.0, 4.0],
        1.5,
        True,
        row_cpu=[8.0, 2.0, 2.0],
        shared_cpu=1.0,
        startup=(6.0, 2.0),
        stretch=2.0,
    )
    pace = 39.5 / 15.0
    est = calibrated(tmp_path, "p", shared_cached=True)
    assert est is not None and est["pace"] == pytest.approx(pace, abs=0.001)
    assert est["per_row_seconds"] == pytest.approx(2.0 * pace)
    assert est["startup_seconds"] == pytest.approx(2.0 * pace) and est["startup_cpu_seconds"] == 2.0
    assert est["warmup_seconds"] == pytest.approx(6.0 * pace) and est["warmup_cpu_seconds"] == 6.0
    assert est["shared_cached_seconds"] == pytest.approx(1.0 * pace)
    # later, the machine four times as contended: k (the run's pace beyond its contention 2) × 4
    stale = calibrated(tmp_path, "p", shared_cached=True, stretch=4.0, now=later())
    assert stale is not None and stale["pace"] is None and stale["k"] == pytest.approx(pace / 2.0, abs=0.001)
    assert stale["startup_seconds"] == pytest.approx(2.0 * pace / 2.0 * 4.0)
    assert stale["per_row_seconds"] == pytest.approx(2.0 * pace / 2.0 * 4.0)


def test_a_warm_run_after_cold_ones_loads_in_its_first_row_what_they_loaded_in_the_shared_part(
    tmp_path: Path,
) -> None:
    """On a cold cache the speech worker starts (and loads its voice) in the shared analysis;
    on a warm one in the first row. With only cold runs measured, a warm run's warm-up is the
    cold runs' first-row extra plus the worker's CPU in their shared analysis."""
    record_run(
        tmp_path, "p", [12.0, 4.0, 4.0], 40.0, False, row_cpu=[6.0, 2.0, 2.0], shared_cpu=20.0, shared_worker_cpu=3.0
    )
    warm = calibrated(tmp_path, "p", shared_cached=True)
    cold = calibrated(tmp_path, "p", shared_cached=False)
    assert warm is not None and cold is not None
    assert cold["warmup_cpu_seconds"] == 4.0 and warm["warmup_cpu_seconds"] == 4.0 + 3.0
    # once a warm run is measured, its own warm-up is used
    record_run(tmp_path, "p", [22.0, 4.0, 4.0], 0.3, True, row_cpu=[11.0, 2.0, 2.0], shared_cpu=0.1)
    warm = calibrated(tmp_path, "p", shared_cached=True)
    assert warm is not None and warm["warmup_cpu_seconds"] == 9.0


def test_a_commands_start_up_is_timed_from_its_process_start() -> None:
    code = (
        "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass\n"
        "from vpipe.runtime.calibration import process_startup\nprint(*process_startup())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    wall, cpu = map(float, done.stdout.split())
    assert 0.3 <= cpu <= wall < 60.0  # the spinning and the imports, counted from the process's start
    here = process_startup()
    assert here is not None and here[0] > 0 and here[1] > 0


def test_start_up_comes_from_runs_with_the_same_cache_state(tmp_path: Path) -> None:
    """On a cold cache compiling the recipe analyses the source: that compile is not a warm
    one's. The rest of a start-up (imports) is the same whatever the cache holds."""
    cold = {"startup": (8.0, 3.0), "compiled_in": (6.0, 2.2)}
    record_run(tmp_path, "p", [8.0, 4.0], 30.0, False, row_cpu=[4.0, 2.0], shared_cpu=9.0, **cold)  # type: ignore[arg-type]
    line = json.loads((tmp_path / TIMINGS).read_text())
    assert line["startup"] == [8.0, 3.0] and line["compile"] == [6.0, 2.2]
    only_cold = calibrated(tmp_path, "p", shared_cached=True)
    assert only_cold is not None and only_cold["startup_cpu_seconds"] == pytest.approx(0.8)  # no warm compile known
    again = calibrated(tmp_path, "p", shared_cached=False)
    assert again is not None and again["startup_cpu_seconds"] == pytest.approx(3.0)
    warm = {"startup": (2.0, 1.1), "compiled_in": (0.6, 0.3)}
    record_run(tmp_path, "p", [8.0, 4.0], 0.2, True, row_cpu=[4.0, 2.0], shared_cpu=0.1, **warm)  # type: ignore[arg-type]
    est = calibrated(tmp_path, "p", shared_cached=True)
    assert est is not None and est["startup_cpu_seconds"] == pytest.approx(statistics.median([0.8, 0.8]) + 0.3)
    # lines from before compiling was timed: whole start-ups, of runs like the next where there are any
    record_run(tmp_path, "q", [8.0, 4.0], 30.0, False, row_cpu=[4.0, 2.0], shared_cpu=9.0, startup=(8.0, 3.0))
    record_run(tmp_path, "q", [8.0, 4.0], 0.2, True, row_cpu=[4.0, 2.0], shared_cpu=0.1, startup=(2.0, 1.0))
    old = calibrated(tmp_path, "q", shared_cached=True)
    assert old is not None and old["startup_cpu_seconds"] == 1.0
