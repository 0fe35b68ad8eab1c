"""How honest is `vpipe build`'s estimate? For each clip and row count: one run calibrates
the cache (its rows, the shared analysis), then, several times over, `vpipe build` estimates
and `vpipe run --force` renders other rows; the estimate is compared with what that run
measured. Rows are re-rendered from scratch each time (`--force`: nothing of the row reused),
so every repetition is a real run, calibrated from the runs before it in the same cache.

Each `vpipe` runs in its own process, as a user runs it (so every run pays for starting up
and loading the models once). Ratios per repetition (measured / estimated; the bar: 0.7-1.3):

- row: the median steady row (a run's first row also loads the models) against the
  estimate per row;
- run: the whole command up to its last row — its start-up (imports, reading and compiling
  the recipe), the shared work, the rows; not the report written after them — against the
  estimate's start-up + shared + warm-up + rows × per row;
- row CPU: the median steady row's CPU seconds (this process, ffmpeg, the speech worker)
  against the CPU seconds the estimate starts from: the work, whatever the machine's load;
- the parts: start-up and warm-up (the first row's extra over a steady row) apart.

Prints one JSON line per repetition and one summary line per (clip, rows): the medians.

Usage: python benchmarks/estimates.py [--clip interview] [--rows 3] [--reps 3] [--lipsync retrieve]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.clips import CLIPS, HELD_OUT  # noqa: E402
from tests.e2e.helpers import write_recipe  # noqa: E402


def _vpipe(*args: str | Path) -> dict[str, object]:
    """`vpipe ARGS --format json` in its own process, as a user runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "vpipe", *map(str, args), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
        env=_env(),
    )
    if done.returncode not in (0, 1):
        raise SystemExit(done.stdout[-2000:] + done.stderr[-2000:])
    result: dict[str, object] = json.loads(done.stdout)
    return result


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode compiled once, then reused
    return env


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def measure(clip_name: str, lipsync: str, rows: int, reps: int) -> list[dict[str, object]]:
    clip = next(c for c in CLIPS + HELD_OUT if c.name == clip_name)
    with tempfile.TemporaryDirectory(
        prefix=f"vpipe-estimates-{clip.name}-"
    ) as tmp:  # the recipes, caches and outputs go with it
        work = Path(tmp)
        values = (clip.values * 4)[: 2 * rows]
        recipe = write_recipe(work, clip, values, lipsync=lipsync, duration="auto")
        cache = work / "cache"
        first = _vpipe("run", recipe, "--no-progress", "--rows", f"1:{rows}", "--cache-dir", cache)
        results = []
        for rep in range(reps):
            load_before = _load()
            estimate = _vpipe("build", recipe, "--cache-dir", cache)["plan"]["estimate"]  # type: ignore[index]
            start = time.perf_counter()
            second = _vpipe(
                "run", recipe, "--no-progress", "--force", "--rows", f"{rows + 1}:{2 * rows}", "--cache-dir", cache
            )
            wall = time.perf_counter() - start
            ok = [r for r in second["rows"] if r["status"] == "ok"]  # type: ignore[union-attr]
            seconds = [r["seconds"] for r in ok]
            steady = statistics.median(seconds[1:] if len(seconds) > 1 else seconds)
            cpus = [float(r.get("cpu_seconds") or 0.0) for r in ok]
            steady_cpu = statistics.median(cpus[1:] if len(cpus) > 1 else cpus)
            per_row = float(estimate["per_row_seconds"])  # type: ignore[index]
            est_cpu = (estimate.get("calibration") or {}).get("per_row_cpu_seconds")  # type: ignore[union-attr]
            parts = {k: float(estimate.get(k) or 0.0) for k in ("startup_seconds", "shared_seconds", "warmup_seconds")}  # type: ignore[union-attr]
            run_estimate = sum(parts.values()) + per_row * len(ok)
            startup = float(second.get("startup_seconds") or 0.0)  # type: ignore[arg-type]
            measured_run = startup + float(second["seconds"])  # type: ignore[arg-type]
            warmup = seconds[0] - steady if len(seconds) > 1 else 0.0
            results.append(
                {
                    "clip": clip.name,
                    "lipsync": lipsync,
                    "rows": rows,
                    "rep": rep + 1,
                    "load": [load_before, _load()],
                    "first_run_row_seconds": [r["seconds"] for r in first["rows"]] if rep == 0 else None,  # type: ignore[index,union-attr]
                    "estimate_per_row_s": per_row,
                    "estimate_parts_s": parts,
                    "estimate_run_s": round(run_estimate, 2),
                    "estimate_from": estimate.get("from"),  # type: ignore[union-attr]
                    "row_seconds": seconds,
                    "row_cpu_seconds": [r.get("cpu_seconds") for r in ok],
                    "steady_row_s": round(steady, 3),
                    "estimate_per_row_cpu_s": est_cpu,
                    "steady_row_cpu_s": round(steady_cpu, 3),
                    "row_cpu_ratio": round(steady_cpu / est_cpu, 3) if est_cpu else None,
                    "row_ratio": round(steady / per_row, 3),
                    "startup_s": round(startup, 3),
                    "startup_ratio": round(startup / parts["startup_seconds"], 3) if parts["startup_seconds"] else None,
                    "warmup_s": round(warmup, 3),
                    "warmup_ratio": round(warmup / parts["warmup_seconds"], 3) if parts["warmup_seconds"] else None,
                    "run_s": round(measured_run, 3),
                    "run_ratio": round(measured_run / run_estimate, 3),
                    "process_wall_s": round(wall, 1),
                    "qc_share_per_row": [round(r["timings"].get("report", 0.0) / r["seconds"], 3) for r in ok],
                }
            )
            print(json.dumps(results[-1]), flush=True)
        return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", action="append", choices=[c.name for c in CLIPS + HELD_OUT], help="portrait: the held-out clip")
    parser.add_argument("--lipsync", default="retrieve")
    parser.add_argument("--rows", type=int, action="append", help="rows per run (repeat for several counts)")
    parser.add_argument("--reps", type=int, default=3, help="estimate-then-run repetitions per clip and count")
    args = parser.parse_args()
    for name in args.clip or [c.name for c in CLIPS]:
        for rows in args.rows or [3]:
            results = measure(name, args.lipsync, rows, args.reps)
            row_ratios = [float(r["row_ratio"]) for r in results]  # type: ignore[arg-type]
            run_ratios = [float(r["run_ratio"]) for r in results]  # type: ignore[arg-type]
            print(
                json.dumps(
                    {
                        "summary": name,
                        "rows": rows,
                        "reps": len(results),
                        "row_ratio_median": statistics.median(row_ratios),
                        "row_ratios": row_ratios,
                        "run_ratio_median": statistics.median(run_ratios),
                        "run_ratios": run_ratios,
                        "row_cpu_ratios": [r["row_cpu_ratio"] for r in results],
                        "within_30_percent": all(0.7 <= x <= 1.3 for x in row_ratios + run_ratios),
                    }
                ),
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
