"""Whisper-tiny features over windows (vpipe.neural.whisper_features)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from tests.neural.tiny import openai_whisper_state, whisper_config  # noqa: E402
from vpipe.neural.whisper_features import (  # noqa: E402
    StepFeatures,
    encode_span,
    encoder_from_openai,
    frame_tokens,
    hf_encoder_state,
)


def _encoder():  # type: ignore[no-untyped-def]
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    torch.manual_seed(0)
    return WhisperEncoder(whisper_config()).eval()


def test_frame_i_takes_steps_c_minus_4_to_c_plus_5_step_major() -> None:
    steps = np.arange(100, dtype=np.float32)[:, None, None] * np.ones((1, 5, 2), np.float32)
    steps[:, :, 1] = np.arange(5)  # layer index in the second value
    feats = StepFeatures(0, steps, 100)
    tokens = frame_tokens(feats, np.array([10 / 25]), "edge")  # frame 10 at 25 fps: c = 20
    assert tokens.shape == (1, 50, 2)
    assert tokens[0, ::5, 0].tolist() == list(range(16, 26))  # c−4 … c+5
    assert tokens[0, :5, 1].tolist() == [0, 1, 2, 3, 4]  # 5 layers per step


def test_edges_pad_with_zeros_for_musetalk_and_repeat_for_latentsync() -> None:
    steps = np.arange(1, 31, dtype=np.float32)[:, None, None] * np.ones((1, 5, 1), np.float32)
    feats = StepFeatures(0, steps, 30)
    zeros = frame_tokens(feats, np.array([0.0]), "zeros")[0, ::5, 0]
    edge = frame_tokens(feats, np.array([0.0]), "edge")[0, ::5, 0]
    assert zeros.tolist() == [0, 0, 0, 0, 1, 2, 3, 4, 5, 6]
    assert edge.tolist() == [1, 1, 1, 1, 1, 2, 3, 4, 5, 6]


def test_the_last_state_is_before_the_final_norm_for_openai_and_after_for_hugging_face() -> None:
    enc = _encoder()
    audio = np.random.default_rng(0).standard_normal(16000 * 3).astype(np.float32) * 0.1
    hf = encode_span(enc, audio, 1.0, 1.4, final_norm=True)
    oa = encode_span(enc, audio, 1.0, 1.4, final_norm=False)
    assert hf.values.shape == oa.values.shape and hf.values.shape[1:] == (5, 32)
    assert np.allclose(hf.values[:, :4], oa.values[:, :4])  # embedding and layers 1–3 agree
    normed = enc.layer_norm(torch.from_numpy(oa.values[:, 4])).detach().numpy()
    assert np.allclose(normed, hf.values[:, 4], atol=1e-5)
    # the span reaches 4 steps before and 5 after the frames asked for
    assert hf.first == 50 - 4 and hf.first + len(hf.values) == 70 + 5 + 1


def test_a_window_at_30_s_is_encoded_in_one_pass_with_its_context() -> None:
    """Upstream cuts the track into 30 s chunks (a glitch at every boundary); here the encoder
    sees the window plus its context, wherever the window falls."""
    enc = _encoder()
    calls: list[int] = []
    enc.register_forward_pre_hook(lambda _m, args: calls.append(args[0].shape[-1]))
    audio = np.random.default_rng(1).standard_normal(16000 * 40).astype(np.float32) * 0.1
    feats = encode_span(enc, audio, 29.8, 30.3, final_norm=True)
    assert calls == [3000]  # one 30 s-sized input holding 29.8−1−0.08 … 30.3+1+0.1 s
    assert feats.first == 1490 - 4 and feats.total_steps == 2000
    tokens = frame_tokens(feats, np.arange(29.8, 30.3, 0.04), "zeros")
    assert np.isfinite(tokens).all() and np.abs(tokens).sum(axis=(1, 2)).min() > 0


def test_openai_checkpoint_keys_map_onto_the_transformers_encoder() -> None:
    from vpipe.weights import load_strict

    reference = _encoder()
    official = openai_whisper_state(reference.state_dict())
    assert "encoder.blocks.0.attn.query.weight" in official and "decoder.token_embedding.weight" in official
    enc, state = encoder_from_openai(official)
    report = load_strict(enc, state, "tiny.pt")
    assert report.clean and enc.config.encoder_attention_heads == 1 and enc.config.d_model == 32
    x = torch.randn(1, 80, 3000)
    with torch.no_grad():
        assert torch.allclose(enc.eval()(x).last_hidden_state, reference(x).last_hidden_state)
    hf = {"model.encoder.conv1.weight": 1, "model.decoder.x": 2, "proj_out.weight": 3}
    assert hf_encoder_state(hf) == {"conv1.weight": 1}
