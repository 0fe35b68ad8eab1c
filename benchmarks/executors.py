"""Local executor vs Ray executor on this machine: rows per minute and peak memory.

Both render the same N rows (interview clip, retrieve lip-sync, default 20) with the shared
analysis already in the cache (a `vpipe build` first) and `--force` (every row computed):
`vpipe run --jobs J` (local processes) and `vpipe run --executor ray --jobs J` (a local
Ray instance with J CPUs, started by the run). Each run is a fresh process tree; its peak
memory is the largest sum of resident memory over the process and all its descendants (the
Ray driver, GCS, raylet and workers included), sampled every 0.1 s from /proc. Prints one
JSON line per executor (medians over --repeat runs). Needs ../shared/media.

Usage: python benchmarks/executors.py [--rows 20] [--jobs 2] [--repeat 1]
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

from benchmarks.common import MEDIA  # noqa: E402
from tests.clips import INTERVIEW  # noqa: E402

WORDS = [
    "feedback",
    "support",
    "advice",
    "guidance",
    "mentoring",
    "direction",
    "patience",
    "courage",
    "money",
    "time",
    "training",
    "coffee",
    "credit",
    "backup",
    "comments",
    "answers",
    "coaching",
    "clarity",
    "input",
    "review",
]


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def _tree_rss(root: int) -> int:
    tree, total, todo = _children(), 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(tree.get(pid, []))
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def measure(command: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss(proc.pid))
        time.sleep(0.1)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{out}\n{err[-3000:]}")
    return time.perf_counter() - start, peak, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vpipe-bench-executors-") as tmp:  # recipe, cache and outputs go with it
        return compare(Path(tmp), args)


def compare(work: Path, args: argparse.Namespace) -> int:
    words = (WORDS * (args.rows // len(WORDS) + 1))[: args.rows]
    (work / "rows.csv").write_text("id,value\n" + "".join(f"r{i + 1},{w}\n" for i, w in enumerate(words)))
    recipe = work / "recipe.yaml"
    recipe.write_text(
        f"""vpipe: 1
source:
  video: {MEDIA / INTERVIEW.file}
  transcript: {INTERVIEW.transcript}
slots:
  value: {{say: {INTERVIEW.slot_word}}}
template: "{INTERVIEW.template}"
rows: {{csv: rows.csv, id: id}}
lipsync: {{model: retrieve}}
output: {{path: "out/{{{{ row_id }}}}.mp4"}}
"""
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VPIPE_CACHE_DIR": str(work / "cache")}
    vpipe = [sys.executable, "-m", "vpipe"]
    subprocess.run([*vpipe, "build", str(recipe)], check=True, capture_output=True, env=env)
    runs = {
        "local": [*vpipe, "run", str(recipe), "--no-progress", "--force", "--jobs", str(args.jobs)],
        "ray": [*vpipe, "run", str(recipe), "--no-progress", "--force", "--jobs", str(args.jobs), "--executor", "ray"],
    }
    for name, command in runs.items():
        seconds, peaks = [], []
        for _ in range(args.repeat):
            s, peak, _ = measure(command, env)
            seconds.append(s)
            peaks.append(peak)
        wall = statistics.median(seconds)
        print(
            json.dumps(
                {
                    "executor": name,
                    "rows": args.rows,
                    "jobs": args.jobs,
                    "seconds": round(wall, 1),
                    "rows_per_minute": round(args.rows / wall * 60, 2),
                    "peak_rss_mb": round(statistics.median(peaks) / 2**20),
                    "repeats": args.repeat,
                }
            ),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
