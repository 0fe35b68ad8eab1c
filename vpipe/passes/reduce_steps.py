"""reduce-steps: fewer denoising steps for a diffusion lip-sync op, by the recipe's speed intent.

`lipsync.quality`:
- `best` keeps the model's published sampler (LatentSync: DDIM 20, guidance 1.5);
- `balanced` (default) switches to the catalog's `fast` sampler, which needs no extra weights
  (LatentSync: DPM-Solver++ 10 steps, reported as the same look 40 % faster, #290; the kernel
  starts a fresh scheduler for every window, so no solver state leaks between windows);
- `fast` switches to a consistency sampler (LCM or TCD, 4 steps) only when the catalog knows
  consistency weights for the model and the user has them; otherwise it remarks (VP256) and
  keeps the `fast` sampler.
Every neural lip-sync op also gets `unet_evaluations`: the U-Net samples one row costs over
its windows (MuseTalk: one per frame; LatentSync: windows × steps × 2 with guidance), and the
plan shows it next to the count for the model run over the whole video.

Before (quality balanced, one 0.9 s slot window at 25 fps):
    %frames = lipsync.apply(...) {"backend": "latentsync", "model": "latentsync-1.5", "windows": [[1.1, 1.99]]} : Frames per_row

After:
    %frames = lipsync.apply(...) {"backend": "latentsync", "guidance": 1.5, "model": "latentsync-1.5", "sampler": "dpm-solver++", "steps": 10, "unet_evaluations": 40, "windows": [[1.1, 1.99]]} : Frames per_row
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from vpipe.catalog import model
from vpipe.ir.dialect import operand_roles
from vpipe.ir.graph import Graph, Op
from vpipe.neural import windows as W
from vpipe.passes.base import PassContext
from vpipe.passes.fit_vram import NEURAL
from vpipe.passes.registry import register


def consistency_ready(
    entry: dict[str, Any], model_id: str, weights_dir: str | None
) -> tuple[dict[str, Any] | None, str]:
    """The catalog's consistency sampler for the model when the user has its weights."""
    spec = (entry.get("samplers") or {}).get("consistency")
    if not spec:
        return None, f"no consistency (LCM/TCD) weights are known for {model_id}"
    from vpipe.weights import model_status

    weights_id = str(spec.get("weights") or model_id)
    status = model_status(weights_id, [Path(weights_dir)] if weights_dir else [])
    if not status.ready:
        return None, f"the consistency weights {weights_id} are not installed ({'; '.join(status.problems())})"
    return spec, ""


def row_evaluations(op: Op, entry: dict[str, Any], fps: float, duration: float) -> tuple[int, int]:
    """(this row's U-Net samples over its windows, the same model over the whole video)."""
    spans = [(float(a), float(b)) for a, b in op.attr("windows") or []]
    mask = W.frames_in(spans, fps, duration)
    total = len(mask)
    if entry.get("unet_evaluations") == "per-frame":
        return int(mask.sum()), total
    steps, guidance = int(op.attr("steps") or 20), float(op.attr("guidance") or 1.5)
    published = (entry.get("samplers") or {}).get("default") or {}
    whole = W.evaluations(
        len(W.whole_video(total)), int(published.get("steps", 20)), float(published.get("guidance_scale", 1.5))
    )
    return W.evaluations(len(W.plan(mask)), steps, guidance), whole


@register
@dataclass(frozen=True)
class ReduceSteps:
    name: ClassVar[str] = "reduce-steps"
    summary: ClassVar[str] = (
        "swap a diffusion sampler for fewer steps (DPM-Solver++ 10; LCM/TCD 4 with consistency weights)"
    )

    def run(self, graph: Graph, ctx: PassContext) -> Graph:
        updates: dict[int, Op] = {}
        for index, op in enumerate(graph.ops):
            fam = op.attr("backend")
            if op.kind != "lipsync.apply" or fam not in NEURAL:
                continue
            model_id = str(op.attr("model") or NEURAL[fam])
            entry = model(model_id) or {}
            samplers = entry.get("samplers")
            new = op
            if isinstance(samplers, dict) and samplers.get("default"):
                new = self._sampler(op, model_id, entry, samplers, ctx)
            video = graph.value(operand_roles(op)["video"]).type
            fps, frames = video.param("fps"), video.param("frames")
            if fps and frames and new.attr("windows"):
                per_row, whole = row_evaluations(new, entry, float(fps), frames / float(fps))
                new = new.with_attrs(unet_evaluations=per_row)
                ctx.facts["unet_evaluations"] = {"per_row": per_row, "whole_video": whole, "model": model_id}
            if new != op:
                updates[index] = new
        return graph.replace_ops(updates)

    def _sampler(self, op: Op, model_id: str, entry: dict[str, Any], samplers: dict[str, Any], ctx: PassContext) -> Op:
        default = samplers["default"]
        guidance = float(default.get("guidance_scale", 1.0))
        quality = str(op.attr("quality") or "balanced")
        chosen = {"scheduler": default["scheduler"], "steps": int(default["steps"])}
        fast = samplers.get("fast")
        if quality == "fast":
            spec, why = consistency_ready(entry, model_id, op.attr("weights"))
            if spec is not None:
                chosen = {"scheduler": spec["scheduler"], "steps": int(spec["steps"])}
            else:
                ctx.diagnostics.remark(
                    "VP256",
                    f"{why}: keeping {fast['scheduler'] if fast else default['scheduler']} "
                    f"{fast['steps'] if fast else default['steps']} steps",
                    ctx.span(op),
                )
                chosen = dict(fast) if fast else chosen
        elif quality == "balanced" and fast:
            chosen = dict(fast)
        if chosen["scheduler"] != default["scheduler"] or chosen["steps"] != default["steps"]:
            ctx.diagnostics.remark(
                "VP255",
                f"{model_id}: {default['scheduler']} {default['steps']} → {chosen['scheduler']} {chosen['steps']} steps "
                f"({default['steps'] / chosen['steps']:g}× fewer U-Net evaluations)",
                ctx.span(op),
            )
        return op.with_attrs(sampler=chosen["scheduler"], steps=int(chosen["steps"]), guidance=guidance)
