"""fit-vram: choose the model variant, precision, batch and offload that fit the target GPU.

For every neural lip-sync op, from the catalog's per-precision VRAM figures (published, or
derived: fp32 holds every tensor at twice the fp16 size) and the target's `vram_gb`,
precision and compute capability. Precision follows the target (bf16 → fp16 where the model
lists no bf16) unless the model's own rule forbids it (LatentSync: fp16 only above compute
capability 7, so fp32 on a T4). A per-frame model's batch grows in powers of two while
k × its published footprint still fits (a safe bound: the weights are shared). When only the
VAE and whisper encoder are in the way, they are offloaded to the CPU. When the requested
model cannot fit at all, the first of its catalog `substitutes` that fits and whose weights are
installed replaces it, with a VP250 remark; nothing fits → VP252 and the op is left as asked.

Before (target rtx3060-12g: 11 GB, fp16, compute capability 8.6):
    %frames = lipsync.apply(%video, %landmarks, %inventory, %track, %spans) {"backend": "latentsync", "model": "latentsync-1.6"} : Frames per_row

After:
    %frames = lipsync.apply(%video, %landmarks, %inventory, %track, %spans) {"backend": "latentsync", "batch": 1, "model": "latentsync-1.5", "offload": false, "precision": "fp16", "vram_gb": 8.0} : Frames per_row
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from vpipe.catalog import hardware_presets, model
from vpipe.ir.graph import Graph, Op
from vpipe.passes.base import PassContext
from vpipe.passes.registry import register

NEURAL = {"musetalk": "musetalk-1.5", "latentsync": "latentsync-1.6"}  # family → default catalog id
BYTES = {"fp32": 4, "fp16": 2, "bf16": 2}


@dataclass(frozen=True)
class Choice:
    model: str
    precision: str
    batch: int
    offload: bool
    vram_gb: float


def family(model_id: str) -> str:
    return model_id.split("-", 1)[0]


def vram(entry: dict[str, Any], precision: str) -> float | None:
    table = entry.get("vram_gb") or {}
    p = "fp16" if precision == "bf16" else precision
    if table.get(p) is not None:
        return float(table[p])
    if p == "fp32" and table.get("fp16") is not None:
        return 2.0 * float(table["fp16"])
    return None


def precisions(entry: dict[str, Any], wanted: str, capability: float | None) -> list[str]:
    """Precisions to try, best first: the target's (bf16 as fp16 unless listed), then smaller/larger."""
    offered = list(entry.get("precisions") or ["fp32"])
    first = wanted if wanted in offered else ("fp16" if wanted == "bf16" and "fp16" in offered else "fp32")
    order = [first] + [p for p in ("fp16", "fp32") if p != first and p in offered]
    floor = entry.get("fp16_min_compute_capability")
    if floor is not None and capability is not None and capability < float(floor):
        order = [p for p in order if p not in ("fp16", "bf16")]
    return order


def fit_one(
    model_id: str, device: str, vram_gb: float, wanted: str, capability: float | None
) -> tuple[Choice | None, str]:
    """The setting that fits, or None and why not."""
    entry = model(model_id) or {}
    base = int(entry.get("batch") or 1)
    if device != "cuda":
        if "cpu" not in (entry.get("devices") or []):
            return None, f"{model_id} runs on CUDA only"
        return Choice(model_id, "fp32", base, False, 0.0), ""
    needs = []
    for p in precisions(entry, wanted, capability):
        need = vram(entry, p)
        if need is None:
            continue
        needs.append(f"{need:g} GB in {p}")
        if need <= vram_gb:
            k = 1
            while entry.get("unet_evaluations") == "per-frame" and k < 4 and 2 * k * need <= vram_gb:
                k *= 2
            return Choice(model_id, p, base * k, False, need * k), ""
        params = entry.get("parameters") or {}
        aux = (params.get("vae", 0) + params.get("whisper_encoder", 0)) * BYTES[p] / 1e9
        if need - aux <= vram_gb:
            return Choice(model_id, p, base, True, round(need - aux, 2)), ""
    why = f"{model_id} needs {' or '.join(needs) or 'an unknown amount'}, the target has {vram_gb:g} GB"
    return None, why


def fit(
    model_id: str,
    device: str,
    vram_gb: float,
    wanted: str,
    capability: float | None,
    installed: Callable[[str], bool] | None = None,
) -> tuple[Choice | None, list[str]]:
    """The requested model's fitting setting, else its first fitting substitute whose weights are
    `installed` (a substitute the user cannot run is no answer); with the reasons."""
    reasons: list[str] = []
    for candidate in [model_id, *((model(model_id) or {}).get("substitutes") or [])]:
        choice, why = fit_one(candidate, device, vram_gb, wanted, capability)
        if choice is not None and candidate != model_id and installed is not None and not installed(candidate):
            choice, why = None, f"{candidate} would fit, but its weights are not installed"
        if choice is not None:
            return choice, reasons
        reasons.append(why)
    return None, reasons


def target_facts(target: Any) -> tuple[str, float, str, float | None, str]:
    device = str(getattr(target, "device", "cpu") or "cpu")
    preset = getattr(target, "preset", None)
    facts = hardware_presets().get(preset or "", {}) if preset else {}
    capability = facts.get("compute_capability")
    label = preset or f"{device} {getattr(target, 'vram_gb', 0):g} GB"
    return (
        device,
        float(getattr(target, "vram_gb", 0.0) or 0.0),
        str(getattr(target, "precision", "fp32")),
        None if capability is None else float(capability),
        label,
    )


def _installed(ctx: PassContext, op: Op) -> Callable[[str], bool] | None:
    """Whether a model's weights are installed, looking in the op's own weights folder too
    (None: the context does not know)."""
    ready, folder = ctx.weights_ready, op.attr("weights")
    if ready is None:
        return None
    return lambda model_id: ready(model_id, None if folder is None else str(folder))


@register
@dataclass(frozen=True)
class FitVram:
    name: ClassVar[str] = "fit-vram"
    summary: ClassVar[str] = "choose model variant, precision, batch and offload to fit the target's VRAM"

    def run(self, graph: Graph, ctx: PassContext) -> Graph:
        device, vram_gb, wanted, capability, label = target_facts(ctx.target)
        updates: dict[int, Op] = {}
        for index, op in enumerate(graph.ops):
            fam = op.attr("backend")
            if op.kind != "lipsync.apply" or fam not in NEURAL:
                continue
            asked = str(op.attr("model") or NEURAL[fam])
            choice, reasons = fit(asked, device, vram_gb, wanted, capability, _installed(ctx, op))
            if choice is None:
                ctx.diagnostics.warning(
                    "VP252", f"no variant of {asked} fits {label}: {'; '.join(reasons)}", ctx.span(op)
                )
                continue
            if choice.model != asked:
                ctx.diagnostics.remark(
                    "VP250",
                    f"{'; '.join(reasons)}: using {choice.model} {choice.precision} instead",
                    ctx.span(op),
                )
            elif choice.precision != ("fp32" if device != "cuda" else wanted) or choice.offload:
                extra = ", VAE and whisper offloaded to the CPU" if choice.offload else ""
                ctx.diagnostics.remark("VP251", f"{asked} runs in {choice.precision} on {label}{extra}", ctx.span(op))
            updates[index] = op.with_attrs(
                backend=family(choice.model),
                model=choice.model,
                precision=choice.precision,
                batch=choice.batch,
                offload=choice.offload,
                vram_gb=round(choice.vram_gb, 2),
            )
            ctx.facts["neural_model"] = choice.model
        return graph.replace_ops(updates)
