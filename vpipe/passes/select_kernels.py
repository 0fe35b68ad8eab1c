"""select-kernels: choose an implementation for every op and attach its estimate.

An op with a `backend` attribute takes only kernels of that backend. Kernels for the
target device win; CPU kernels are the fallback for a CUDA target (with a remark). An op
with no usable kernel gets a warning (VP111) here; `vpipe run` refuses to start then.

Before:
    %alignment = speech.align(%audio, %transcript, %lexicon) {"backend": "pocketsphinx"} : Alignment shared

After:
    %alignment = speech.align(%audio, %transcript, %lexicon) {"backend": "pocketsphinx"} : Alignment shared kernel(pocketsphinx@cpu) est(t=1.8, ram_mb=120, vram_mb=0)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

from vpipe.ir.graph import Graph, Op
from vpipe.kernel_api import registry
from vpipe.passes.base import PassContext
from vpipe.passes.registry import register


@register
@dataclass(frozen=True)
class SelectKernels:
    name: ClassVar[str] = "select-kernels"
    summary: ClassVar[str] = "pick a kernel (backend@device) for every op and attach resource estimates"

    def run(self, graph: Graph, ctx: PassContext) -> Graph:
        device = ctx.target.device
        estimate_context: dict[str, Any] = {
            "graph": graph,
            "target": ctx.target,
            "facts": ctx.facts,
        }
        ops: list[Op] = []
        missing: list[str] = []
        for op in graph.ops:
            chosen, reasons = choose(op, device)
            if chosen is None:
                missing.append(op.kind)
                why = "; ".join(reasons) if reasons else "no kernel implements it"
                ctx.diagnostics.warning("VP111", f"no usable kernel for {op.kind}: {why}", ctx.span(op))
                ops.append(replace(op, kernel=None, estimate=None))
                continue
            if chosen.device != device:
                ctx.diagnostics.remark(
                    "VP211", f"{op.kind} runs on {chosen.device} ({chosen.backend}); no {device} kernel", ctx.span(op)
                )
            kern = registry.instance(chosen)
            ops.append(replace(op, kernel=chosen.id, estimate=kern.estimate(op, estimate_context)))
        ctx.facts["missing_kernels"] = missing
        return Graph(graph.name, tuple(ops))


def choose(op: Op, device: str) -> tuple[registry.KernelInfo | None, list[str]]:
    backend = op.attr("backend")
    options = [k for k in registry.candidates(op.kind) if backend is None or k.backend == backend]
    reasons: list[str] = []
    if not options and backend is not None:
        reasons.append(f"no '{backend}' kernel is installed")
    preference = [device] if device == "cpu" else [device, "cpu"]
    for dev in preference:
        for info in sorted((k for k in options if k.device == dev), key=lambda k: -k.cls.priority):
            why = registry.availability(info)
            if why is None:
                return info, []
            reasons.append(f"{info.id}: {why}")
    return None, reasons
