"""Shared set-up of the benchmarks: the real clips, their recipes, and timing helpers.

Benchmarks print medians of repeated runs; ratios are measured within one run. They need
../shared/media (the shared real clips)."""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path

warnings.filterwarnings("ignore")
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # as the vpipe CLI does
    os.environ.setdefault(_var, "1")

ROOT = Path(__file__).resolve().parents[1]
MEDIA = ROOT.parent / "shared" / "media"

# one catalogue of the clips for the tests and the benchmarks (the benchmarks put ROOT on sys.path)
from tests.clips import CLIPS, HELD_OUT, Clip  # noqa: E402


def write_recipe(work: Path, clip: Clip, lipsync: str = "retrieve", duration: str = "auto", qc: bool = True) -> Path:
    work.mkdir(parents=True, exist_ok=True)
    rows = work / f"{clip.name}.csv"
    rows.write_text("value\n" + "\n".join(clip.values) + "\n", encoding="utf-8")
    recipe = work / f"{clip.name}-{lipsync}.yaml"
    recipe.write_text(
        f"""vpipe: 1
name: {clip.name}-{lipsync}
source:
  video: {MEDIA / clip.file}
  transcript: {clip.transcript}
slots:
  value: {{say: {clip.slot_word}}}
template: "{clip.template}"
rows: {rows.name}
voice: {{duration: {duration}}}
lipsync: {{model: {lipsync}}}
output: {{path: "out-{clip.name}-{lipsync}/{{{{ row_id }}}}.mp4"}}
""",
        encoding="utf-8",
    )
    return recipe


def looped_recipe(
    work: Path,
    source: Path,
    times: int,
    values: tuple[str, ...],
    rows: int,
    *,
    name: str,
    duration: str = "auto",
    lipsync: str = "retrieve",
) -> Path:
    """A recipe over the glasses clip looped `times` times (`source`; its transcript repeated,
    the first occurrence of the slot word replaced) with `rows` rows cycling through `values`."""
    from tests.clips import GLASSES

    work.mkdir(parents=True, exist_ok=True)
    (work / "rows.csv").write_text(
        "id,value\n" + "".join(f"r{i + 1},{values[i % len(values)]}\n" for i in range(rows)), encoding="utf-8"
    )
    recipe = work / "recipe.yaml"
    recipe.write_text(
        f"""vpipe: 1
name: {name}
source:
  video: {source}
  transcript: {" ".join([GLASSES.transcript] * times)}
slots:
  value: {{say: {GLASSES.slot_word}, occurrence: 1}}
template: "{GLASSES.template}"
rows: {{csv: rows.csv, id: id}}
voice: {{duration: {duration}}}
lipsync: {{model: {lipsync}}}
output: {{path: "out/{{{{ row_id }}}}.mp4"}}
""",
        encoding="utf-8",
    )
    return recipe


def add_clip_arguments(parser: argparse.ArgumentParser, held_out: str = "without") -> None:
    """--clips (which tuning clips) and --held-out (the held-out clip too, only it, or not)."""
    parser.add_argument("--clips", default="", help="comma-separated clip names (default: all tuning clips)")
    parser.add_argument(
        "--held-out",
        choices=("with", "only", "without"),
        default=held_out,
        help="the held-out clip (tests/clips.py HELD_OUT), reported apart: measure it too, only it, or not",
    )


def chosen_clips(args: argparse.Namespace) -> tuple[list[Clip], list[Clip]]:
    """(the tuning clips, the held-out clips) that `add_clip_arguments`' options chose."""
    names = [n for n in args.clips.split(",") if n]
    tuned = [] if args.held_out == "only" else [c for c in CLIPS if not names or c.name in names]
    return tuned, [] if args.held_out == "without" else list(HELD_OUT)


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process and of the speech worker)."""
    from vpipe.speech.piper_client import worker

    w0, c0, k0 = time.perf_counter(), time.process_time(), worker().cpu_seconds()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0 + worker().cpu_seconds() - k0
