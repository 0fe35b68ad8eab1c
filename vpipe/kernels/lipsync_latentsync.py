"""lipsync.apply with LatentSync 1.5 / 1.6 (user weights; a UNet3D denoising 16-frame windows)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vpipe.ir.graph import Op
from vpipe.kernel_api.backends import VIDEO, Backend, backend
from vpipe.kernel_api.registry import kernel
from vpipe.kernels.lipsync_neural import NeuralLipsync

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
    version = "1"
    family = "latentsync"
    default_model = "latentsync-1.6"

    def load(self, op: Op, rt: Any) -> tuple[Any, dict[str, object]]:
        from vpipe.catalog import model as catalog_model
        from vpipe.lipsync.neural_load import load_latentsync

        files, status = self.files(op, rt)
        model_id = self.model_id(op)
        requested = model_id.rsplit("-", 1)[-1]
        precision = str(op.attr("precision") or ("fp16" if self.device == "cuda" else "fp32"))
        unet_file = next(f for f in status.files if f.expected.name == "latentsync_unet.pt")
        variants = ((catalog_model(model_id) or {}).get("weights") or {}).get("variants")
        key = f"latentsync:{status.weights_hash}:{self.device}:{precision}"
        model, report = rt.resource(
            key,
            lambda: load_latentsync(
                files, requested, self.device, precision, variants, unet_file.sha256, unet_config(unet_file.path.parent)
            ),
        )
        model.sampler = str(op.attr("sampler") or "ddim")
        model.steps = int(op.attr("steps") or 20)
        model.guidance = float(op.attr("guidance") or 1.5)
        return model, report.to_json()


@kernel("lipsync.apply", backend=LATENTSYNC, device="cpu")
class LatentSyncCpu(_LatentSync):
    pass


@kernel("lipsync.apply", backend=LATENTSYNC, device="cuda")
class LatentSyncCuda(_LatentSync):
    pass
