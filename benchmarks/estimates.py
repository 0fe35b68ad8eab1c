"""How honest is `vpipe build`'s estimate? For each clip: run a few rows (calibration), ask
`vpipe build` for its per-row estimate, run a few other rows and compare the estimate with
their measured median. Also the QC share of a row's time.

Each `vpipe` runs in its own process, as a user runs it (so every run pays for loading the
models once). Prints one JSON line per clip: the estimate, the measured per-row median of
the second run, their ratio (the bar: 0.7-1.3 on the machine it ran on), the QC share of
each row's time.

Usage: python benchmarks/estimates.py [--clip interview] [--lipsync retrieve] [--rows 3]
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

from tests.clips import CLIPS  # noqa: E402
from tests.e2e.helpers import write_recipe  # noqa: E402


def _vpipe(*args: str | Path) -> dict[str, object]:
    """`vpipe ARGS --format json` in its own process, as a user runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "vpipe", *map(str, args), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if done.returncode not in (0, 1):
        raise SystemExit(done.stdout[-2000:] + done.stderr[-2000:])
    result: dict[str, object] = json.loads(done.stdout)
    return result


def measure(clip_name: str, lipsync: str, rows: int) -> dict[str, object]:
    clip = next(c for c in CLIPS if c.name == clip_name)
    work = Path(tempfile.mkdtemp(prefix=f"vpipe-estimates-{clip.name}-"))
    values = (clip.values * 3)[: 2 * rows]
    recipe = write_recipe(work, clip, values, lipsync=lipsync, duration="auto")
    cache = work / "cache"
    first = _vpipe("run", recipe, "--no-progress", "--rows", f"1:{rows}", "--cache-dir", cache)
    estimate = _vpipe("build", recipe, "--cache-dir", cache)["plan"]["estimate"]  # type: ignore[index]
    start = time.perf_counter()
    second = _vpipe("run", recipe, "--no-progress", "--rows", f"{rows + 1}:{2 * rows}", "--cache-dir", cache)
    wall = time.perf_counter() - start
    seconds = [r["seconds"] for r in second["rows"] if r["status"] == "ok"]  # type: ignore[index,union-attr]
    measured = statistics.median(seconds)
    qc = [r for r in second["rows"] if r["status"] == "ok"]  # type: ignore[union-attr]
    return {
        "clip": clip.name,
        "lipsync": lipsync,
        "rows": rows,
        "first_run_row_seconds": [r["seconds"] for r in first["rows"]],  # type: ignore[index,union-attr]
        "estimate_per_row_s": estimate["per_row_seconds"],  # type: ignore[index]
        "estimate_total_s": estimate["total_seconds"],  # type: ignore[index]
        "estimate_from": estimate.get("from"),  # type: ignore[union-attr]
        "measured_row_seconds": seconds,
        "measured_median_s": round(measured, 3),
        "ratio": round(measured / float(estimate["per_row_seconds"]), 3),  # type: ignore[index]
        "qc_share_per_row": [round(r["timings"].get("report", 0.0) / r["seconds"], 3) for r in qc],
        "run_wall_s": round(wall, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", action="append", choices=[c.name for c in CLIPS])
    parser.add_argument("--lipsync", default="retrieve")
    parser.add_argument("--rows", type=int, default=3)
    args = parser.parse_args()
    for name in args.clip or [c.name for c in CLIPS]:
        print(json.dumps(measure(name, args.lipsync, args.rows)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
