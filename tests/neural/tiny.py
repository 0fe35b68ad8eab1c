"""Tiny random weights of the real architectures, written in the published file layouts, so the
loaders, kernels and passes run on the CPU in seconds. Same module types, key names and data
flow as the full models; only widths, depths and vocabularies are small. The geometry that
matters to vpipe is kept: 256² crops, 16-frame windows, 5 whisper states per 20 ms step, 50
tokens per frame; the VAE has one more down block (16² latents instead of 32²) to keep the
attention layers cheap on a shared 2-core CPU."""

from __future__ import annotations

import json
from pathlib import Path

import torch
import yaml

from vpipe.neural.unet3d import UNet3DConfig

WHISPER_DIM = 32
VAE = {
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ["DownEncoderBlock2D"] * 5,
    "up_block_types": ["UpDecoderBlock2D"] * 5,
    "block_out_channels": [8, 8, 8, 16, 16],
    "layers_per_block": 1,
    "act_fn": "silu",
    "latent_channels": 4,
    "norm_num_groups": 4,
    "sample_size": 256,
    "scaling_factor": 0.18215,
}
MUSETALK_UNET = {
    "_class_name": "UNet2DConditionModel",
    "act_fn": "silu",
    "attention_head_dim": 8,
    "block_out_channels": [32, 32, 32, 32],
    "cross_attention_dim": WHISPER_DIM,
    "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
    "in_channels": 8,
    "out_channels": 4,
    "layers_per_block": 1,
    "norm_num_groups": 8,
    "sample_size": 16,
}
LATENTSYNC_MODEL = {  # the `model:` section of a stage2.yaml, narrowed
    "in_channels": 13,
    "out_channels": 4,
    "block_out_channels": [32, 32, 32, 32],
    "layers_per_block": 1,
    "attention_head_dim": 8,
    "cross_attention_dim": WHISPER_DIM,
    "norm_num_groups": 32,
    "norm_eps": "1e-5",
    "motion_module_resolutions": [1, 2, 4, 8],
    "motion_module_kwargs": {
        "num_attention_heads": 8,
        "num_transformer_block": 1,
        "attention_block_types": ["Temporal_Self", "Temporal_Self"],
        "temporal_position_encoding": True,
        "temporal_position_encoding_max_len": 24,
    },
}


def whisper_config():  # type: ignore[no-untyped-def]
    from transformers import WhisperConfig

    return WhisperConfig(
        vocab_size=64,
        num_mel_bins=80,
        d_model=WHISPER_DIM,
        encoder_layers=4,
        encoder_attention_heads=1,
        encoder_ffn_dim=64,
        decoder_layers=1,
        decoder_attention_heads=1,
        decoder_ffn_dim=64,
        max_source_positions=1500,
        max_target_positions=32,
        decoder_start_token_id=1,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
    )


def _vae(folder: Path, name: str) -> None:
    from vpipe.neural.vae import build_vae

    torch.manual_seed(1)
    (folder / "sd-vae").mkdir(parents=True, exist_ok=True)
    (folder / "sd-vae" / "config.json").write_text(json.dumps(VAE))
    torch.save(build_vae(VAE).state_dict(), folder / "sd-vae" / name)


def musetalk_folder(folder: Path) -> Path:
    """musetalkV15/{unet.pth, musetalk.json}, sd-vae/*, whisper/* (Hugging Face layout)."""
    from transformers import WhisperForConditionalGeneration

    from vpipe.neural.musetalk import build_unet

    torch.manual_seed(0)
    (folder / "musetalkV15").mkdir(parents=True, exist_ok=True)
    (folder / "musetalkV15" / "musetalk.json").write_text(json.dumps(MUSETALK_UNET))
    torch.save(build_unet(MUSETALK_UNET).state_dict(), folder / "musetalkV15" / "unet.pth")
    _vae(folder, "diffusion_pytorch_model.bin")
    (folder / "whisper").mkdir(exist_ok=True)
    cfg = whisper_config()
    cfg.to_json_file(str(folder / "whisper" / "config.json"))
    torch.save(WhisperForConditionalGeneration(cfg).state_dict(), folder / "whisper" / "pytorch_model.bin")
    (folder / "whisper" / "preprocessor_config.json").write_text(
        json.dumps({"feature_size": 80, "sampling_rate": 16000})
    )
    return folder


def openai_whisper_state(encoder_state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Hugging Face encoder keys → OpenAI's `model_state_dict` layout (plus a decoder tensor)."""
    names = {
        "self_attn.q_proj": "attn.query",
        "self_attn.k_proj": "attn.key",
        "self_attn.v_proj": "attn.value",
        "self_attn.out_proj": "attn.out",
        "self_attn_layer_norm": "attn_ln",
        "fc1": "mlp.0",
        "fc2": "mlp.2",
        "final_layer_norm": "mlp_ln",
    }
    out = {"decoder.token_embedding.weight": torch.zeros(64, WHISPER_DIM)}
    for key, value in encoder_state.items():
        if key == "embed_positions.weight":
            out["encoder.positional_embedding"] = value
        elif key.startswith("layer_norm."):
            out["encoder.ln_post." + key.split(".", 1)[1]] = value
        elif key.startswith("layers."):
            _, n, rest = key.split(".", 2)
            module, param = rest.rsplit(".", 1)
            out[f"encoder.blocks.{n}.{names.get(module, module)}.{param}"] = value
        else:
            out["encoder." + key] = value
    return out


def latentsync_folder(folder: Path, hf_version: str | None = None) -> Path:
    """latentsync_unet.pt ({"state_dict", "global_step"}), stage2.yaml, whisper/tiny.pt (OpenAI
    format with `dims`), sd-vae/*; inside a Hugging Face-like `LatentSync-<v>` folder if asked."""
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    from vpipe.neural.unet3d import UNet3DConditionModel

    if hf_version:
        folder = folder / f"models--ByteDance--LatentSync-{hf_version}"
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    unet = UNet3DConditionModel(UNet3DConfig.from_yaml_model(LATENTSYNC_MODEL))
    torch.save({"state_dict": unet.state_dict(), "global_step": 0}, folder / "latentsync_unet.pt")
    (folder / "stage2.yaml").write_text(yaml.safe_dump({"model": LATENTSYNC_MODEL}))
    (folder / "whisper").mkdir(exist_ok=True)
    state = openai_whisper_state(WhisperEncoder(whisper_config()).state_dict())
    dims = {"n_mels": 80, "n_audio_ctx": 1500, "n_audio_state": WHISPER_DIM, "n_audio_head": 1, "n_audio_layer": 4}
    torch.save({"dims": dims, "model_state_dict": state}, folder / "whisper" / "tiny.pt")
    _vae(folder, "diffusion_pytorch_model.bin")
    return folder
