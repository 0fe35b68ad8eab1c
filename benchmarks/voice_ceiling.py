"""What the speaker's own speech scores in a slot: the ceiling of QC's speaker-similarity measure.

QC scores a row's voice as the resemblyzer cosine of the output around the new word (the word
with 0.75 s of the recording either side, vpipe.qc.audio.similarity_around) against the whole
source. This script asks what that measure gives when the slot holds no synthesis at all, only
the speaker's own recorded speech: per row (audio-only, `auto` durations, the rows of
tests/clips.py), the row's spliced track is taken as vpipe made it, and its new word is replaced
by a continuous stretch of the recording of the same length, starting at each recorded word
(the replaced word itself and stretches that overlap it left out: that would be the old word),
joined with the splice's own crossfade length. Every stretch is then scored exactly as QC scores
the row.

Printed per clip, one JSON line:
- `row_median`: the rows as vpipe voiced them (own units behind the heard-word guard), on the
  track before the AAC encode, so it compares like with like with the stretches (QC's figure on
  the written file differs by ~0.01);
- `own_best_median`: per row the best stretch, the median over rows: what an oracle that picked
  the most flattering continuous piece of the speaker's own speech would get;
- `own_median`: the median over every (row, stretch);
- `own_at_gate`: how many (row, stretch) pairs reach the issue's 0.88;
- `own_unseen_median`, `own_unseen_at_gate`: the same stretches scored against the recording
  with that stretch cut out: the speaker's own speech that the reference has not heard, as a
  new word is. The rows' own units are pieces of the reference too, so both figures matter:
  `own_*` is what reusing the recording can reach, `own_unseen_*` what the speaker's voice
  itself scores on this measure when the words are new to it;
- `row_cut_median`: the rows against those same shortened references (over every (row,
  stretch)), to compare with `own_unseen_median` on equal terms: a shorter reference alone
  lowers every score;
- `natural_median`: the recorded word in its own place (QC's `speaker_similarity_source`): that
  window is part of the reference the cosine is taken against, so it is flattered.

The held-out clip (tests/clips.py HELD_OUT) is measured last and marked "held_out".

Usage: python benchmarks/voice_ceiling.py [--clips glasses,interview] [--held-out with|only|without]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import MEDIA, add_clip_arguments, chosen_clips, median, write_recipe

GATE = 0.88  # the speaker-similarity number (median per clip)


def with_stretch(track: np.ndarray, start: int, end: int, source: np.ndarray, at: int, fade: int) -> np.ndarray:
    """`track` with samples [start, end) replaced by source[at : at + end - start], crossfaded over
    `fade` samples on each side (the stretch starts `fade` early and ends `fade` late, as the
    splice's crossfades overlap the word). Source samples outside the recording count as 0."""
    out = track.copy()
    lo, hi = max(0, start - fade), min(len(track), end + fade)
    taken = at - start + np.arange(lo, hi)  # the source sample under each replaced track sample
    inside = (taken >= 0) & (taken < len(source))
    piece = np.where(inside, source[np.clip(taken, 0, len(source) - 1)], 0.0).astype(track.dtype)
    position = np.arange(lo, hi)
    weight = np.clip(np.minimum((position - (start - fade)) / fade, (end + fade - position) / fade), 0.0, 1.0)
    out[lo:hi] = (1 - weight) * track[lo:hi] + weight * piece
    return out


def run_clip(work: Path, clip: Any) -> dict[str, object]:
    from vpipe.build import build_dir, target_of
    from vpipe.data.alignment import Alignment
    from vpipe.data.media import TimelineEdit, Track
    from vpipe.driver import BuildOptions, compile_recipe
    from vpipe.kernel_api.context import RunContext
    from vpipe.kernels.qc import source_pass
    from vpipe.qc.audio import embedding_around, similarity_around
    from vpipe.runtime.executor import Executor
    from vpipe.runtime.run import row_value
    from vpipe.speech.similarity import embed
    from vpipe.speech.splice import FADE

    recipe = write_recipe(work, clip, lipsync="none", duration="auto")
    build = compile_recipe(recipe, BuildOptions(analyze=False))
    ex = Executor(build.graph, None, target_of(build.recipe), build_dir(build.recipe) / "work")
    shared = ex.run_shared()
    alignment = next(v for v in shared.values.values() if isinstance(v, Alignment))
    _, source, rate = source_pass(MEDIA / clip.file)
    speaker = embed(source, rate)
    rows: list[dict[str, Any]] = []
    for row in [row_value(r) for r in build.recipe.rows.rows]:
        vals, keys = dict(shared.values), dict(shared.keys)
        rt = RunContext(work, row, target_of(build.recipe))
        track: Track | None = None
        for i, op in ex.row_ops:
            ex._execute(i, op, vals, keys, rt, {}, [])
            if isinstance(vals[op.results[0].name], Track):
                track = vals[op.results[0].name]
                break
        assert track is not None and track.audio.rate == rate and len(track.edits) == 1
        e = track.edits[0]
        mono = track.audio.samples.mean(axis=1).astype(np.float32)
        start, end = round(e.output_start * rate), round(e.output_end * rate)
        fade = round(FADE * rate)
        row_embedding = embedding_around(mono, rate, e)
        own, unseen, row_cut = [], [], []
        for w in alignment.words:
            at, stop = round(w.start * rate), round(w.start * rate) + (end - start)
            if w.label == "SIL" or stop + fade > len(source):
                continue
            if w.start < e.source_end and w.start + (end - start) / rate > e.source_start:
                continue  # the replaced word: it would be heard
            own_embedding = embedding_around(with_stretch(mono, start, end, source, at, fade), rate, e)
            rest = embed(np.concatenate([source[: max(0, at - fade)], source[stop + fade :]]), rate)
            own.append(float(np.dot(own_embedding, speaker)))
            unseen.append(float(np.dot(own_embedding, rest)))
            row_cut.append(float(np.dot(row_embedding, rest)))
        window = TimelineEdit(e.slot, e.source_start, e.source_end, e.source_start, e.source_end)
        rows.append(
            {
                "value": e.said,
                "seconds": round(e.output_end - e.output_start, 3),
                "row": round(float(np.dot(row_embedding, speaker)), 3),
                "own_best": round(max(own), 3) if own else float("nan"),
                "own": [round(s, 3) for s in own],
                "own_unseen": [round(s, 3) for s in unseen],
                "row_cut": [round(s, 3) for s in row_cut],
                "natural": round(similarity_around(source, rate, window, speaker), 3),
            }
        )
    every = [s for r in rows for s in r["own"]]
    unseen = [s for r in rows for s in r["own_unseen"]]
    return {
        "clip": clip.name,
        "row_median": round(median([r["row"] for r in rows]), 3),
        "own_best_median": round(median([r["own_best"] for r in rows]), 3),
        "own_median": round(median(every), 3),
        "own_at_gate": f"{sum(s >= GATE for s in every)}/{len(every)}",
        "own_unseen_median": round(median(unseen), 3),
        "own_unseen_at_gate": f"{sum(s >= GATE for s in unseen)}/{len(unseen)}",
        "row_cut_median": round(median([s for r in rows for s in r["row_cut"]]), 3),
        "natural_median": round(median([r["natural"] for r in rows]), 3),
        "rows": rows,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_clip_arguments(ap)
    args = ap.parse_args()
    tuned, held = chosen_clips(args)
    with tempfile.TemporaryDirectory(prefix="vpipe-voice-ceiling-") as tmp:
        for clip in tuned:
            print(json.dumps(run_clip(Path(tmp) / clip.name, clip)), flush=True)
        for clip in held:  # not looked at while tuning: its figures are reported separately
            print(json.dumps({"held_out": True, **run_clip(Path(tmp) / clip.name, clip)}), flush=True)


if __name__ == "__main__":
    main()
