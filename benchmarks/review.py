"""Does review catch what it should, and is the report quick to open? On each shared clip
(and the held-out one with --held-out): render real rows (retrieve, duration auto), run
`vpipe eval` on every real output and on the three controls a broken pipeline would write
(new audio under the recorded mouth, audio 200 ms late, the mouth frozen over the slot),
and print each verdict with its figures; then open a 100-row report (the first clip's real
rows repeated under new ids, a tenth flagged) in headless Chromium a few times and print
the load times the page measures (navigation start to load).

The numbers the issue asks: every control flagged, every real row passed; 100 rows open
in under 2 s (the held-out clip counted apart). Needs Debian's chromium.

Usage: python benchmarks/review.py [--clip interview ...] [--rows 2] [--loads 5] [--held-out]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.clips import CLIPS, HELD_OUT, Clip  # noqa: E402
from tests.e2e.helpers import Run, run_recipe, vpipe, write_recipe  # noqa: E402
from tests.qc.controls import frozen_mouth, shifted_audio, untouched_mouth  # noqa: E402


def _eval(path: Path, source: Path) -> dict[str, Any]:
    cli = vpipe("eval", path, "--source", source, "--format", "json")
    result: dict[str, Any] = json.loads(cli.stdout)
    return {
        "exit": cli.code,
        "verdict": result.get("verdict"),
        "failures": result.get("failures"),
        "metrics": result.get("metrics"),
    }


def clip_review(clip: Clip, rows: int, work: Path) -> tuple[Run, list[dict[str, Any]]]:
    recipe = write_recipe(work, clip, clip.values[:rows], lipsync="retrieve", duration="auto")
    run = run_recipe(recipe, cache=work / "cache")
    if run.cli.code != 0:
        raise SystemExit(run.cli.text[-3000:])
    lines = []
    for row_id, row in run.rows.items():
        good = run.output(row_id)
        lines.append(
            {"clip": clip.name, "file": f"{row_id} (real)", "qc_verdict": row["verdict"], **_eval(good, clip.source)}
        )
        slot = row["qc"]["curves"]["slots"][0]
        controls = {
            "untouched mouth": untouched_mouth(clip.source, good, work / f"{row_id}-untouched.mp4"),
            "audio 200 ms late": shifted_audio(good, work / f"{row_id}-shifted.mp4"),
            "frozen mouth": frozen_mouth(good, slot["start"] - 0.1, slot["end"] + 0.1, work / f"{row_id}-frozen.mp4"),
        }
        for name, path in controls.items():
            lines.append({"clip": clip.name, "file": f"{row_id} control: {name}", **_eval(path, clip.source)})
    return run, lines


def report_loads(run: Run, work: Path, loads: int) -> list[int]:
    from vpipe.report import write_report
    from vpipe.runtime.records import RunRecord

    real = list(run.rows.values())
    header = {k: v for k, v in run.records[0].items() if k not in ("type", "run")}
    record = RunRecord(work / "hundred", {**header, "rows": 100})
    for i in range(100):
        row = dict(real[i % len(real)])
        row.update(row=i + 1, id=f"p{i + 1:03d}")
        if i % 10 == 7:
            row.update(verdict="flagged", qc={**row["qc"], "failures": ["lip-sync below the gate"]})
        record.write({"type": "row", **row})
    record.close({"ok": 100})
    page = write_report(record.folder)
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        raise SystemExit("needs Debian's chromium (apt-get install chromium)")
    times = []
    for _ in range(loads):
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()]
        dom = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=True).stdout
        tag = re.search(r"<body([^>]*)>", dom)
        body = dict(re.findall(r'data-([a-z-]+)="([^"]*)"', tag[1])) if tag else {}
        assert body.get("rows") == "100", body
        times.append(int(body["loaded-ms"]))
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", action="append", choices=[c.name for c in (*CLIPS, *HELD_OUT)])
    parser.add_argument("--rows", type=int, default=2)
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--held-out", action="store_true", help="also the held-out clip (reported apart)")
    args = parser.parse_args()
    chosen = [c for c in (*CLIPS, *HELD_OUT) if c.name in (args.clip or [])] or list(CLIPS)
    if args.held_out:
        chosen += [c for c in HELD_OUT if c not in chosen]
    with tempfile.TemporaryDirectory(prefix="vpipe-review-") as tmp:  # the recipes, caches and outputs go with it
        work = Path(tmp)
        first: Run | None = None
        summaries = {
            part: {"real_passed": 0, "real": 0, "controls_flagged": 0, "controls": 0} for part in ("shared", "held_out")
        }
        for clip in chosen:
            run, lines = clip_review(clip, args.rows, work / clip.name)
            first = first or run
            for line in lines:
                held = " (held out)" if clip in HELD_OUT else ""
                print(json.dumps({**line, "clip": clip.name + held}), flush=True)
                summary = summaries["held_out" if clip in HELD_OUT else "shared"]
                real = line["file"].endswith("(real)")
                key = "real" if real else "controls"
                summary[key] += 1
                ok = line["exit"] == 0 and line["verdict"] == "passed" if real else line["exit"] == 1
                summary["real_passed" if real else "controls_flagged"] += int(ok)
        assert first is not None
        times = report_loads(first, work, args.loads)
        print(json.dumps({"summary": summaries, "report_100_rows_ms": times, "median_ms": statistics.median(times)}))
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
