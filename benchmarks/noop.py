"""Fast no-op and 10k-row planning (part of `make bench`).

1. Re-run of up-to-date rows: the glasses clip (4.9 s) as it is and looped to about 30 s
   (ffmpeg concat, stream copy, in this benchmark's temporary folder: nothing is committed),
   N rows rendered once (`lipsync: none`: the no-op path does not depend on the renderer;
   8 distinct values, so half the rows are copies of the others (dedupe)),
   then `vpipe run` again, all rows and one row, each repeated; per row = (all − one) / (N − 1)
   of the medians, start-up = the one-row run. Target: ≤ 50 ms per row plus start-up, the
   same for both lengths.
2. Planning: `vpipe build` of a 10,000-row CSV (the source's alignment cached by a first
   build), repeated. Target: < 10 s, peak RSS < 2 GB.
3. Running: `vpipe run` of 1,000 and 10,000 rows that the frontend refuses (nothing is
   rendered): the runtime's own CPU and memory per row (reading, deciding, recording a row).
   It streams rows and outcomes, so peak RSS should barely move from 1,000 to 10,000 rows.

Seconds are CPU seconds of the `vpipe` process (user + system; the machine this ran on was
shared, wall seconds are printed beside them), medians of the repeats.

Usage: python benchmarks/noop.py [--rows 16] [--repeat 5] [--plan-rows 10000] [--lengths 5,30]
                                [--run-rows 1000,10000]
Prints JSON lines and a Markdown table (also written to benchmarks/out/noop.md).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import ROOT, looped_recipe, median
from tests.clips import GLASSES

OUT = Path(__file__).resolve().parent / "out"
VALUES = ("oversight", "legislation", "market", "supervision", "framework", "policy", "budget", "strategy")
_WRAP = (
    "import resource, subprocess, sys, time; t = time.perf_counter(); "
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode; "
    "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
    "print(code, time.perf_counter() - t, u.ru_maxrss, u.ru_utime + u.ru_stime)"
)


def vpipe(*args: str | Path, exit_code: int = 0) -> dict[str, float]:
    """One `vpipe` command in a fresh process: exit code, wall and CPU seconds, peak RSS (MB)."""
    command = [sys.executable, "-m", "vpipe", *map(str, args)]
    proc = subprocess.run([sys.executable, "-c", _WRAP, *command], capture_output=True, text=True, cwd=ROOT, check=True)
    code, wall, rss_kb, cpu = proc.stdout.split()
    if int(code) != exit_code:
        raise RuntimeError(f"{' '.join(command)} exited {code}")
    return {"wall": float(wall), "cpu": float(cpu), "rss_mb": int(rss_kb) / 1024}


def looped(seconds: float, work: Path) -> tuple[Path, int]:
    """The glasses clip repeated to about `seconds` (stream copy), and how many times."""
    import imageio_ffmpeg

    times = max(1, round(seconds / clip_seconds()))
    if times == 1:
        return GLASSES.source, 1
    listing = work / f"loop-{times}.txt"
    listing.write_text("".join(f"file '{GLASSES.source}'\n" for _ in range(times)), encoding="utf-8")
    target = work / f"source-{times}x.mp4"
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    subprocess.run(
        [ffmpeg, "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(target)],
        check=True,
    )
    return target, times


def clip_seconds() -> float:
    from vpipe.probe import probe_video

    return float(probe_video(GLASSES.source).duration)


def write_recipe(work: Path, source: Path, times: int, rows: int, lipsync: str = "none") -> Path:
    return looped_recipe(work, source, times, VALUES, rows, name="noop", duration="fit", lipsync=lipsync)


def rerun(seconds: float, rows: int, repeat: int, work: Path, lipsync: str = "none") -> dict[str, Any]:
    source, times = looped(seconds, work)
    recipe = write_recipe(work / f"rerun-{times}x", source, times, rows, lipsync)
    cache = work / "cache"
    vpipe("run", recipe, "--jobs", "1", "--no-progress", "--cache-dir", cache)  # render every row once
    everything = [vpipe("run", recipe, "--no-progress", "--cache-dir", cache) for _ in range(repeat)]
    one = [vpipe("run", recipe, "--rows", "1", "--no-progress", "--cache-dir", cache) for _ in range(repeat)]
    all_cpu, one_cpu = median([r["cpu"] for r in everything]), median([r["cpu"] for r in one])
    all_wall, one_wall = median([r["wall"] for r in everything]), median([r["wall"] for r in one])
    return {
        "case": "rerun",
        "lipsync": lipsync,
        "source_seconds": round(times * clip_seconds(), 1),
        "rows": rows,
        "repeat": repeat,
        "per_row_cpu_ms": round(1000 * (all_cpu - one_cpu) / (rows - 1), 1),
        "per_row_wall_ms": round(1000 * (all_wall - one_wall) / (rows - 1), 1),
        "startup_cpu_s": round(one_cpu, 2),
        "startup_wall_s": round(one_wall, 2),
        "all_rows_cpu_s": round(all_cpu, 2),
    }


def plan(rows: int, repeat: int, work: Path) -> dict[str, Any]:
    recipe = write_recipe(work / "plan", GLASSES.source, 1, rows)
    cache = work / "cache"
    vpipe("build", recipe, "--cache-dir", cache)  # aligns the source once (cached)
    runs = [vpipe("build", recipe, "--cache-dir", cache) for _ in range(repeat)]
    return {
        "case": "plan",
        "rows": rows,
        "repeat": repeat,
        "cpu_s": round(median([r["cpu"] for r in runs]), 2),
        "wall_s": round(median([r["wall"] for r in runs]), 2),
        "peak_rss_mb": round(max(r["rss_mb"] for r in runs)),
    }


def run_rows(counts: list[int], repeat: int, work: Path) -> dict[str, Any]:
    """`vpipe run` over CSVs of each of `counts` rows that the frontend refuses (a control
    character in each value: nothing is rendered, and the shared work is not needed), so what
    is measured is the runtime's own cost of a row: reading it, deciding it, its outcome, its
    manifest record, the view over the runs and the review report. Per row = the difference
    of the medians over the difference of the counts."""
    runs: dict[int, list[dict[str, float]]] = {}
    for n in counts:
        recipe = write_recipe(work / f"run-{n}", GLASSES.source, 1, n)
        (recipe.parent / "rows.csv").write_text(
            "id,value\n" + "".join(f"r{i + 1},bad\x01word{i}\n" for i in range(n)), encoding="utf-8"
        )
        runs[n] = []
        for _ in range(repeat):  # a fresh output folder each time: one run's records, not all of them
            out = recipe.parent / "out"
            if out.exists():
                shutil.rmtree(out)
            runs[n].append(vpipe("run", recipe, "--jobs", "1", "--no-progress", "--cache-dir", work / "cache", exit_code=1))
    lo, hi = min(counts), max(counts)
    cpu = {n: median([r["cpu"] for r in rs]) for n, rs in runs.items()}
    rss = {n: max(r["rss_mb"] for r in rs) for n, rs in runs.items()}
    return {
        "case": "run",
        "rows": hi,
        "repeat": repeat,
        "cpu_s": round(cpu[hi], 2),
        "wall_s": round(median([r["wall"] for r in runs[hi]]), 2),
        "peak_rss_mb": round(rss[hi]),
        "peak_rss_mb_fewer": {str(lo): round(rss[lo])},
        "per_row_cpu_ms": round(1000 * (cpu[hi] - cpu[lo]) / (hi - lo), 2),
        "per_row_rss_kb": round(1024 * (rss[hi] - rss[lo]) / (hi - lo), 2),
    }


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| case | source | rows | per row, CPU ms (wall) | start-up / total, CPU s (wall) | peak RSS, MB |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        if r["case"] == "rerun":
            lines.append(
                f"| no-op re-run ({r['lipsync']}) | {r['source_seconds']} s | {r['rows']} | {r['per_row_cpu_ms']} ({r['per_row_wall_ms']}) "
                f"| {r['startup_cpu_s']} ({r['startup_wall_s']}) | |"
            )
        elif r["case"] == "run":
            lines.append(
                f"| `vpipe run`, rows refused | 4.9 s | {r['rows']:,} | {r['per_row_cpu_ms']} | {r['cpu_s']} ({r['wall_s']}) "
                f"| {r['peak_rss_mb']} ({r['per_row_rss_kb']} kB a row) |"
            )
        else:
            lines.append(
                f"| `vpipe build` | 4.9 s | {r['rows']:,} | | {r['cpu_s']} ({r['wall_s']}) | {r['peak_rss_mb']} |"
            )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--plan-rows", type=int, default=10_000)
    parser.add_argument("--lengths", default="5,30")
    parser.add_argument("--run-rows", default="1000,10000", help="row counts of the refused-rows run (empty: none)")
    parser.add_argument("--lipsync", default="none", help="the rows' lip-sync model (none renders fastest)")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="vpipe-noop-") as tmp:
        work = Path(tmp)
        for seconds in (float(x) for x in args.lengths.split(",") if x):
            results.append(rerun(seconds, args.rows, args.repeat, work, args.lipsync))
            print(json.dumps(results[-1]), flush=True)
        if args.plan_rows:
            results.append(plan(args.plan_rows, args.repeat, work))
            print(json.dumps(results[-1]), flush=True)
        if args.run_rows:
            results.append(run_rows([int(x) for x in args.run_rows.split(",")], args.repeat, work))
            print(json.dumps(results[-1]), flush=True)
    text = table(results)
    OUT.mkdir(exist_ok=True)
    (OUT / "noop.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
