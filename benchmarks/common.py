"""Shared set-up of the benchmarks: the real clips, their recipes, and timing helpers.

Benchmarks print medians of repeated runs; ratios are measured within one run. They need
../shared/media (the shared real clips)."""

from __future__ import annotations

import os
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

warnings.filterwarnings("ignore")
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # as the vpipe CLI does
    os.environ.setdefault(_var, "1")

ROOT = Path(__file__).resolve().parents[1]
MEDIA = ROOT.parent / "shared" / "media"


@dataclass(frozen=True)
class Clip:
    name: str
    file: str
    transcript: str
    slot_word: str
    template: str
    values: tuple[str, ...]


CLIPS = (
    Clip(
        "interview",
        "interview_man.mp4",
        "my biggest weakness is asking for help when needed i like to do better and i",
        "help",
        "My biggest weakness is asking for {{ value }} when needed.",
        ("feedback", "support", "advice", "guidance", "mentoring", "direction"),
    ),
    Clip(
        "glasses",
        "glasses_woman.mp4",
        "bringing in reforms to tighten that regulation and his",
        "regulation",
        "bringing in reforms to tighten that {{ value }} and his",
        ("legislation", "oversight", "market", "supervision", "framework", "policy"),
    ),
    Clip(
        "studio",
        "studio_woman.mp4",
        "sign at him and he represents the european central bank and in my life as the body of your opponents "
        "essential that my knee",
        "european central bank",
        "he represents the {{ value }} and",
        ("federal reserve", "bank of england", "world bank", "monetary fund", "treasury", "bank of japan"),
    ),
)


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


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process and of the speech worker)."""
    from vpipe.speech.piper_client import worker

    w0, c0, k0 = time.perf_counter(), time.process_time(), worker().cpu_seconds()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0 + worker().cpu_seconds() - k0
