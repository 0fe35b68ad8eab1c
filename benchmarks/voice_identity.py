"""Voice identity of the inserted words on the shared clips: speaker similarity and whether
the new word is heard, from vpipe's own QC on the written files.

Per clip (audio-only rows: `lipsync: none`, `auto` durations, every value of tests/clips.py),
for each voice variant:
- `speaker_similarity`: resemblyzer cosine of the output around the new word (the word with
  0.75 s either side, vpipe.qc.audio) against the whole source speaker; median and range
  over rows, and the source's own figure on the same window (`natural`);
- `heard`: rows whose new word wins the forced alignment against the recorded word, and the
  median margin (new − old confidence);
- `qc_passed`: rows that pass every QC gate (the recipe's defaults, unchanged);
- per row, `voice`: what speech.match_voice gave the slot (own units, own units of the same
  phones only, or the matched word when the heard-word guard refused the units; the guard's
  own margin), and `match_voice_cpu_s`: that op's CPU seconds for the row (the guard's
  splice and alignments included). `match_voice_cpu_median` per clip.

Variants: `tts` (match_speaker: false), `matched` (pitch/envelope/loudness matching of the
synthetic word, `speaker_units: false`), `units` (`speaker_units: true`, the default: the
speaker's own sounds where the recording has them, vpipe.speech.units, behind the heard-word
guard), `default` (the recipe's defaults as they are). The held-out clip (tests/clips.py HELD_OUT) is
measured last and marked "held_out".

Usage: python benchmarks/voice_identity.py [--variants tts,matched,units] [--held-out with|only|without]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import add_clip_arguments, chosen_clips, median, write_recipe

VOICES = {
    "default": "{duration: auto}",
    "tts": "{duration: auto, match_speaker: false}",
    "matched": "{duration: auto, match_speaker: true, speaker_units: false}",
    "units": "{duration: auto, match_speaker: true, speaker_units: true}",
}


def run_clip(work: Path, clip: Any, variant: str) -> dict[str, object]:
    from vpipe.driver import BuildOptions, compile_recipe
    from vpipe.runtime.run import RunOptions, run_build

    recipe = write_recipe(work / variant, clip, lipsync="none", duration="auto")
    recipe.write_text(recipe.read_text().replace("voice: {duration: auto}", f"voice: {VOICES[variant]}"))
    build = compile_recipe(recipe, BuildOptions())
    summary = run_build(build, RunOptions(force=True))
    sims, natural, margins, rows, passed, cpu = [], [], [], [], 0, []
    for o in summary.outcomes:
        m = (o.report or {}).get("metrics", {})
        sim = m.get("value.speaker_similarity", math.nan)
        new, old = m.get("value.heard_new", math.nan), m.get("value.heard_old", math.nan)
        sims.append(sim)
        natural.append(m.get("value.speaker_similarity_source", math.nan))
        margins.append(new - old)
        passed += o.verdict == "passed"
        cpu.append(sum(v for k, v in (o.cpu or {}).items() if k.startswith("matched")))
        rows.append(
            {
                "value": (o.values or {}).get("value", o.id),
                "similarity": round(sim, 3),
                "heard_margin": round(new - old, 2),
                "verdict": o.verdict,
                "voice": [d.get("voice", "") for d in o.duration or []],
                "match_voice_cpu_s": round(cpu[-1], 3),
            }
        )
    return {
        "clip": clip.name,
        "variant": variant,
        "similarity_median": round(median(sims), 3),
        "similarity_range": [round(min(sims), 3), round(max(sims), 3)],
        "natural_median": round(median(natural), 3),
        "heard": f"{sum(x > 0 for x in margins)}/{len(margins)}",
        "heard_margin_median": round(median(margins), 2),
        "qc_passed": f"{passed}/{len(rows)}",
        "match_voice_cpu_median": round(median(cpu), 3),
        "rows": rows,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variants", default="tts,matched,units")
    add_clip_arguments(ap)
    args = ap.parse_args()
    variants = [v for v in args.variants.split(",") if v]
    tuned, held = chosen_clips(args)
    with tempfile.TemporaryDirectory(prefix="vpipe-voice-") as tmp:
        for clip in tuned:
            for v in variants:
                print(json.dumps(run_clip(Path(tmp) / clip.name, clip, v)), flush=True)
        for clip in held:  # not looked at while tuning: its figures are reported separately
            for v in variants:
                print(json.dumps({"held_out": True, **run_clip(Path(tmp) / clip.name, clip, v)}), flush=True)


if __name__ == "__main__":
    main()
