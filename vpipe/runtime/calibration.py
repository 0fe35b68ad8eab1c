"""Honest estimates: what earlier runs of the same kind measured, kept beside the cache.

A row's wall time on a shared machine is its CPU work stretched by whatever else runs: the
same row took 8 s and 29 s within minutes while other processes came and went. So every run
appends to `CACHE/timings.jsonl` both clocks of each rendered row — wall seconds, and CPU
seconds of this process, its finished child processes (ffmpeg) and the speech worker — and
how contended the machine was when it started. `vpipe build` then estimates

    a row     = median CPU seconds of the steady rows (a run's first row excluded)
                × k × contention now
    warm-up   = the first row's extra CPU (loading the models, once per run), the same way
    shared    = the shared analysis's CPU seconds (fresh, or found in the cache), the same way

The stretch from CPU to wall time is, in this order:
- the pace of the last run, when it ended less than `FRESH_SECONDS` ago: its steady rows'
  wall seconds over their CPU seconds (on a busy shared machine the best forecast of the next
  minutes is the last few: a momentary measure swings ±50 % while a run's pace holds);
- else k × contention now. Contention is measured, not guessed from the load average:
  `probe` spins for a fifth of a second and sees what share of a core it gets (nice levels,
  other users, every core busy — all of it counted), so a contention of 3 means a process
  runs at a third of its speed. k, the wall/CPU ratio the earlier runs showed once their own
  contention is taken out (waiting on files and pipes, threads, --jobs sharing the cores),
  is calibrated from the same runs.
With no earlier run, the estimate is the kernels' own (the plan says so). Nobody can know
the load of the minutes to come: the estimate is for the machine as it is now.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from vpipe.ir.hashing import digest

TIMINGS = "timings.jsonl"
KEEP_ROWS = 200  # row timings per run kept for calibration
RECENT_RUNS = 5  # the machine and the code change: only the last few runs of a profile count
FRESH_SECONDS = 600.0  # a run that ended this recently sets the pace of the next


def profile_key(graph: Any, source: Path, device: str) -> str:
    """Runs with the same source file and the same kernels behave alike."""
    try:
        stat = source.stat()
        ident = f"{source.resolve()}:{stat.st_size}:{int(stat.st_mtime)}"
    except OSError:
        ident = str(source)
    kernels = sorted(f"{op.kind}={op.kernel}" for op in graph)
    return digest("profile", ident, device, *kernels)[:24]


def cpu_clock() -> float:
    """CPU seconds used so far by this process (all its threads), its finished child processes
    (ffmpeg) and, once started, the speech worker: the work a row does wherever it runs."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = time.process_time() + children.ru_utime + children.ru_stime
    client = sys.modules.get("vpipe.speech.piper_client")  # never imported just to ask
    worker = getattr(client, "_WORKER", None) if client is not None else None
    if worker is not None:
        total += worker.cpu_seconds()
    return total


