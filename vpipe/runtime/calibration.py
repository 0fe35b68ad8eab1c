"""Honest estimates: what earlier runs of the same kind measured, kept beside the cache.

A run's wall time on a shared machine is its CPU work stretched by whatever else runs: the
same row took 8 s and 29 s within minutes while other processes came and went. So every run
appends to `CACHE/timings.jsonl` both clocks of each of its parts — each rendered row (CPU of
this process, its finished child processes (ffmpeg) and the speech worker), the shared
analysis, the command's start-up (from the process's start: imports, the recipe read and
compiled) — with how contended the machine was. `vpipe build` then estimates a run as

    start-up + shared + warm-up + rows × per row

- per row  = median CPU seconds of the steady rows (a run's first row excluded);
- warm-up  = the first row's extra CPU over a steady row (loading the models, once per run),
             from runs with the same shared-cache state: on a cold cache the speech worker
             starts in the shared analysis, on a warm one in the first row — a warm run with
             only cold runs to learn from adds the worker's CPU of their shared analysis;
- start-up = median CPU before the run began: the imports (the same whatever the cache
             holds) plus compiling the recipe (from runs in the same cache state: on a cold
             cache it analyses the source); shared = the shared analysis's CPU (fresh, or
             found in the cache);
each part's CPU × one stretch, the same for all: measured part by part, the paces swung apart
from run to run (the first row's model loading went at 0.56× to 1.8× the rows' pace in
consecutive runs) while whole runs kept theirs. The stretch is, in this order:
- the pace of the last run, when it ended less than `FRESH_SECONDS` ago: its wall seconds
  over its CPU seconds, all of it (on a busy shared machine the best forecast of the next
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
    return time.process_time() + children.ru_utime + children.ru_stime + worker_cpu()


def worker_cpu() -> float:
    """CPU seconds the speech worker has used so far (0.0 before it starts)."""
    client = sys.modules.get("vpipe.speech.piper_client")  # never imported just to ask
    worker = getattr(client, "_WORKER", None) if client is not None else None
    return worker.cpu_seconds() if worker is not None else 0.0


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


def process_startup() -> tuple[float, float] | None:
    """(wall seconds since this process started, CPU seconds it and its finished children have
    used since): a command's start-up — imports, reading and compiling the recipe — before its
    work begins. None where the system does not say (Linux /proc only)."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: start, in ticks after boot
        age = time.clock_gettime(time.CLOCK_BOOTTIME) - started
    except (OSError, ValueError, IndexError, AttributeError):
        return None
    return (age, cpu_clock()) if age >= 0 else None


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
    startup: tuple[float, float] | None = None,
    compiled_in: tuple[float, float] | None = None,
    shared_worker_cpu: float | None = None,
) -> None:
    """Append a run's timings: each rendered row's wall and CPU seconds, the shared analysis's,
    the command's start-up (`startup`: wall, CPU; of which compiling the recipe: `compiled_in`) and the CPU the speech worker spent during
    the shared analysis (`shared_worker_cpu`: on a cold cache it starts there, loading its voice)."""
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
            **({"startup": [round(startup[0], 3), round(startup[1], 3)]} if startup is not None else {}),
            **({"compile": [round(compiled_in[0], 3), round(compiled_in[1], 3)]} if compiled_in is not None else {}),
            **({"shared_worker_cpu": round(shared_worker_cpu, 3)} if shared_worker_cpu is not None else {}),
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


def _parts(run: dict[str, Any]) -> dict[str, float]:
    """CPU seconds of a CPU-timed run's parts: "row" (the median steady row), "warmup" (the
    first row's extra over it: loading models), "startup" (before the run began), "shared"."""
    cpus = list(run["rows_cpu"])
    out: dict[str, float] = {"shared": float(run.get("shared_cpu", 0.0))}
    if len(cpus) > 1:
        out["row"] = statistics.median(cpus[1:])
        out["warmup"] = max(0.0, cpus[0] - out["row"])
    elif cpus:
        out["row"] = cpus[0]
    if isinstance(run.get("startup"), list) and len(run["startup"]) == 2:
        out["startup"] = float(run["startup"][1])
    return out


def _whole_pace(run: dict[str, Any]) -> float | None:
    """Wall seconds over CPU seconds of the whole run: its start-up, shared part and rows.
    One factor for every part: measured part by part, the paces swung apart from run to run
    (the first row's model loading went at 0.56× to 1.8× the rows' pace in consecutive runs,
    as other processes came and went) while whole runs kept theirs."""
    startup = run.get("startup") if isinstance(run.get("startup"), list) else None
    wall = sum(run["rows"]) + float(run.get("shared_seconds", 0.0)) + (startup[0] if startup else 0.0)
    cpu = sum(run["rows_cpu"]) + float(run.get("shared_cpu", 0.0)) + (startup[1] if startup else 0.0)
    return wall / cpu if cpu > 0 else None


def _median_cpu(runs: list[dict[str, Any]], name: str) -> float | None:
    found = [p for r in runs if (p := _parts(r).get(name)) is not None]
    return statistics.median(found) if found else None


def _warmup_cpu(recent: list[dict[str, Any]], shared_cached: bool | None) -> float:
    """CPU seconds of the first row's model loading in a run like the next: from runs with the
    same shared-cache state; a warm run after cold ones only loads, in its first row, what the
    cold runs loaded in their shared analysis (the speech worker): that is added."""
    multi = [r for r in recent if len(r["rows"]) > 1]
    alike = [r for r in multi if shared_cached is None or bool(r.get("shared_cached")) == shared_cached]
    if alike or not multi:
        return _median_cpu(alike, "warmup") or 0.0
    base = _median_cpu(multi, "warmup") or 0.0
    if shared_cached:
        moved = [float(r["shared_worker_cpu"]) for r in multi if "shared_worker_cpu" in r]
        base += statistics.median(moved) if moved else 0.0
    return base


