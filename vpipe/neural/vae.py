"""The Stable Diffusion VAE both MuseTalk and LatentSync use (stabilityai/sd-vae-ft-mse):
images in [−1, 1] ↔ latents × 0.18215, 8× smaller, 4 channels.

Encoding takes the latent distribution's mean. MuseTalk's inference samples it
(`latent_dist.sample()`), LatentSync's too, so their outputs change from run to run; the
mean is what their training helpers use and keeps a re-run byte-identical (and cacheable).
"""

from __future__ import annotations

from typing import Any

import numpy as np

SCALING_FACTOR = 0.18215

# stabilityai/sd-vae-ft-mse config.json (published).
SD_VAE: dict[str, Any] = {
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
    "block_out_channels": [128, 256, 512, 512],
    "layers_per_block": 2,
    "act_fn": "silu",
    "latent_channels": 4,
    "norm_num_groups": 32,
    "sample_size": 256,
    "scaling_factor": SCALING_FACTOR,
}
PARAMETERS = 83653863  # measured: AutoencoderKL(**SD_VAE) on the meta device


def build_vae(config: dict[str, Any] | None = None) -> Any:
    from diffusers import AutoencoderKL

    cfg = {k: v for k, v in (config or SD_VAE).items() if not k.startswith("_")}
    return AutoencoderKL(**cfg)


def to_tensor(images_bgr: np.ndarray, device: Any, dtype: Any) -> Any:
    """(n, h, w, 3) uint8 BGR → (n, 3, h, w) RGB in [−1, 1]."""
    import torch

    rgb = np.ascontiguousarray(images_bgr[..., ::-1]).astype(np.float32) / 127.5 - 1.0
    return torch.from_numpy(rgb).permute(0, 3, 1, 2).to(device=device, dtype=dtype)


def to_images(pixels: Any) -> np.ndarray:
    """(n, 3, h, w) RGB in [−1, 1] → (n, h, w, 3) uint8 BGR."""
    x = ((pixels.float() / 2 + 0.5).clamp(0, 1) * 255).round().to("cpu").numpy().astype(np.uint8)
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1)[..., ::-1])


def encode(vae: Any, pixels: Any) -> Any:
    """Latents (the distribution's mean, scaled) of (n, 3, h, w) images in [−1, 1]."""
    import torch

    with torch.no_grad():
        return vae.encode(pixels).latent_dist.mean * vae.config.scaling_factor


def decode(vae: Any, latents: Any) -> Any:
    import torch

    with torch.no_grad():
        return vae.decode(latents / vae.config.scaling_factor).sample
