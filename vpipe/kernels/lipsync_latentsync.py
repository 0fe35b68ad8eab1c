"""lipsync.apply with LatentSync 1.5 / 1.6 (user weights; a UNet3D denoising 16-frame windows)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vpipe.ir.graph import Op
from vpipe.kernel_api.backends import VIDEO, Backend, backend
from vpipe.kernel_api.registry import kernel
from vpipe.kernels.lipsync_neural import NeuralLipsync, NeuralLipsyncOnnx

LATENTSYNC = backend(
    Backend(
        "latentsync",
        "lipsync",
        summary="LatentSync 1.5 (256 px) / 1.6 (512 px): audio-conditioned latent diffusion over 16-frame windows (user weights)",
        sources=VIDEO,
        needs_weights=True,
        devices=("cuda", "cpu"),
        precisions=("fp16", "fp32"),
        resolution=256,
        window_frames=16,
    )
)


def unet_config(folder: Path) -> Any:
    """LatentSync's own `stage2.yaml` / `stage2_512.yaml` beside the checkpoint, when the user
    put it there (its `model:` section); else the published architecture."""
    import yaml

    from vpipe.neural.unet3d import LATENTSYNC_UNET, UNet3DConfig

    for name in ("stage2.yaml", "stage2_512.yaml", "unet.yaml"):
        path = folder / name
        if path.is_file():
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            return UNet3DConfig.from_yaml_model(dict(data.get("model") or {}))
    return LATENTSYNC_UNET


class _LatentSync(NeuralLipsync):
    version = "2"  # 2: edits start from the recording's own pictures (first generation)
    family = "latentsync"
    default_model = "latentsync-1.6"

    def build(self, op: Op, files: dict[str, Path], status: Any, device: str, precision: str) -> tuple[Any, Any]:
        from vpipe.catalog import model as catalog_model
        from vpipe.lipsync.neural_load import load_latentsync

        model_id = self.model_id(op)
        unet_file = next(f for f in status.files if f.expected.name == "latentsync_unet.pt")
        variants = ((catalog_model(model_id) or {}).get("weights") or {}).get("variants")
        config = unet_config(unet_file.path.parent)
        return load_latentsync(
            files, model_id.rsplit("-", 1)[-1], device, precision, variants, unet_file.sha256, config
        )

    def configure(self, model: Any, op: Op) -> None:
        model.sampler = str(op.attr("sampler") or "ddim")
        model.steps = int(op.attr("steps") or 20)
        model.guidance = float(op.attr("guidance") or 1.5)


@kernel("lipsync.apply", backend=LATENTSYNC, device="cpu")
class LatentSyncCpu(_LatentSync):
    onnx_twin = "latentsync-onnx"


@kernel("lipsync.apply", backend=LATENTSYNC, device="cuda")
class LatentSyncCuda(_LatentSync):
    onnx_twin = "latentsync-onnx"


@kernel("lipsync.apply", backend="latentsync-onnx", device="cpu")
class LatentSyncOnnxCpu(NeuralLipsyncOnnx, _LatentSync):
    pass


@kernel("lipsync.apply", backend="latentsync-onnx", device="cuda")
class LatentSyncOnnxCuda(NeuralLipsyncOnnx, _LatentSync):
    pass
