"""What the HTML review costs a row, against the recording's length.

For each length the glasses clip is looped as benchmarks/scaling.py loops it, `vpipe run`
renders N rows (fresh process, fresh cache), and then `write_report` is timed on that run's
folder (its pictures removed before each time, so every row's pictures are made again):
- review: as it is (the waveform decodes the output only over the slots: report/wave.py);
- whole: every row's waveform from a whole decode of its output (what the review did before,
  at the track's own rate), the same run;
- source: decoding the source's sound once (shared by every row of the report).
CPU seconds of this process, medians of --repeat; per row = (report − source) / N.

Usage: python benchmarks/report_cost.py [--lengths 5,120] [--rows 4] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import MEDIA  # noqa: E402
from benchmarks.scaling import looped, vpipe_run, write_recipe  # noqa: E402
from tests.clips import GLASSES  # noqa: E402


def _cpu(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return statistics.median(times)


def bench(seconds: float, rows: int, repeat: int, work: Path) -> dict[str, Any]:
    from vpipe.probe import probe_video
    from vpipe.report import REPORT, wave, write_report

    work.mkdir(parents=True)
    source, times = looped(MEDIA / GLASSES.file, seconds, work)
    recipe = write_recipe(work, source, times, rows)
    run = vpipe_run(recipe, work / "cache")
    assert run["code"] == 0 and all(r["status"] == "ok" for r in run["rows"]), "the run failed"
    folder = next((recipe.parent / "out" / "runs").iterdir())

    def report() -> None:
        shutil.rmtree(folder / REPORT, ignore_errors=True)
        write_report(folder)

    review = _cpu(report, repeat)
    fast = wave._spliced
    wave._spliced = lambda *a: None  # type: ignore[assignment]  # every waveform from the whole decode
    try:
        whole = _cpu(report, repeat)
    finally:
        wave._spliced = fast  # type: ignore[assignment]
    once = _cpu(lambda: wave.read_recording(source), repeat)
    return {
        "seconds": round(probe_video(source).duration, 1),
        "rows": rows,
        "report_cpu_s": round(review, 3),
        "whole_decode_cpu_s": round(whole, 3),
        "source_once_cpu_s": round(once, 3),
        "per_row_cpu_s": round((review - once) / rows, 4),
        "per_row_whole_cpu_s": round((whole - once) / rows, 4),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", default="5,120", help="source lengths in seconds (the clip looped)")
    parser.add_argument("--rows", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="vpipe-report-cost-") as tmp:
        for seconds in [float(x) for x in args.lengths.split(",") if x]:
            result = bench(seconds, args.rows, args.repeat, Path(tmp) / f"L{seconds:g}")
            print(json.dumps(result), flush=True)
            results.append(result)
    print("\n| source | rows | review CPU s | per row | per row, whole decode | source once |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['seconds']:g} s | {r['rows']} | {r['report_cpu_s']:.2f} | {r['per_row_cpu_s']:.3f} | "
            f"{r['per_row_whole_cpu_s']:.3f} | {r['source_once_cpu_s']:.2f} |"
        )
    if len(results) >= 2:
        a, b = results[0], results[-1]
        print(f"\nper-row growth {a['seconds']:g} s → {b['seconds']:g} s: {b['per_row_cpu_s'] / a['per_row_cpu_s']:.2f}× "
              f"(whole decode: {b['per_row_whole_cpu_s'] / a['per_row_whole_cpu_s']:.2f}×)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
