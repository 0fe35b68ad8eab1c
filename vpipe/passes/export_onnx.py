"""export-onnx: replace a torch kernel with an ONNX Runtime one, checked and cached.

For every op whose selected kernel names an `onnx_twin` (Wav2Lip; MuseTalk and LatentSync,
whose `onnx_spec` lists two networks, the U-Net and the VAE decoder), the kernel's
`onnx_spec(op)` (the module with the user's weights, example inputs, a key from the weights
hash) is exported once per network: fp32 for CPU targets, fp16 for CUDA targets unless the target asks
for fp32 (IO stays float32), external data past 2 GB, kept under ~/.cache/vpipe/onnx by
weights hash + opset + precision, and accepted only if onnxruntime reproduces torch within
1e-4 (fp32) / 1e-2 (fp16) on the example inputs. The op then runs on the twin kernel with
the file's path in its `onnx` attribute. When anything fails (an op that does not export,
a parity miss, no onnxruntime, weights not found) the op keeps its torch kernel and the
pass leaves a VP230 remark saying why.

Before:
    %frames = lipsync.apply(%video, %landmarks, %track, %spans, %inventory) {"backend": "wav2lip", "windows": [[1.83, 2.35]]} : Frames per_row kernel(wav2lip@cpu)

After (fp32 CPU target):
    %frames = lipsync.apply(%video, %landmarks, %track, %spans, %inventory) {"backend": "wav2lip", "onnx": {"max_error": 5.96e-08, "opset": 17, "path": "~/.cache/vpipe/onnx/wav2lip-1f0c…-op17-fp32.onnx", "precision": "fp32"}, "windows": [[1.83, 2.35]]} : Frames per_row kernel(wav2lip-onnx@cpu)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from vpipe.ir.graph import Graph, Op
from vpipe.kernel_api import registry
from vpipe.passes.base import PassContext
from vpipe.passes.registry import register


@register
@dataclass(frozen=True)
class ExportOnnx:
    name: ClassVar[str] = "export-onnx"
    summary: ClassVar[str] = "run neural kernels with ONNX Runtime (fp16 on CUDA targets), parity-checked, cached"
    opset: int = 17
    precision: str = "auto"  # auto: fp16 on CUDA targets (unless the target says fp32), fp32 on CPU
    cache_dir: str = ""  # default ~/.cache/vpipe/onnx

    def run(self, graph: Graph, ctx: PassContext) -> Graph:
        updates: dict[int, Op] = {}
        for index, op in enumerate(graph.ops):
            info = registry.find(op.kind, op.kernel) if op.kernel else None
            twin_name = getattr(info.cls, "onnx_twin", None) if info else None
            if info is None or not twin_name:
                continue
            twin = registry.find(op.kind, f"{twin_name}@{info.device}")
            why = "no ONNX Runtime kernel is installed" if twin is None else registry.availability(twin)
            if twin is None or why:
                ctx.diagnostics.remark("VP230", f"{op.kind} keeps {op.kernel}: {why}", ctx.span(op))
                continue
            precision = self._precision(info.device, ctx)
            try:
                exported = self._export(registry.instance(info), op, precision, info.device)
            except Exception as exc:  # ExportFailed, WeightsError, missing weights: keep torch
                ctx.diagnostics.remark("VP230", f"{op.kind} keeps {op.kernel}: {exc}", ctx.span(op))
                continue
            if isinstance(exported, dict):  # several networks (MuseTalk, LatentSync: U-Net and VAE decoder)
                attr = {name: e.to_attr() for name, e in exported.items()}
                updates[index] = replace(op.with_attrs(onnx=attr), kernel=twin.id)
                for name, e in exported.items():
                    ctx.facts.setdefault("onnx_exports", []).append(
                        {"op": op.kind, "kernel": twin.id, "part": name, "reused": e.reused, **e.to_attr()}
                    )
                continue
            updates[index] = replace(op.with_attrs(onnx=exported.to_attr()), kernel=twin.id)
            ctx.facts.setdefault("onnx_exports", []).append(
                {"op": op.kind, "kernel": twin.id, "reused": exported.reused, **exported.to_attr()}
            )
        return graph.replace_ops(updates)

    def _precision(self, device: str, ctx: PassContext) -> str:
        if self.precision != "auto":
            return self.precision
        if device != "cuda":
            return "fp32"
        return "fp32" if getattr(ctx.target, "precision", "fp16") == "fp32" else "fp16"

    def _export(self, kern: object, op: Op, precision: str, device: str):  # type: ignore[no-untyped-def]
        from vpipe.neural.onnx_export import export_onnx

        spec = kern.onnx_spec(op)  # type: ignore[attr-defined]
        cache = Path(self.cache_dir) if self.cache_dir else None
        if isinstance(spec, list):  # one graph per network, each parity-checked and cached
            return {s.name: export_onnx(s, precision, self.opset, cache, device) for s in spec}
        return export_onnx(spec, precision, self.opset, cache, device)
