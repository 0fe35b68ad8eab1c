"""MuseTalk 1.5 (vpipe.neural.musetalk): the published sizes on the meta device, and the
inference pieces vpipe fixes (latent mean, the lower-half mask, one U-Net pass per frame)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from tests.neural.tiny import MUSETALK_UNET, VAE  # noqa: E402
from vpipe.neural import vae as sdvae  # noqa: E402
from vpipe.neural.musetalk import (  # noqa: E402
    MUSETALK_UNET as PUBLISHED,
)
from vpipe.neural.musetalk import (  # noqa: E402
    UNET_PARAMETERS,
    MuseTalk,
    audio_positions,
    build_unet,
    lower_half_masked,
)


def test_full_size_parts_build_on_meta_with_the_published_sizes() -> None:
    from transformers import WhisperConfig
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    with torch.device("meta"):
        unet = build_unet(PUBLISHED)
        vae = sdvae.build_vae()
        whisper = WhisperEncoder(
            WhisperConfig(d_model=384, encoder_layers=4, encoder_attention_heads=6, encoder_ffn_dim=1536)
        )
    n = sum(p.numel() for p in unet.parameters())
    assert n == UNET_PARAMETERS == 849_947_844
    assert abs(n * 4 / 1e9 - 3.4) < 0.05  # unet.pth is 3.4 GB in fp32 (Hugging Face mirror)
    assert sum(p.numel() for p in vae.parameters()) == sdvae.PARAMETERS
    assert sum(p.numel() for p in whisper.parameters()) == 8_208_384
    state = unet.state_dict()
    assert tuple(state["conv_in.weight"].shape) == (320, 8, 3, 3)
    assert tuple(state["conv_out.weight"].shape) == (4, 320, 3, 3)
    assert tuple(state["down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight"].shape) == (320, 384)


def test_masked_input_and_positions() -> None:
    crops = np.full((2, 256, 256, 3), 200, np.uint8)
    masked = lower_half_masked(crops)
    assert (masked[:, :128] == 200).all() and (masked[:, 128:] == 0).all()
    assert sdvae.to_tensor(masked, "cpu", torch.float32)[0, :, 200].eq(-1).all()  # black = −1
    pe = audio_positions(384)
    assert pe.shape == (50, 384) and pe[0, 0] == 0.0 and pe[0, 1] == 1.0


def test_render_is_deterministic_and_runs_the_unet_once_per_frame() -> None:
    torch.manual_seed(0)
    model = MuseTalk(sdvae.build_vae(VAE).eval(), build_unet(MUSETALK_UNET).eval(), None, batch=2)
    crops = np.random.default_rng(0).integers(0, 255, (3, 256, 256, 3), dtype=np.uint8)
    tokens = np.random.default_rng(1).standard_normal((3, 50, 32)).astype(np.float32)
    a = model.render(crops, tokens)
    b = model.render(crops, tokens)
    assert a.shape == (3, 256, 256, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b)  # the latent mean, not a sample: the same input gives the same frame
    assert model.evaluations == 6 and model.calls == [2, 1, 2, 1]
