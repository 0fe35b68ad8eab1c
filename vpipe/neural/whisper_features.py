"""Whisper-tiny encoder features for audio-driven lip-sync, computed over short windows.

Both MuseTalk 1.5 and LatentSync feed the U-Net, per video frame, the whisper-tiny encoder's
hidden states around the frame's moment: 10 steps of 20 ms (50 Hz) × 5 layers (the
embedding and each of the 4 layers) of 384 values = 50 tokens of 384. Frame i at 25 fps
takes the steps c−4 … c+5 around c = ⌊2i⌋ (here c = ⌊50·t⌋ for the frame's time t).

Where the two differ (parity traps, from their code):
- MuseTalk runs Hugging Face's WhisperEncoder, whose last hidden state is after the final
  LayerNorm; LatentSync runs OpenAI's encoder, whose embeddings stop before `ln_post`.
- Steps outside the audio are zeros for MuseTalk (it pads) and the edge step for LatentSync
  (it clamps).

Both upstream pipelines encode the whole track in 30 s chunks, which makes a visible glitch at
every 30 s boundary (LatentSync #78, #132, #151). Here the encoder sees only the window being
re-animated plus `CONTEXT_S` of audio on each side, so no window ever straddles a chunk edge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

RATE = 16000
STEPS_PER_SECOND = 50  # one encoder step per 20 ms (10 ms mel hop, stride-2 conv)
CONTEXT_S = 1.0  # audio the encoder sees on each side of a window
MAX_INPUT_S = 30.0  # whisper's fixed input length
BEFORE, AFTER = 4, 5  # steps c−4 … c+5
LAYERS = 5


@dataclass(frozen=True)
class StepFeatures:
    """Encoder states of a stretch of audio: `values[k]` (layers, dim) is step `first + k`
    of the whole track (step s covers [s/50, (s+1)/50) s)."""

    first: int
    values: np.ndarray  # float32 (steps, layers, dim)
    total_steps: int  # steps in the whole track (for edge handling)


def encoder_from_openai(state: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """A transformers WhisperEncoder for an OpenAI-format whisper checkpoint's `model_state_dict`
    (LatentSync's `whisper/tiny.pt`), and the state renamed to Hugging Face keys. The head count
    is the published n_state/64 of every whisper size (tiny: 384/6)."""
    from transformers import WhisperConfig
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    enc = {k[len("encoder.") :]: v for k, v in state.items() if k.startswith("encoder.")}
    n_state = int(enc["conv1.weight"].shape[0])
    layers = 1 + max(int(k.split(".")[1]) for k in enc if k.startswith("blocks."))
    config = WhisperConfig(
        num_mel_bins=int(enc["conv1.weight"].shape[1]),
        d_model=n_state,
        encoder_layers=layers,
        encoder_attention_heads=max(1, n_state // 64),
        encoder_ffn_dim=int(enc["blocks.0.mlp.0.weight"].shape[0]),
        max_source_positions=int(enc["positional_embedding"].shape[0]),
        decoder_layers=1,
    )
    names = {
        "attn.query": "self_attn.q_proj",
        "attn.key": "self_attn.k_proj",
        "attn.value": "self_attn.v_proj",
        "attn.out": "self_attn.out_proj",
        "attn_ln": "self_attn_layer_norm",
        "mlp.0": "fc1",
        "mlp.2": "fc2",
        "mlp_ln": "final_layer_norm",
    }
    out: dict[str, Any] = {}
    for key, value in enc.items():
        if key == "positional_embedding":
            out["embed_positions.weight"] = value
        elif key.startswith("ln_post."):
            out["layer_norm." + key.split(".", 1)[1]] = value
        elif key.startswith("blocks."):
            _, n, rest = key.split(".", 2)
            module, param = rest.rsplit(".", 1)
            out[f"layers.{n}.{names.get(module, module)}.{param}"] = value
        else:
            out[key] = value
    return WhisperEncoder(config), out


def hf_encoder_state(state: dict[str, Any]) -> dict[str, Any]:
    """The encoder's tensors of a Hugging Face whisper checkpoint (`model.encoder.*` or
    `encoder.*`), prefix removed; the decoder's are not used."""
    out = {}
    for key, value in state.items():
        for prefix in ("model.encoder.", "encoder."):
            if key.startswith(prefix):
                out[key[len(prefix) :]] = value
                break
    return out


