"""lipsync.apply with MuseTalk 1.5 (user weights; one U-Net pass per frame at t = 0)."""

from __future__ import annotations

from typing import Any

from vpipe.ir.graph import Op
from vpipe.kernel_api.backends import VIDEO, Backend, backend
from vpipe.kernel_api.registry import kernel
from vpipe.kernels.lipsync_neural import NeuralLipsync

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
    version = "1"
    family = "musetalk"
    default_model = "musetalk-1.5"

    def load(self, op: Op, rt: Any) -> tuple[Any, dict[str, object]]:
        from vpipe.lipsync.neural_load import load_musetalk

        files, status = self.files(op, rt)
        precision = str(op.attr("precision") or ("fp16" if self.device == "cuda" else "fp32"))
        batch = int(op.attr("batch") or 8)
        key = f"musetalk:{status.weights_hash}:{self.device}:{precision}:{batch}"
        model, report = rt.resource(key, lambda: load_musetalk(files, self.device, precision, batch))
        return model, report.to_json()


@kernel("lipsync.apply", backend=MUSETALK, device="cpu")
class MuseTalkCpu(_MuseTalk):
    pass


@kernel("lipsync.apply", backend=MUSETALK, device="cuda")
class MuseTalkCuda(_MuseTalk):
    pass
