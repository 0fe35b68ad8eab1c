"""LatentSync's UNet3D (vpipe.neural.unet3d) against the published architecture.

The fingerprint, key count and parameter count were measured by building bytedance/LatentSync's
own `UNet3DConditionModel.from_config(configs/unet/stage2.yaml)` (commit a229c39) on the meta
device and hashing its sorted `key [shape]` lines; the golden outputs by running that same
reference code on the tiny config below with the same seeded weights (vpipe matched it to 0.0)."""

from __future__ import annotations

import hashlib

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

from vpipe.neural.unet3d import LATENTSYNC_UNET, UNet3DConditionModel, UNet3DConfig  # noqa: E402
from vpipe.weights import WeightsError, compare, load_strict  # noqa: E402

PUBLISHED_KEYS = 1246  # state-dict entries (parameters + the motion modules' `pe` tables)
PUBLISHED_PARAMETERS = 1_267_099_844
PUBLISHED_FINGERPRINT = "8b72f73bd65ef7089edd9639c720ba809b445669881565f64fe3699d5ddb2671"


def _meta() -> UNet3DConditionModel:
    with torch.device("meta"):
        return UNet3DConditionModel(LATENTSYNC_UNET)


def test_full_size_builds_on_meta_with_the_published_counts_and_keys() -> None:
    net = _meta()
    state = net.state_dict()
    assert len(state) == PUBLISHED_KEYS
    assert sum(p.numel() for p in net.parameters()) == PUBLISHED_PARAMETERS
    text = "\n".join(f"{k} {list(v.shape)}" for k, v in sorted(state.items()))
    assert hashlib.sha256(text.encode()).hexdigest() == PUBLISHED_FINGERPRINT
    # spot checks of the published layout: 13 input channels, audio cross-attention 384, motion modules
    assert tuple(state["conv_in.weight"].shape) == (320, 13, 3, 3)
    assert tuple(state["down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight"].shape) == (320, 384)
    pe = "up_blocks.3.motion_modules.2.temporal_transformer.transformer_blocks.0.attention_blocks.1.pos_encoder.pe"
    assert tuple(state[pe].shape) == (1, 24, 320)
    assert not any(k.startswith("mid_block.motion_modules") for k in state)


def test_a_published_layout_state_dict_loads_strictly_and_a_wrong_one_is_reported() -> None:
    published = {k: torch.empty(v.shape, device="meta") for k, v in _meta().state_dict().items()}
    report = load_strict(_meta(), published, "latentsync_unet.pt")
    assert report.clean and not report.missing and not report.unexpected
    # LatentSync's own loader would silently drop these; vpipe names them
    bad = dict(published)
    bad["down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight"] = torch.empty(320, 768, device="meta")
    del bad["conv_out.bias"]
    bad["extra.weight"] = torch.empty(1, device="meta")
    found = compare(_meta(), bad)
    assert found.missing == ("conv_out.bias",) and found.unexpected == ("extra.weight",)
    assert "attn2.to_k.weight: (320, 768) vs (320, 384)" in found.mismatched[0]
    with pytest.raises(WeightsError, match="1 missing"):
        load_strict(_meta(), bad)


def test_tiny_config_matches_the_reference_implementation_outputs() -> None:
    model = {
        "in_channels": 13,
        "out_channels": 4,
        "block_out_channels": [32, 64, 64, 64],
        "layers_per_block": 1,
        "cross_attention_dim": 24,
        "norm_eps": "1e-5",
    }
    net = UNet3DConditionModel(UNet3DConfig.from_yaml_model(model)).eval()
    g = torch.Generator().manual_seed(1)
    state = {
        k: (torch.randn(v.shape, generator=g) * 0.2 if not k.endswith("pe") else v) for k, v in net.state_dict().items()
    }
    net.load_state_dict(state, strict=True)
    x = torch.randn(2, 13, 5, 16, 16, generator=g)
    audio = torch.randn(10, 7, 24, generator=g)
    with torch.no_grad():
        out = net(x, torch.tensor(981), audio)
    assert out.shape == (2, 4, 5, 16, 16)
    golden = [-0.22317, 0.605628, 0.137727, -0.607812, -0.425321, -0.702881, 0.665008, 0.779271]
    assert out.flatten()[::997][:8].tolist() == pytest.approx(golden, abs=1e-4)
    assert float(out.abs().mean()) == pytest.approx(0.410866, abs=1e-5)


def test_motion_modules_mix_frames_and_spatial_layers_do_not() -> None:
    """Changing one frame changes the others only through the temporal layers (and the
    frame-spanning GroupNorm), as in the published model."""
    cfg = UNet3DConfig.from_yaml_model(
        {"block_out_channels": [32, 32, 32, 32], "layers_per_block": 1, "cross_attention_dim": 8}
    )
    torch.manual_seed(0)
    net = UNet3DConditionModel(cfg).eval()
    x = torch.randn(1, 13, 4, 16, 16)
    y = x.clone()
    y[:, :, 3] += 1.0
    audio = torch.randn(4, 5, 8)
    with torch.no_grad():
        a, b = net(x, 500, audio), net(y, 500, audio)
    assert (a[:, :, 0] - b[:, :, 0]).abs().max() > 1e-4  # frame 0 sees frame 3
