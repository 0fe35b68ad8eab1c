"""GPU check of MuseTalk 1.5 and LatentSync 1.5 / 1.6 at full size (random weights of the
published architectures), fp16 on one CUDA machine, in a few minutes.

    python benchmarks/gpu_check_latent.py                  # CUDA when present, else CPU
    python benchmarks/gpu_check_latent.py --tiny --device cpu --repeats 1   # quick CPU path

Per model: fp16 vs fp32 parity of one U-Net evaluation (max abs error relative to the fp32
output's spread), per-frame time of the real rendering path (MuseTalk: VAE encode ×2, one U-Net
pass, VAE decode, batch 8; LatentSync: one 16-frame window, guidance 1.5, DPM-Solver++ 10 as
reduce-steps chooses and DDIM 20 as published), and torch's peak allocated GPU memory against
the catalog's VRAM figure. `--json FILE` writes the numbers. Random weights: timings and memory
are the real models', the pictures are not.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _sync(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


def _median_time(fn: Any, repeats: int, device: str) -> float:
    fn()  # warm-up
    _sync(device)
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        _sync(device)
        out.append(time.perf_counter() - t)
    return statistics.median(out)


def _parts(kind: str, tiny: bool) -> tuple[Any, Any, Any]:
    import torch
    from transformers import WhisperConfig
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    from vpipe.neural.musetalk import MUSETALK_UNET, build_unet
    from vpipe.neural.unet3d import LATENTSYNC_UNET, UNet3DConditionModel, UNet3DConfig
    from vpipe.neural.vae import build_vae

    torch.manual_seed(0)
    if tiny:
        from tests.neural.tiny import LATENTSYNC_MODEL, VAE, whisper_config
        from tests.neural.tiny import MUSETALK_UNET as TINY_MT

        vae, encoder = build_vae(VAE), WhisperEncoder(whisper_config())
        unet = (
            build_unet(TINY_MT)
            if kind == "musetalk"
            else UNet3DConditionModel(UNet3DConfig.from_yaml_model(LATENTSYNC_MODEL))
        )
    else:
        vae = build_vae()
        encoder = WhisperEncoder(
            WhisperConfig(d_model=384, encoder_layers=4, encoder_attention_heads=6, encoder_ffn_dim=1536)
        )
        unet = build_unet(MUSETALK_UNET) if kind == "musetalk" else UNet3DConditionModel(LATENTSYNC_UNET)
    return vae.eval(), unet.eval(), encoder.eval()


def check(model_id: str, device: str, tiny: bool, repeats: int) -> dict[str, Any]:
    import torch

    from vpipe.catalog import model as catalog
    from vpipe.neural.latentsync import RESOLUTION, LatentSync
    from vpipe.neural.musetalk import MuseTalk

    kind = model_id.split("-")[0]
    vae, unet, encoder = _parts(kind, tiny)
    dim = unet.config.cross_attention_dim
    dtype = torch.float16 if device == "cuda" else torch.float32
    rng = np.random.default_rng(0)
    result: dict[str, Any] = {"model": model_id, "device": device, "dtype": str(dtype).split(".")[-1]}
    if kind == "musetalk":
        frames, size = 8, 256
        net = MuseTalk(vae, unet, encoder, device, torch.float32, batch=8)
    else:
        frames, size = 16, RESOLUTION[model_id.split("-")[1]]
        net = LatentSync(vae, unet, encoder, size, device, torch.float32, sampler="dpm-solver++", steps=10)
    faces = rng.integers(0, 255, (frames, size, size, 3), dtype=np.uint8)
    tokens = rng.standard_normal((frames, 50, dim)).astype(np.float32)
    # parity of one U-Net evaluation, fp16 against fp32 (the same weights)
    for m in (vae, unet, encoder):
        m.to(device=device, dtype=torch.float32)
    r = size // 8 if not tiny else size // 16
    if kind == "musetalk":
        x = torch.randn(2, 8, r, r, device=device)
        a = torch.randn(2, 50, dim, device=device)
        call = lambda m, x, a: m(x, torch.zeros(2, device=device), encoder_hidden_states=a).sample  # noqa: E731
    else:
        x = torch.randn(2, 13, 16, r, r, device=device)
        a = torch.randn(32, 50, dim, device=device)
        call = lambda m, x, a: m(x, 500, a)  # noqa: E731
    with torch.no_grad():
        ref = call(unet, x, a).float()
        unet.to(dtype)
        low = call(unet, x.to(dtype), a.to(dtype)).float()
    result["fp16_max_error_rel"] = float((low - ref).abs().max() / ref.std().clamp_min(1e-6))
    for m in (vae, encoder):
        m.to(dtype)
    net.dtype = dtype
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    if kind == "musetalk":
        seconds = _median_time(lambda: net.render(faces, tokens), repeats, device)
        result["ms_per_frame"] = 1000 * seconds / frames
    else:
        seconds = _median_time(lambda: net.render(faces, tokens), repeats, device)
        result["ms_per_frame_dpm10"] = 1000 * seconds / frames
        net.sampler, net.steps = "ddim", 20
        seconds = _median_time(lambda: net.render(faces, tokens), repeats, device)
        result["ms_per_frame_ddim20"] = 1000 * seconds / frames
    if device == "cuda":
        result["peak_vram_gb"] = torch.cuda.max_memory_allocated() / 1e9
    result["catalog_vram_gb"] = ((catalog(model_id) or {}).get("vram_gb") or {}).get("fp16")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["auto", "cuda", "cpu"], default="auto")
    parser.add_argument("--models", default="musetalk-1.5,latentsync-1.5,latentsync-1.6")
    parser.add_argument("--tiny", action="store_true", help="tiny configs (the CPU smoke path)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    import torch

    device = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    results = [check(m, device, args.tiny, args.repeats) for m in args.models.split(",")]
    for r in results:
        print(json.dumps(r))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    bad = [r for r in results if r["fp16_max_error_rel"] > 0.05 and device == "cuda"]
    over = [
        r
        for r in results
        if r.get("peak_vram_gb") and r["catalog_vram_gb"] and r["peak_vram_gb"] > r["catalog_vram_gb"]
    ]
    return 1 if bad or over else 0


if __name__ == "__main__":
    raise SystemExit(main())
