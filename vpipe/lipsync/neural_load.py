"""Build the neural lip-sync models from the user's weight files (found by `vpipe.weights`).

Every network is loaded strictly: a missing, unexpected or mis-shaped tensor is an error that
names the keys (LatentSync's own loader passes strict=False and silently keeps random
weights for whatever does not match). The whisper checkpoint's decoder is not used and is
left out on purpose; that is the only filtering, and it is reported.

LatentSync 1.5 and 1.6 share file name and architecture (`latentsync_unet.pt`, identical
shapes: 1.6 only changed the training resolution), so shapes cannot tell them apart. The
version is taken from the file's sha256 where the catalog lists it, else from the Hugging
Face repository the file sits in (`models--ByteDance--LatentSync-1.6`), else it is unknown and
the requested version's resolution is used; the report says which.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vpipe.weights import LoadReport, load_state_dict, load_strict


@dataclass
class LoadedReport:
    """What was loaded, for the manifest: files, key checks, the version found and how."""

    files: dict[str, str] = field(default_factory=dict)
    checks: dict[str, str] = field(default_factory=dict)
    version: str | None = None
    version_from: str = ""
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, path: Path, report: LoadReport) -> None:
        self.files[name] = str(path)
        self.checks[name] = report.describe()

    def to_json(self) -> dict[str, object]:
        return {
            "files": self.files,
            "checks": self.checks,
            "version": self.version,
            "version_from": self.version_from,
            "notes": self.notes,
        }


def torch_dtype(precision: str, device: str) -> Any:
    import torch

    if device == "cpu":
        return torch.float32  # half precision on the CPU is slow and partly unsupported
    return {"fp16": torch.float16, "bf16": torch.bfloat16}.get(precision, torch.float32)


def _vae(folder: Path, files: dict[str, Path], report: LoadedReport) -> Any:
    import json

    from vpipe.neural.vae import SD_VAE, build_vae

    cfg_path = files.get("sd-vae/config.json") or folder / "sd-vae" / "config.json"
    config = json.loads(cfg_path.read_text(encoding="utf-8")) if cfg_path.is_file() else SD_VAE
    vae = build_vae(config)
    weights = files.get("sd-vae/diffusion_pytorch_model.safetensors") or files["sd-vae/diffusion_pytorch_model.bin"]
    report.add("vae", weights, load_strict(vae, load_state_dict(weights), str(weights)))
    return vae


def _place(models: list[Any], device: str, dtype: Any) -> None:
    for m in models:
        m.to(device=device, dtype=dtype).eval()


def load_musetalk(
    files: dict[str, Path], device: str = "cpu", precision: str = "fp32", batch: int = 8
) -> tuple[Any, LoadedReport]:
    """MuseTalk 1.5 from `musetalkV15/{unet.pth, musetalk.json}`, `sd-vae/*`, `whisper/*`
    (Hugging Face layout)."""
    from transformers import WhisperConfig
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    from vpipe.neural.musetalk import MuseTalk, build_unet, read_unet_config
    from vpipe.neural.whisper_features import hf_encoder_state

    report = LoadedReport(version="1.5", version_from="catalog (one published version)")
    unet = build_unet(read_unet_config(files["musetalkV15/musetalk.json"]))
    path = files["musetalkV15/unet.pth"]
    report.add("unet", path, load_strict(unet, load_state_dict(path), str(path)))
    vae = _vae(path.parent.parent, files, report)
    wcfg = WhisperConfig.from_json_file(str(files["whisper/config.json"]))
    encoder = WhisperEncoder(wcfg)
    wpath = files["whisper/pytorch_model.bin"]
    full = load_state_dict(wpath)
    state = hf_encoder_state(full)
    report.add("whisper", wpath, load_strict(encoder, state, str(wpath)))
    if len(state) < len(full):
        report.notes.append(f"whisper: {len(full) - len(state)} decoder tensors not used (only the encoder runs)")
    dtype = torch_dtype(precision, device)
    _place([unet, vae, encoder], device, dtype)
    return MuseTalk(vae, unet, encoder, device, dtype, batch=batch), report


def identify_latentsync(path: Path, variants: dict[str, str] | None, sha256: str | None) -> tuple[str | None, str]:
    """(version, how) of a `latentsync_unet.pt`."""
    if sha256 and variants and sha256 in variants:
        return variants[sha256], f"sha256 {sha256[:12]}… is the published {variants[sha256]}"
    for part in Path(path).resolve().parts:
        for version in ("1.5", "1.6"):
            if part.lower().endswith(f"latentsync-{version}"):
                return version, f"found in the Hugging Face snapshot of LatentSync-{version}"
    why = f"sha256 {sha256[:12]}… is not in the catalog" if sha256 else "no sha256 computed"
    return None, f"unidentified ({why}; 1.5 and 1.6 have identical shapes)"


def load_latentsync(
    files: dict[str, Path],
    requested: str,
    device: str = "cpu",
    precision: str = "fp32",
    variants: dict[str, str] | None = None,
    sha256: str | None = None,
    unet_config: Any = None,
) -> tuple[Any, LoadedReport]:
    """LatentSync from `latentsync_unet.pt` ({"state_dict": …}), `whisper/tiny.pt` (OpenAI
    format) and `sd-vae/*`. The resolution follows the version found (or `requested`)."""
    from vpipe.neural.latentsync import RESOLUTION, LatentSync
    from vpipe.neural.unet3d import LATENTSYNC_UNET, UNet3DConditionModel
    from vpipe.neural.whisper_features import encoder_from_openai

    path = files["latentsync_unet.pt"]
    report = LoadedReport()
    report.version, report.version_from = identify_latentsync(path, variants, sha256)
    if report.version is not None and report.version != requested:
        report.notes.append(f"asked for LatentSync {requested}, the file is {report.version}: using {report.version}")
    version = report.version or requested
    unet = UNet3DConditionModel(unet_config or LATENTSYNC_UNET)
    report.add("unet", path, load_strict(unet, load_state_dict(path, container="state_dict"), str(path)))
    vae = _vae(path.parent, files, report)
    wpath = files["whisper/tiny.pt"]
    encoder, state = encoder_from_openai(load_state_dict(wpath, container="model_state_dict"))
    report.add("whisper", wpath, load_strict(encoder, state, str(wpath)))
    mask = None
    mask_path = path.parent / "mask.png"
    if mask_path.is_file():
        import cv2

        mask = cv2.imread(str(mask_path), cv2.IMREAD_GRAYSCALE)
        report.files["mask"] = str(mask_path)
    else:
        report.notes.append("no mask.png beside the U-Net: the published mask's extent is used")
    dtype = torch_dtype(precision, device)
    _place([unet, vae, encoder], device, dtype)
    model = LatentSync(vae, unet, encoder, RESOLUTION[version], device, dtype, mask=mask)
    return model, report
