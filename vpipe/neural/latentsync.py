"""LatentSync 1.5 / 1.6 inference on one 16-frame window (bytedance/LatentSync a229c39,
`latentsync/pipelines/lipsync_pipeline.py`), with vpipe's own UNet3D (`unet3d.py`).

Per window of aligned face crops (256² for 1.5, 512² for 1.6):
- pixels in [−1, 1]; the fixed mouth mask keeps the upper face and the borders (1) and
  blanks the lower face (0); the masked and the unmasked crops are VAE-encoded;
- one noise image, the same for every frame, × the scheduler's initial sigma;
- every step: U-Net input = [noisy 4, mask 1, masked 4, reference 4] = 13 channels; with
  guidance > 1 the batch holds the zero-audio branch and the audio branch,
  noise = uncond + g·(audio − uncond);
- decode, keep the model's pixels only inside the mask, the reference elsewhere.
A fresh scheduler serves every window, so a multistep solver (DPM-Solver++) never carries
state from one window into the next (LatentSync #290).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vpipe.neural import vae as sdvae

RESOLUTION = {"1.5": 256, "1.6": 512}
# configs/scheduler_config.json (published).
SCHEDULER: dict[str, Any] = {
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "beta_start": 0.00085,
    "clip_sample": False,
    "num_train_timesteps": 1000,
    "set_alpha_to_one": False,
    "steps_offset": 1,
    "trained_betas": None,
}
SEED = 1247  # configs/unet/stage2.yaml run.seed
MASK_ROWS_256 = (95, 243)  # latentsync/utils/mask.png at 256²: the blanked rows [95, 243) …
MASK_COLS_256 = (9, 248)  # … and columns [9, 248) (their extent; used when no mask.png is supplied)


def scheduler(name: str) -> Any:
    """A new scheduler (no state) for `name`: ddim, dpm-solver++, lcm or tcd."""
    from diffusers import DDIMScheduler, DPMSolverMultistepScheduler, LCMScheduler, TCDScheduler

    if name == "ddim":
        return DDIMScheduler(**SCHEDULER)
    if name == "dpm-solver++":
        base = {k: v for k, v in SCHEDULER.items() if k not in ("clip_sample", "set_alpha_to_one")}
        return DPMSolverMultistepScheduler(**base, algorithm_type="dpmsolver++", solver_order=2)
    if name == "lcm":
        return LCMScheduler(**SCHEDULER)
    if name == "tcd":
        return TCDScheduler(**SCHEDULER)
    raise ValueError(f"unknown sampler {name!r}")


def fixed_mask(size: int, image: np.ndarray | None = None) -> np.ndarray:
    """(size, size) float32, 1 = keep, 0 = re-generate. From the user's `mask.png` when given
    (grey levels / 255, as LatentSync reads it), else the published mask's extent."""
    import cv2

    if image is not None:
        grey = image if image.ndim == 2 else image[..., 0]
        return cv2.resize(grey.astype(np.float32) / 255.0, (size, size), interpolation=cv2.INTER_LANCZOS4)
    mask = np.ones((256, 256), np.float32)
    mask[MASK_ROWS_256[0] : MASK_ROWS_256[1], MASK_COLS_256[0] : MASK_COLS_256[1]] = 0.0
    return cv2.resize(mask, (size, size), interpolation=cv2.INTER_NEAREST) if size != 256 else mask


@dataclass
class LatentSync:
    vae: Any
    unet: Any  # vpipe.neural.unet3d.UNet3DConditionModel
    encoder: Any  # transformers WhisperEncoder
    resolution: int
    device: Any = "cpu"
    dtype: Any = None
    sampler: str = "ddim"
    steps: int = 20
    guidance: float = 1.5
    seed: int = SEED
    mask: np.ndarray | None = None
    evaluations: int = 0  # U-Net samples (window × step × guidance branch)
    calls: list[int] = field(default_factory=list)  # batch of every U-Net call
    resets: int = 0  # schedulers created (one per window)

    def render(self, faces: np.ndarray, tokens: np.ndarray) -> np.ndarray:
        """(f, R, R, 3) uint8 BGR aligned faces + (f, 50, dim) tokens → (f, R, R, 3) uint8 BGR."""
        import torch
        import torch.nn.functional as F

        f = len(faces)
        keep = torch.from_numpy(fixed_mask(self.resolution, self.mask)).to(self.device, self.dtype)[None, None]
        pixels = sdvae.to_tensor(faces, self.device, self.dtype)
        masked = sdvae.encode(self.vae, pixels * keep)
        reference = sdvae.encode(self.vae, pixels)
        r = masked.shape[-1]
        latent_mask = F.interpolate(keep, size=(r, r)).expand(f, 1, r, r)

        def video(x: torch.Tensor) -> torch.Tensor:  # (f, c, h, w) → (1, c, f, h, w)
            return x.permute(1, 0, 2, 3)[None]

        cfg = self.guidance > 1.0
        cond = torch.cat([video(latent_mask), video(masked), video(reference)], dim=1)
        audio = torch.from_numpy(tokens).to(self.device, self.dtype)
        if cfg:
            cond = torch.cat([cond, cond])
            audio = torch.cat([torch.zeros_like(audio), audio])
        sched = scheduler(self.sampler)
        self.resets += 1
        sched.set_timesteps(self.steps, device=self.device)
        g = torch.Generator("cpu").manual_seed(self.seed)
        noise = torch.randn((1, 4, 1, r, r), generator=g).to(self.device, self.dtype)
        latents = noise.repeat(1, 1, f, 1, 1) * sched.init_noise_sigma
        with torch.no_grad():
            for t in sched.timesteps:
                x = torch.cat([latents] * 2) if cfg else latents
                x = torch.cat([sched.scale_model_input(x, t), cond], dim=1)
                pred = self.unet(x, t, audio)
                self.evaluations += x.shape[0]
                self.calls.append(int(x.shape[0]))
                if cfg:
                    uncond, cond_pred = pred.chunk(2)
                    pred = uncond + self.guidance * (cond_pred - uncond)
                latents = sched.step(pred, t, latents).prev_sample
        decoded = sdvae.decode(self.vae, latents[0].permute(1, 0, 2, 3))
        combined = decoded * (1 - keep) + pixels * keep
        return sdvae.to_images(combined)
