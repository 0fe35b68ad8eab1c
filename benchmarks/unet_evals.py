"""U-Net evaluations per row, segment-only vs the model over the whole video, computed by the
product's own passes (segment-lipsync, fit-vram, reduce-steps) on a lowered graph.

    python benchmarks/unet_evals.py                       # 30 s at 25 fps, slots of 0.40 s and 0.60 s
    python benchmarks/unet_evals.py --duration 30 --slots 0.4,0.6 --target rtx4090-24g

An evaluation is one U-Net sample: MuseTalk one frame (one pass at t = 0); LatentSync one
16-frame window per denoising step and per guidance branch. "Whole video" is the seeds' way:
MuseTalk on every frame, LatentSync over consecutive 16-frame windows with its published DDIM
20 steps and guidance 1.5. Counts, not timings: they do not depend on the machine.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def graph_text(duration: float, fps: float, slots: list[float], backend: str, model: str, quality: str) -> str:
    frames = round(duration * fps)
    starts = [duration * (i + 1) / (len(slots) + 1) for i in range(len(slots))]
    located = ", ".join(
        f'"s{i}": {{"end": {a + d:.3f}, "say": "w", "start": {a:.3f}, "words": ["w"]}}'
        for i, (a, d) in enumerate(zip(starts, slots, strict=True))
    )
    return f"""
graph @g {{
  %video = media.open() {{"kind": "video", "path": "a.mp4"}} : Video<fps={fps}, frames={frames}> shared
  %audio = media.audio(%video) : Audio shared
  %transcript = text.const() {{"text": "x"}} : Text shared
  %lexicon = speech.lexicon() {{"entries": {{}}}} : Lexicon shared
  %alignment = speech.align(%audio, %transcript, %lexicon) : Alignment shared
  %spans = slots.locate(%alignment) {{"slots": {{{located}}}}} : Spans shared
  %landmarks = face.track(%video) : Landmarks shared
  %row = rows.row() {{"file": "rows.csv"}} : Row per_row
  %script = template.render(%row) {{"template": "hi"}} : Script per_row
  %speech = speech.synthesize(%script, %lexicon, %spans) {{"engine": "piper", "voice": "v"}} : Speech per_row
  %slot_audio = speech.fit(%speech, %spans) : SlotAudio per_row
  %track = audio.splice(%audio, %slot_audio, %spans) : Track per_row
  %frames = lipsync.apply(%video, %landmarks, %track, %spans) {{"backend": "{backend}", "margin_ms": 120.0, "model": "{model}", "quality": "{quality}"}} : Frames per_row
}}
"""


def count(duration: float, fps: float, slots: list[float], model: str, quality: str, target: str) -> dict[str, object]:
    from vpipe.catalog import hardware_presets
    from vpipe.frontend.recipe import TargetSpec
    from vpipe.ir.parser import parse_graph
    from vpipe.passes.base import PassContext
    from vpipe.passes.catalog import create

    hw = hardware_presets()[target]
    ctx = PassContext(target=TargetSpec(target, hw["device"], float(hw["vram_gb"]), hw["precision"], 1))
    graph = parse_graph(graph_text(duration, fps, slots, model.split("-")[0], model, quality))
    for name in ("segment-lipsync", "fit-vram", "reduce-steps"):
        graph = create(name).run(graph, ctx)
    op = next(o for o in graph.ops if o.kind == "lipsync.apply")
    u = ctx.facts["unet_evaluations"]
    return {
        "model": op.attr("model"),
        "quality": quality,
        "sampler": f"{op.attr('sampler')} {op.attr('steps')}" if op.attr("sampler") else "single step",
        "per_row": u["per_row"],
        "whole_video": u["whole_video"],
        "fewer": u["whole_video"] / u["per_row"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--fps", type=float, default=25.0)
    parser.add_argument("--slots", default="0.4,0.6", help="slot word durations in seconds (margin added)")
    parser.add_argument("--target", default="rtx4090-24g")
    args = parser.parse_args(argv)
    slots = [float(s) for s in args.slots.split(",")]
    print(f"{args.duration:g} s at {args.fps:g} fps, slots {args.slots} s (+120 ms margin each side), {args.target}")
    print("| model | quality | sampler | U-Net evaluations per row | whole video | fewer |")
    print("|---|---|---|---|---|---|")
    for model, quality in (("musetalk-1.5", "balanced"), ("latentsync-1.6", "best"), ("latentsync-1.6", "balanced")):
        r = count(args.duration, args.fps, slots, model, quality, args.target)
        print(
            f"| {r['model']} | {quality} | {r['sampler']} | {r['per_row']} | {r['whole_video']} | {r['fewer']:.1f}× |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
