"""The parts of MuseTalk and LatentSync that export-onnx exports (U-Net, VAE decoder), as
plain modules with tensor inputs, and their ONNX Runtime stand-ins with the interface the
torch samplers call, so `MuseTalk.render` / `LatentSync.render` run unchanged on either.

The audio tokens enter LatentSync's U-Net as (batch, frames, 50, dim), so every input's axis 0
is the same batch (the guidance pair) and one dynamic axis serves all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np


def unet_part(unet: Any, kind: str) -> Any:
    """forward(sample, timestep[b] float32, audio) → noise / latents, float32."""
    import torch

    class UNetPart(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.unet = unet

        def forward(self, sample: torch.Tensor, timestep: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
            if kind == "musetalk":
                return self.unet(sample, timestep, encoder_hidden_states=audio).sample
            return self.unet(sample, timestep, audio)

    return UNetPart().eval()


def vae_decoder_part(vae: Any) -> Any:
    """forward(scaled latents) → pixels in [−1, 1]."""
    import torch

    class VaeDecoderPart(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.vae = vae

        def forward(self, latents: torch.Tensor) -> torch.Tensor:
            return self.vae.decode(latents / self.vae.config.scaling_factor).sample

    return VaeDecoderPart().eval()


def example_inputs(model: Any, kind: str, batch: int = 2) -> dict[str, dict[str, np.ndarray]]:
    """Seeded example inputs of the loaded model's own shapes, per part."""
    rng = np.random.default_rng(0)
    factor = 2 ** (len(model.vae.config.block_out_channels) - 1)
    if kind == "musetalk":
        r, frames = 256 // factor, None
        cfg = model.unet.config
        sample = rng.standard_normal((batch, cfg.in_channels, r, r))
        audio = rng.standard_normal((batch, 50, cfg.cross_attention_dim))
    else:
        r, frames = model.resolution // factor, 16
        cfg = model.unet.config
        sample = rng.standard_normal((batch, cfg.in_channels, frames, r, r))
        audio = rng.standard_normal((batch, frames, 50, cfg.cross_attention_dim))
    latents = rng.standard_normal((batch, 4, r, r)) * 0.5
    f32 = np.float32
    return {
        "unet": {
            "sample": sample.astype(f32),
            "timestep": np.full((batch,), 500, f32),
            "audio": audio.astype(f32),
        },
        "vae_decoder": {"latents": latents.astype(f32)},
    }


@dataclass
class OrtUNet:
    """An ONNX Runtime session called like the torch U-Net by the samplers."""

    session: Any
    kind: str
    config: Any

    def __call__(self, sample: Any, timestep: Any, audio: Any = None, encoder_hidden_states: Any = None) -> Any:
        import torch

        audio = encoder_hidden_states if audio is None else audio
        b = sample.shape[0]
        if self.kind == "latentsync":
            audio = audio.reshape(b, -1, *audio.shape[1:])
        t = torch.as_tensor(timestep).float().reshape(-1).expand(b)
        feeds = {
            "sample": sample.float().cpu().numpy(),
            "timestep": t.cpu().numpy().astype(np.float32),
            "audio": audio.float().cpu().numpy(),
        }
        (out,) = self.session.run(["output"], feeds)
        result = torch.from_numpy(out).to(device=sample.device, dtype=sample.dtype)
        return SimpleNamespace(sample=result) if self.kind == "musetalk" else result


@dataclass
class OrtVae:
    """Encodes with the torch VAE (the encoder runs twice per frame, outside the loop) and
    decodes with the exported decoder."""

    torch_vae: Any
    session: Any

    @property
    def config(self) -> Any:
        return self.torch_vae.config

    def encode(self, pixels: Any) -> Any:
        return self.torch_vae.encode(pixels)

    def decode(self, latents: Any) -> Any:
        import torch

        scaled = (latents * self.config.scaling_factor).float().cpu().numpy()
        (out,) = self.session.run(["output"], {"latents": scaled})
        return SimpleNamespace(sample=torch.from_numpy(out).to(device=latents.device, dtype=latents.dtype))
