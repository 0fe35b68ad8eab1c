"""LatentSync's window sampler (vpipe.neural.latentsync) with a tiny UNet3D: U-Net evaluations
counted for each sampler reduce-steps can choose, a fresh scheduler per window, the mask."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from tests.neural.tiny import LATENTSYNC_MODEL, VAE  # noqa: E402
from vpipe.neural import vae as sdvae  # noqa: E402
from vpipe.neural.latentsync import LatentSync, fixed_mask  # noqa: E402
from vpipe.neural.unet3d import UNet3DConditionModel, UNet3DConfig  # noqa: E402


def _model(**kw: object) -> LatentSync:
    torch.manual_seed(0)
    unet = UNet3DConditionModel(UNet3DConfig.from_yaml_model(LATENTSYNC_MODEL)).eval()
    return LatentSync(sdvae.build_vae(VAE).eval(), unet, None, 256, **kw)  # type: ignore[arg-type]


FACES = np.random.default_rng(0).integers(0, 255, (1, 256, 256, 3), dtype=np.uint8)  # one frame: CPU-cheap
TOKENS = np.random.default_rng(1).standard_normal((1, 50, 32)).astype(np.float32)


@pytest.mark.parametrize(
    ("sampler", "steps", "guidance", "evaluations"),
    [("ddim", 20, 1.5, 40), ("dpm-solver++", 10, 1.5, 20), ("lcm", 4, 1.5, 8), ("ddim", 4, 1.0, 4)],
)
def test_unet_evaluations_per_window(sampler: str, steps: int, guidance: float, evaluations: int) -> None:
    model = _model(sampler=sampler, steps=steps, guidance=guidance)
    out = model.render(FACES, TOKENS)
    assert out.shape == FACES.shape and out.dtype == np.uint8
    assert model.evaluations == evaluations  # steps × (2 with guidance)
    assert len(model.calls) == steps and set(model.calls) == {2 if guidance > 1 else 1}


def test_each_window_gets_a_fresh_scheduler_and_the_same_result() -> None:
    model = _model(sampler="dpm-solver++", steps=3)
    first = model.render(FACES, TOKENS)
    second = model.render(FACES, TOKENS)
    assert model.resets == 2 and model.evaluations == 12
    assert np.array_equal(first, second)  # no multistep state carried from the first window


def test_pixels_outside_the_mask_are_the_reference() -> None:
    model = _model(sampler="ddim", steps=1)
    out = model.render(FACES, TOKENS)
    keep = fixed_mask(256) == 1.0
    diff = np.abs(out.astype(int) - FACES.astype(int)).max(axis=3)
    assert diff[:, keep].max() <= 1  # reference pixels (±1 from the [−1, 1] round trip)
    assert diff[:, ~keep].mean() > 5  # the model's pixels inside the mouth region
    assert fixed_mask(512).shape == (512, 512) and (fixed_mask(512) == 0).mean() == pytest.approx(
        (keep == 0).mean(), abs=0.01
    )