def machine_load() -> float:
    """The 1-minute load average (runnable processes), 0.0 where the system does not say."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return 0.0


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def contention(load: float, jobs: int = 1, ncpu: int | None = None) -> float:
    """How much longer than its CPU time a process takes among `load` others on `ncpu` cores
    (for runs recorded before `probe` was)."""
    return max(1.0, (max(0.0, load) + max(1, jobs)) / (ncpu or cores()))


def probe(seconds: float = 0.2) -> float:
    """Contention now: how much longer than its CPU time a busy thread of this process takes
    (1.0 on an idle core), measured by spinning for `seconds`."""
    wall0, cpu0 = time.perf_counter(), time.thread_time()
    while time.perf_counter() - wall0 < seconds:
        pass
    share = (time.thread_time() - cpu0) / (time.perf_counter() - wall0)
    return max(1.0, 1.0 / max(share, 0.01))


def _stretch(run: dict[str, Any]) -> float:
    """The contention a recorded run started under, its own --jobs included."""
    jobs, ncpu = max(1, run.get("jobs", 1)), run.get("cores") or cores()
    if "contention" in run:
        return float(run["contention"]) * max(1.0, jobs / ncpu)
    return contention(run.get("load", 0.0), jobs, ncpu)


def record_run(
    cache_root: Path,
    profile: str,
    row_seconds: list[float],
    shared_seconds: float,
    cached: bool,
    *,
    row_cpu: list[float] | None = None,
    shared_cpu: float | None = None,
    load: float | None = None,
    jobs: int = 1,
    stretch: float | None = None,
) -> None:
    if not row_seconds and not shared_seconds:
        return
    line: dict[str, Any] = {
        "profile": profile,
        "rows": [round(s, 3) for s in row_seconds[:KEEP_ROWS]],
        "shared_seconds": round(shared_seconds, 3),
        "shared_cached": cached,
    }
    if row_cpu is not None and len(row_cpu) == len(row_seconds):
        line.update(
            rows_cpu=[round(s, 3) for s in row_cpu[:KEEP_ROWS]],
            shared_cpu=round(shared_cpu or 0.0, 3),
            load=round(load if load is not None else machine_load(), 2),
            **({"contention": round(stretch, 3)} if stretch is not None else {}),
            ended=round(time.time(), 1),
            cores=cores(),
            jobs=jobs,
        )
    with contextlib.suppress(OSError):
        cache_root.mkdir(parents=True, exist_ok=True)
        with open(cache_root / TIMINGS, "a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")


def _runs(cache_root: Path, profile: str) -> list[dict[str, Any]]:
    try:
        lines = (cache_root / TIMINGS).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    runs = []
    for line in lines:
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(r, dict) and r.get("profile") == profile:
            runs.append(r)
    return runs


def _steady_and_warmup(
    rows_by_run: list[list[float]], warm_runs: list[list[float]] | None = None
) -> tuple[float | None, float, int]:
    """(median steady row, median first-row extra, rows measured). A run's first row also loads
    the models (speech worker, face tracker, speaker encoder): the steady cost of a row is
    measured on the others, the warm-up apart (on `warm_runs` where given: runs like the next)."""
    steady = [s for rows in rows_by_run for s in rows[1:]]
    rows = steady or [s for rows in rows_by_run for s in rows]
    warmups = [r[0] - statistics.median(r[1:]) for r in (warm_runs or rows_by_run) if len(r) > 1]
    return (
        statistics.median(rows) if rows else None,
        max(0.0, statistics.median(warmups)) if warmups else 0.0,
        len(rows),
    )


def calibrated(
    cache_root: Path,
    profile: str,
    load: float | None = None,
    shared_cached: bool | None = None,
    stretch: float | None = None,
    now: float | None = None,
) -> dict[str, Any] | None:
    """{per_row_seconds, warmup_seconds, shared_seconds, shared_cached_seconds, rows_measured,
    basis, ...} from earlier runs of this profile, for a run starting now (contention `stretch`,
    probed when not given; `load` informs older records; `now`: the time, for tests), or None.
    `shared_cached`: whether that run will find the shared analysis in the cache; the models
    the analysis loads (the speech worker) are then loaded by the first row instead."""
    runs = _runs(cache_root, profile)
    if not runs:
        return None
    timed = [r for r in runs if r.get("rows_cpu") and len(r["rows_cpu"]) == len(r.get("rows") or [])]
    if not timed:  # runs recorded before CPU time was: their wall times as they were
        row, warmup, n = _steady_and_warmup([list(r.get("rows") or []) for r in runs[-RECENT_RUNS:]])
        fresh = [r["shared_seconds"] for r in runs if not r.get("shared_cached")]
        warm = [r["shared_seconds"] for r in runs if r.get("shared_cached")]
        return {
            "per_row_seconds": row,
            "warmup_seconds": warmup,
            "shared_seconds": fresh[-1] if fresh else None,
            "shared_cached_seconds": warm[-1] if warm else None,
            "rows_measured": n,
            "basis": "wall",
        }
    recent = timed[-RECENT_RUNS:]
    alike = [list(r["rows_cpu"]) for r in recent if shared_cached is None or r.get("shared_cached") == shared_cached]
    row_cpu, warmup_cpu, n = _steady_and_warmup([list(r["rows_cpu"]) for r in recent], alike)
    # k: wall / (CPU × contention) over the runs' rows; 1.0 is a sequential pipeline that never waits
    ks = []
    for r in recent:
        first = 1 if len(r["rows"]) > 1 else 0  # the steady rows, like the estimate
        cpu = sum(r["rows_cpu"][first:])
        if cpu > 0:
            ks.append(sum(r["rows"][first:]) / cpu / _stretch(r))
    k = statistics.median(ks) if ks else 1.0
    pace, age = _pace(recent[-1], now)
    now = machine_load() if load is None else load
    if pace is not None:
        factor = pace
    else:
        if stretch is None:
            stretch = probe() if any("contention" in r for r in recent) else contention(now)
        factor = k * stretch
    fresh = [r.get("shared_cpu", 0.0) for r in timed if not r.get("shared_cached")]
    warm = [r.get("shared_cpu", 0.0) for r in timed if r.get("shared_cached")]
    return {
        "per_row_seconds": row_cpu * factor if row_cpu is not None else None,
        "warmup_seconds": warmup_cpu * factor,
        "shared_seconds": fresh[-1] * factor if fresh else None,
        "shared_cached_seconds": warm[-1] * factor if warm else None,
        "rows_measured": n,
        "basis": "cpu",
        "per_row_cpu_seconds": round(row_cpu, 3) if row_cpu is not None else None,
        "k": round(k, 3),
        "load": round(now, 2),
        "contention": round(stretch, 3) if stretch is not None else None,
        "pace": round(pace, 3) if pace is not None else None,
        "pace_age_seconds": round(age) if age is not None else None,
    }


def _pace(run: dict[str, Any], now: float | None = None) -> tuple[float | None, float | None]:
    """(wall/CPU of the run's steady rows, seconds since it ended) when it ended less than
    FRESH_SECONDS ago, else (None, None)."""
    ended = run.get("ended")
    age = (time.time() if now is None else now) - ended if isinstance(ended, (int, float)) else None
    if age is None or not -60 <= age <= FRESH_SECONDS:  # a clock set back a little: still recent
        return None, None
    age = max(0.0, age)
    first = 1 if len(run["rows"]) > 1 else 0
    cpu = sum(run["rows_cpu"][first:])
    return (sum(run["rows"][first:]) / cpu, age) if cpu > 0 else (None, None)