def encode_span(
    encoder: Any,
    audio: np.ndarray,
    start_s: float,
    end_s: float,
    final_norm: bool,
    context_s: float = CONTEXT_S,
) -> StepFeatures:
    """Encoder states for [start_s, end_s) of `audio` (mono float32 at 16 kHz), computed from
    that stretch plus `context_s` on each side (split into several encoder passes when longer
    than whisper's 30 s input, each again with its context)."""
    from transformers import WhisperFeatureExtractor

    total = int(np.ceil(len(audio) / RATE * STEPS_PER_SECOND))
    first = max(0, int(np.floor(start_s * STEPS_PER_SECOND)) - BEFORE)  # frames reach 4 steps back
    last = min(total, int(np.ceil(end_s * STEPS_PER_SECOND)) + AFTER + 1)  # and 5 ahead
    span = int((MAX_INPUT_S - 2 * context_s) * STEPS_PER_SECOND)
    extractor = WhisperFeatureExtractor(feature_size=encoder.config.num_mel_bins, sampling_rate=RATE)
    device = next(encoder.parameters()).device
    dtype = next(encoder.parameters()).dtype
    pieces = []
    for a in range(first, max(last, first + 1), span):
        b = min(last, a + span) if last > first else a
        lo = max(0, a - int(context_s * STEPS_PER_SECOND))
        hi = min(total, b + int(context_s * STEPS_PER_SECOND))
        clip = audio[lo * RATE // STEPS_PER_SECOND : hi * RATE // STEPS_PER_SECOND]
        mel = extractor(clip, sampling_rate=RATE, return_tensors="pt").input_features
        states = _hidden_states(encoder, mel.to(device=device, dtype=dtype), final_norm)
        pieces.append(states[a - lo : b - lo])
    values = np.concatenate(pieces, axis=0) if pieces else np.zeros((0, LAYERS, 1), np.float32)
    return StepFeatures(first, values.astype(np.float32), total)


def _hidden_states(encoder: Any, mel: Any, final_norm: bool) -> np.ndarray:
    """(steps, layers, dim): the embedding and every layer's output; the last one after the
    final LayerNorm only when `final_norm` (Hugging Face) — OpenAI's stops before it."""
    import torch

    captured: list[torch.Tensor] = []
    hook = None
    if not final_norm:
        hook = encoder.layers[-1].register_forward_hook(
            lambda _m, _i, out: captured.append(out[0] if isinstance(out, tuple) else out)
        )
    try:
        with torch.no_grad():
            result = encoder(mel, output_hidden_states=True)
    finally:
        if hook is not None:
            hook.remove()
    states = list(result.hidden_states)
    if not final_norm:
        states[-1] = captured[-1]
    return torch.stack(states, dim=2)[0].float().cpu().numpy()


def frame_tokens(features: StepFeatures, times: np.ndarray, pad: str) -> np.ndarray:
    """(frames, 50, dim): for each frame time t, steps c−4 … c+5 around c = ⌊50·t⌋ (10 steps ×
    5 layers, step-major). `pad` = "zeros" (MuseTalk) or "edge" (LatentSync) outside the track."""
    steps, layers, dim = features.values.shape
    out = np.zeros((len(times), (BEFORE + AFTER + 1) * layers, dim), np.float32)
    for k, t in enumerate(times):
        c = int(np.floor(float(t) * STEPS_PER_SECOND + 1e-6))
        rows = []
        for s in range(c - BEFORE, c + AFTER + 1):
            if pad == "edge":
                s = min(max(s, 0), features.total_steps - 1)
            j = s - features.first
            if 0 <= s < features.total_steps and 0 <= j < steps:
                rows.append(features.values[j])
            elif 0 <= s < features.total_steps:
                raise ValueError(f"step {s} is outside the encoded span {features.first}..{features.first + steps}")
            else:
                rows.append(np.zeros((layers, dim), np.float32))
        out[k] = np.concatenate(rows, axis=0)
    return out