def _startup_cpu(recent: list[dict[str, Any]], shared_cached: bool | None) -> float | None:
    """Start-up CPU of a run like the next: the part before compiling (imports: the same
    whatever the cache holds), median of all runs, plus compiling, median of the runs with the
    same shared-cache state (on a cold cache compiling analyses the source: seconds more; a
    warm compile with none measured counts as nothing). Older lines: whole start-ups."""
    timed = [r for r in recent if "startup" in r]
    alike = [r for r in timed if shared_cached is None or bool(r.get("shared_cached")) == shared_cached]
    if not timed or not all("compile" in r for r in timed):
        return _median_cpu(alike or timed, "startup")
    rest = statistics.median(max(0.0, r["startup"][1] - r["compile"][1]) for r in timed)
    return rest + (statistics.median(r["compile"][1] for r in alike) if alike else 0.0)


def calibrated(
    cache_root: Path,
    profile: str,
    load: float | None = None,
    shared_cached: bool | None = None,
    stretch: float | None = None,
    now: float | None = None,
) -> dict[str, Any] | None:
    """A run starting now, from earlier runs of this profile, or None: {per_row_seconds,
    warmup_seconds, shared_seconds, shared_cached_seconds, startup_seconds, rows_measured,
    basis, ...}. Each part is its CPU seconds × the stretch now: the pace of the last run (wall
    over CPU seconds, all of it) when it ended less than FRESH_SECONDS ago, else k × contention (`stretch`, probed when not given; `load` informs
    older records; `now`: the time, for tests). `shared_cached`: whether that run will find
    the shared analysis in the cache (the models it loads are then loaded by the first row)."""
    runs = _runs(cache_root, profile)
    if not runs:
        return None
    timed = [r for r in runs if r.get("rows_cpu") and len(r["rows_cpu"]) == len(r.get("rows") or [])]
    if not timed:
        return _wall_only(runs)
    recent = timed[-RECENT_RUNS:]
    row_cpu = _median_cpu(recent, "row")
    k = _k(recent)
    pace, age = _pace(recent[-1], now)
    now_load = machine_load() if load is None else load
    if pace is not None:
        factor = pace
    else:
        if stretch is None:
            stretch = probe() if any("contention" in r for r in recent) else contention(now_load)
        factor = k * stretch
    warmup_cpu = _warmup_cpu(recent, shared_cached)
    startup_cpu = _startup_cpu(recent, shared_cached)
    fresh = [r for r in timed if not r.get("shared_cached")]
    warm = [r for r in timed if r.get("shared_cached")]

    def seconds(cpu: float | None) -> float | None:
        return cpu * factor if cpu is not None else None

    return {
        "per_row_seconds": row_cpu * factor if row_cpu is not None else None,
        "warmup_seconds": warmup_cpu * factor,
        "shared_seconds": seconds(fresh[-1].get("shared_cpu", 0.0)) if fresh else None,
        "shared_cached_seconds": seconds(warm[-1].get("shared_cpu", 0.0)) if warm else None,
        "startup_seconds": seconds(startup_cpu),
        "rows_measured": sum(max(1, len(r["rows"]) - 1) for r in recent),
        "basis": "cpu",
        "per_row_cpu_seconds": round(row_cpu, 3) if row_cpu is not None else None,
        "warmup_cpu_seconds": round(warmup_cpu, 3),
        "startup_cpu_seconds": round(startup_cpu, 3) if startup_cpu is not None else None,
        "k": round(k, 3),
        "load": round(now_load, 2),
        "contention": round(stretch, 3) if stretch is not None else None,
        "pace": round(pace, 3) if pace is not None else None,
        "pace_age_seconds": round(age) if age is not None else None,
    }


def _k(recent: list[dict[str, Any]]) -> float:
    """wall / (CPU × contention) over whole runs; 1.0 is a sequential pipeline that never waits."""
    ks = [pace / _stretch(r) for r in recent if (pace := _whole_pace(r)) is not None]
    return statistics.median(ks) if ks else 1.0


def _wall_only(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """From runs recorded before CPU time was: their wall times as they were."""
    rows_by_run = [list(r.get("rows") or []) for r in runs[-RECENT_RUNS:]]
    steady = [s for rows in rows_by_run for s in rows[1:]] or [s for rows in rows_by_run for s in rows]
    warmups = [r[0] - statistics.median(r[1:]) for r in rows_by_run if len(r) > 1]
    fresh = [r["shared_seconds"] for r in runs if not r.get("shared_cached")]
    warm = [r["shared_seconds"] for r in runs if r.get("shared_cached")]
    return {
        "per_row_seconds": statistics.median(steady) if steady else None,
        "warmup_seconds": max(0.0, statistics.median(warmups)) if warmups else 0.0,
        "shared_seconds": fresh[-1] if fresh else None,
        "shared_cached_seconds": warm[-1] if warm else None,
        "startup_seconds": None,
        "rows_measured": len(steady),
        "basis": "wall",
    }


def _pace(run: dict[str, Any], now: float | None = None) -> tuple[float | None, float | None]:
    """(the run's whole pace, seconds since it ended) when it ended less than FRESH_SECONDS
    ago, else (None, None)."""
    ended = run.get("ended")
    age = (time.time() if now is None else now) - ended if isinstance(ended, (int, float)) else None
    if age is None or not -60 <= age <= FRESH_SECONDS:  # a clock set back a little: still recent
        return None, None
    pace = _whole_pace(run)
    return (pace, max(0.0, age)) if pace is not None else (None, None)
