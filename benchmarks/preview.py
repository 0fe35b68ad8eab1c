"""How fast is `vpipe preview RECIPE --row N` (a row's script and new audio, no video)?

On one clip, the source is analysed once (a first preview, of a row kept for that: the
alignment, the speaker's profile and voice statistics go into the cache), then each repetition previews a row whose value was never spoken
before (its speech is synthesized: the speech worker starts, loads the voice, speaks) and
previews it again (everything from the cache). Each `vpipe` runs in its own process, as a
user runs it; its wall time and its CPU time (the process and the speech worker) are
measured from outside, with the machine's contention (`calibration.probe`) next to them,
since a busy machine stretches wall time and not CPU time.

`--against DIR` also times another checkout (e.g. the previous release) in alternation
with this one, on the same cache and machine.

Usage: python benchmarks/preview.py [--clip interview] [--reps 5] [--against DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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
from vpipe.runtime.calibration import probe  # noqa: E402

NEW_VALUES = (
    "coaching",
    "patience",
    "encouragement",
    "clarity",
    "courage",
    "insight",
    "balance",
    "focus",
    "honesty",
    "kindness",
    "wisdom",
    "energy",
)


def _timed(code: Path, *args: str | Path) -> tuple[float, float, dict[str, object]]:
    """(wall s, CPU s of the process and its children, its JSON) of `vpipe ARGS --format json`."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode compiled once, then reused
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "vpipe", *map(str, args), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=code,  # `python -m` puts the working folder first on the path: run each checkout from its own
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(done.stdout[-2000:] + done.stderr[-2000:])
    return wall, cpu, json.loads(done.stdout) if done.stdout.strip().startswith("{") else {}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", default="interview", choices=[c.name for c in CLIPS])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--against", type=Path, help="another checkout to time in alternation")
    args = parser.parse_args()
    clip = next(c for c in CLIPS if c.name == args.clip)
    codes = {"this": ROOT, **({"against": args.against.resolve()} if args.against else {})}
    with tempfile.TemporaryDirectory(prefix="vpipe-preview-") as tmp:  # the recipes, caches and outputs go with it
        work = Path(tmp)
        values = ["assistance", *NEW_VALUES[: args.reps * len(codes)]]
        recipe = write_recipe(work, clip, values, lipsync="retrieve", duration="auto")
        cache = work / "cache"
        wall, cpu, _ = _timed(ROOT, "preview", recipe, "--row", "1", "--cache-dir", cache)
        print(json.dumps({"clip": clip.name, "analyse_source": {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2)}}))
        results: dict[str, list[dict[str, float]]] = {name: [] for name in codes}
        row = 1
        for rep in range(args.reps):
            for name, code in codes.items():
                row += 1
                contention = probe()
                new_wall, new_cpu, out = _timed(code, "preview", recipe, "--row", str(row), "--cache-dir", cache)
                again_wall, again_cpu, _ = _timed(code, "preview", recipe, "--row", str(row), "--cache-dir", cache)
                line = {
                    "code": name,
                    "rep": rep + 1,
                    "row": row,
                    "contention": round(contention, 2),
                    "new_row_wall_s": round(new_wall, 2),
                    "new_row_cpu_s": round(new_cpu, 2),
                    "inside_preview_s": out.get("seconds"),
                    "cached_row_wall_s": round(again_wall, 2),
                    "cached_row_cpu_s": round(again_cpu, 2),
                }
                results[name].append(line)  # type: ignore[arg-type]
                print(json.dumps(line), flush=True)
        for name, lines in results.items():
            med = {
                k: statistics.median(float(x[k]) for x in lines)
                for k in lines[0]
                if k.endswith("_s") and k != "inside_preview_s"
            }
            med["contention"] = statistics.median(float(x["contention"]) for x in lines)
            print(
                json.dumps({"summary": name, "code": str(codes[name]), "reps": len(lines), "medians": med}), flush=True
            )
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
