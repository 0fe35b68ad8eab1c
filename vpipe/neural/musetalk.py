"""MuseTalk 1.5 (TMElyralab/MuseTalk 0a89dec) assembled from diffusers and transformers parts.

Per frame: the 256² face crop, its lower half zeroed, and the same crop unmasked are encoded by
the SD VAE (latent mean × 0.18215) and stacked into 8 × 32 × 32; a diffusers
UNet2DConditionModel built from the user's `musetalk.json` (in 8, out 4, cross-attention 384)
runs ONCE at t = 0 with the frame's 50 whisper tokens (+ a sinusoidal position table) and its
4 output channels are decoded as the new face. It is an inpainting network, not a sampler.

`musetalk.json` is not in the MuseTalk repository; `MUSETALK_UNET` is the SD 1.x layout that
third-party copies carry (unverified) and is only the default for tests and the GPU check:
the user's file always wins.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vpipe.neural import vae as sdvae

CROP = 256
MUSETALK_UNET: dict[str, Any] = {
    "act_fn": "silu",
    "attention_head_dim": 8,
    "block_out_channels": [320, 640, 1280, 1280],
    "center_input_sample": False,
    "cross_attention_dim": 384,
    "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
    "downsample_padding": 1,
    "flip_sin_to_cos": True,
    "freq_shift": 0,
    "in_channels": 8,
    "layers_per_block": 2,
    "mid_block_scale_factor": 1,
    "norm_eps": 1e-05,
    "norm_num_groups": 32,
    "out_channels": 4,
    "sample_size": 64,
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
}
UNET_PARAMETERS = 849947844  # measured: UNet2DConditionModel(**MUSETALK_UNET) on meta; ×4 B = 3.40 GB (HF: 3.4 GB)


def read_unet_config(path: Path) -> dict[str, Any]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a JSON object")
    return data


def build_unet(config: dict[str, Any]) -> Any:
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel(**{k: v for k, v in config.items() if not k.startswith("_")})


def audio_positions(dim: int, length: int = 50) -> np.ndarray:
    """MuseTalk's PositionalEncoding table (d_model 384, added to the 50 tokens of every frame)."""
    position = np.arange(length, dtype=np.float64)[:, None]
    div = np.exp(np.arange(0, dim, 2, dtype=np.float64) * (-math.log(10000.0) / dim))
    pe = np.zeros((length, dim), np.float64)
    pe[:, 0::2] = np.sin(position * div)
    pe[:, 1::2] = np.cos(position * div)
    return pe.astype(np.float32)


def lower_half_masked(crops: np.ndarray) -> np.ndarray:
    """The crops with rows 128…255 black (−1 once normalised), as MuseTalk's VAE input."""
    out = crops.copy()
    out[:, crops.shape[1] // 2 :] = 0
    return out


@dataclass
class MuseTalk:
    """The loaded networks: VAE, U-Net and whisper encoder, on one device and dtype."""

    vae: Any
    unet: Any
    encoder: Any
    device: Any = "cpu"
    dtype: Any = None
    evaluations: int = 0  # U-Net forward passes (a batch of frames counts as one per frame)
    batch: int = 8
    calls: list[int] = field(default_factory=list)  # batch size of every U-Net call

    def render(self, crops: np.ndarray, tokens: np.ndarray) -> np.ndarray:
        """(n, 256, 256, 3) uint8 BGR crops + (n, 50, dim) whisper tokens → new crops, uint8 BGR."""
        import torch

        out = []
        pe = torch.from_numpy(audio_positions(tokens.shape[-1], tokens.shape[1]))
        for a in range(0, len(crops), self.batch):
            chunk = crops[a : a + self.batch]
            masked = sdvae.encode(self.vae, sdvae.to_tensor(lower_half_masked(chunk), self.device, self.dtype))
            reference = sdvae.encode(self.vae, sdvae.to_tensor(chunk, self.device, self.dtype))
            audio = (torch.from_numpy(tokens[a : a + self.batch]) + pe).to(self.device, self.dtype)
            t = torch.zeros(len(chunk), device=self.device, dtype=torch.long)
            with torch.no_grad():
                latents = self.unet(torch.cat([masked, reference], dim=1), t, encoder_hidden_states=audio).sample
            self.evaluations += len(chunk)
            self.calls.append(len(chunk))
            out.append(sdvae.to_images(sdvae.decode(self.vae, latents)))
        return np.concatenate(out) if out else np.zeros((0, CROP, CROP, 3), np.uint8)
