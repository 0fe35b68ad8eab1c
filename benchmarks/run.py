"""Run every benchmark and keep their results: `make bench`.

Each benchmark runs in its own process (a fresh speech worker and fresh caches, so one
cannot warm up the next) and prints JSON lines; they are echoed and collected, with the
machine's description, into benchmarks/out/results.jsonl. Needs ../shared/media.

Usage: python benchmarks/run.py [--only speech|lipsync|voice_match|estimates|preview|review|scaling|noop] [--rows N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = {
    "speech": ["speech.py"],
    "lipsync": ["lipsync.py", "--out", str(HERE / "out" / "lipsync")],
    "voice_match": ["voice_match.py", "--quick"],
    "estimates": ["estimates.py", "--rows", "3"],
    "preview": ["preview.py"],
    "review": ["review.py"],
    "scaling": ["scaling.py"],
    "noop": ["noop.py"],
}


def machine() -> dict[str, object]:
    return {
        "python": platform.python_version(),
        "cpu": platform.processor() or platform.machine(),
        "cores": len(os.sched_getaffinity(0)),
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append")
    parser.add_argument("--rows", type=int, help="rows per clip (speech, lipsync)")
    args = parser.parse_args()
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    results = [{"machine": machine()}]
    failed = []
    for name in args.only or list(BENCHMARKS):
        command = [sys.executable, str(HERE / BENCHMARKS[name][0]), *BENCHMARKS[name][1:]]
        if args.rows and name in ("speech", "lipsync"):
            command += ["--rows", str(args.rows)]
        print(f"== {name}: {' '.join(command[1:])}", flush=True)
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        for line in proc.stdout.splitlines():
            print(line, flush=True)
            if line.startswith("{"):
                results.append({"benchmark": name, **json.loads(line)})
        if proc.returncode != 0:
            failed.append(name)
            print(proc.stderr[-4000:], file=sys.stderr)
    (out / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in results), encoding="utf-8")
    print(f"results: {out / 'results.jsonl'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
