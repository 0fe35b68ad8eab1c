"""Speech path benchmark on the shared clips (audio-only personalization: lip-sync off, fit).

Prints, per clip:
- shared analysis (alignment + speaker profile) time as a fraction of the source duration;
- per extra row: CPU seconds of TTS, fitting, voice matching, splice and mux (median over
  rows, after a warm-up row; the speech worker's CPU is included);
- audio quality from QC: loudness difference to the surrounding speech, click ratio, whether
  the new word is heard (context-pinned forced alignment), speaker similarity with and
  without voice matching.

Usage: python benchmarks/speech.py [--rows N]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import CLIPS, median, timed, write_recipe

SPEECH_OPS = ("speech.synthesize", "speech.fit", "speech.match_voice", "audio.splice", "media.write")


def run_clip(work: Path, clip, rows: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    from vpipe.build import build_dir, target_of
    from vpipe.driver import BuildOptions, compile_recipe
    from vpipe.kernel_api.context import RunContext
    from vpipe.runtime.executor import Executor
    from vpipe.runtime.run import row_value

    recipe = write_recipe(work, clip, lipsync="none", duration="fit")
    build = compile_recipe(recipe, BuildOptions(analyze=False))
    duration = build.recipe.source.media.duration
    shared_wall, shared_cpu = [], []
    for _ in range(3):  # the first includes loading models; report the median
        ex = Executor(build.graph, None, target_of(build.recipe), build_dir(build.recipe) / "work")
        state = {}
        _wall, cpu = timed(lambda ex=ex, state=state: state.update(s=ex.run_shared()))
        align_profile = sum(v for k, v in state["s"].timings.items() if k in ("alignment", "profile"))
        shared_wall.append(align_profile)
        shared_cpu.append(cpu)
    shared = state["s"]
    per_op: dict[str, list[float]] = {k: [] for k in SPEECH_OPS}
    totals: list[float] = []
    values = [row_value(r) for r in build.recipe.rows.rows][: rows + 1]
    for n, row in enumerate(values):
        vals, keys = dict(shared.values), dict(shared.keys)
        rt = RunContext(work, row, target_of(build.recipe))
        row_cpu = 0.0
        for i, op in ex.row_ops:
            if op.kind.startswith("qc."):
                continue
            _, cpu = timed(lambda i=i, op=op, vals=vals, keys=keys, rt=rt: ex._execute(i, op, vals, keys, rt, {}, []))
            if op.kind in SPEECH_OPS and n > 0:  # row 0 warms the worker and the encoders up
                per_op[op.kind].append(cpu)
                row_cpu += cpu
        if n > 0:
            totals.append(row_cpu)
    return {
        "clip": clip.name,
        "source_seconds": round(duration, 2),
        "shared_align_profile_s": round(median(shared_wall), 3),
        "shared_ratio": round(median(shared_wall) / duration, 3),
        "row_cpu_s": {k: round(median(v), 3) for k, v in per_op.items()},
        "row_cpu_total_s": round(median(totals), 3),
        "rows_measured": len(totals),
    }


def quality(work: Path, clip) -> dict[str, object]:  # type: ignore[no-untyped-def]
    from vpipe.driver import BuildOptions, compile_recipe
    from vpipe.runtime.run import RunOptions, run_build

    out: dict[str, object] = {"clip": clip.name}
    for match in (True, False):
        recipe = write_recipe(work / ("matched" if match else "unmatched"), clip, lipsync="none", duration="auto")
        if not match:
            recipe.write_text(
                recipe.read_text().replace("voice: {duration: auto}", "voice: {duration: auto, match_speaker: false}")
            )
        build = compile_recipe(recipe, BuildOptions())
        summary = run_build(build, RunOptions(force=True))
        metrics = [o.report["metrics"] for o in summary.outcomes if o.report]
        key = "matched" if match else "unmatched"

        def avg(suffix: str, ms: list[dict[str, float]] = metrics) -> float:
            xs = [v for m in ms for k, v in m.items() if k.endswith(suffix) and math.isfinite(v)]
            return round(sum(xs) / len(xs), 3) if xs else float("nan")

        out[f"similarity_{key}"] = avg(".speaker_similarity")
        if match:
            out["similarity_source"] = avg(".speaker_similarity_source")
            out["loudness_delta_db_max_abs"] = round(
                max(abs(v) for m in metrics for k, v in m.items() if k.endswith(".loudness_delta_db")), 2
            )
            out["click_ratio_max"] = round(
                max(v for m in metrics for k, v in m.items() if k.endswith(".click_ratio")), 3
            )
            out["join_jump_vs_source_max"] = round(
                max(v for m in metrics for k, v in m.items() if k.endswith(".join_jump_ratio")), 3
            )
            heard = [
                (m.get(k), m.get(k.replace("heard_new", "heard_old")))
                for m in metrics
                for k in m
                if k.endswith(".heard_new")
            ]
            out["new_word_heard"] = f"{sum(1 for a, b in heard if a > b)}/{len(heard)}"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vpipe-bench-") as tmp:
        results = [run_clip(Path(tmp) / c.name, c, args.rows) for c in CLIPS]
        for r in results:
            print(json.dumps(r))
        for c in CLIPS:
            print(json.dumps(quality(Path(tmp) / f"q-{c.name}", c)))


if __name__ == "__main__":
    main()
