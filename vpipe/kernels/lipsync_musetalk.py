"""lipsync.apply with MuseTalk 1.5 (user weights; one U-Net pass per frame at t = 0)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vpipe.ir.graph import Op
from vpipe.kernel_api.backends import VIDEO, Backend, backend
from vpipe.kernel_api.registry import kernel
from vpipe.kernels.lipsync_neural import NeuralLipsync, NeuralLipsyncOnnx

MUSETALK = backend(
    Backend(
        "musetalk",
        "lipsync",
        summary="MuseTalk 1.5: latent inpainting of 256 px face crops, one U-Net pass per frame (user weights)",
        catalog="musetalk-1.5",
        sources=VIDEO,
        needs_weights=True,
        devices=("cuda", "cpu"),
        precisions=("fp16", "fp32"),
        resolution=256,
        batchable=True,
    )
)


class _MuseTalk(NeuralLipsync):
    version = "2"  # 2: edits start from the recording's own pictures (first generation)
    family = "musetalk"
    default_model = "musetalk-1.5"

    def build(self, op: Op, files: dict[str, Path], status: Any, device: str, precision: str) -> tuple[Any, Any]:
        from vpipe.lipsync.neural_load import load_musetalk

        return load_musetalk(files, device, precision, int(op.attr("batch") or 8))


@kernel("lipsync.apply", backend=MUSETALK, device="cpu")
class MuseTalkCpu(_MuseTalk):
    onnx_twin = "musetalk-onnx"


@kernel("lipsync.apply", backend=MUSETALK, device="cuda")
class MuseTalkCuda(_MuseTalk):
    onnx_twin = "musetalk-onnx"


@kernel("lipsync.apply", backend="musetalk-onnx", device="cpu")
class MuseTalkOnnxCpu(NeuralLipsyncOnnx, _MuseTalk):
    pass


@kernel("lipsync.apply", backend="musetalk-onnx", device="cuda")
class MuseTalkOnnxCuda(NeuralLipsyncOnnx, _MuseTalk):
    pass
