"""Wav2Lip's generator: the published checkpoint layout key for key, the same outputs as the
published forward, and the model inputs the authors' inference builds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from tests.neural.published import checkpoint_shapes, random_checkpoint, reference_forward  # noqa: E402
from vpipe.catalog import model as catalog_model  # noqa: E402
from vpipe.kernels.lipsync_wav2lip import load_generator, model_inputs  # noqa: E402
from vpipe.neural.features import MEL_FPS, mel_windows  # noqa: E402
from vpipe.neural.wav2lip import Wav2Lip, parameter_count  # noqa: E402
from vpipe.weights import WeightsError, compare  # noqa: E402


def test_full_size_on_the_meta_device_has_the_published_keys_and_shapes() -> None:
    with torch.device("meta"):
        net = Wav2Lip()
    assert parameter_count(net) == 36_298_035 == catalog_model("wav2lip")["parameters"]
    got = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    assert got == checkpoint_shapes()
    report = compare(net, {k: torch.empty(s, device="meta") for k, s in checkpoint_shapes().items()})
    assert report.clean and not report.missing and not report.unexpected


def test_tiny_width_is_the_same_graph() -> None:
    net = Wav2Lip(width=1 / 8)
    assert {k: tuple(v.shape) for k, v in net.state_dict().items()} == checkpoint_shapes(1 / 8)
    with torch.inference_mode():
        out = net.eval()(torch.rand(3, 1, 80, 16), torch.rand(3, 6, 96, 96))
    assert out.shape == (3, 3, 96, 96) and float(out.min()) >= 0 and float(out.max()) <= 1


def test_full_size_checkpoint_loads_strictly_and_matches_the_published_forward(tmp_path: Path) -> None:
    state = random_checkpoint(seed=1)
    path = tmp_path / "wav2lip_gan.pth"
    torch.save({"state_dict": {"module." + k: v for k, v in state.items()}, "global_step": 1}, path)
    net = load_generator(path)
    assert parameter_count(net) == 36_298_035 and not net.training
    g = torch.Generator().manual_seed(2)
    mel, faces = torch.randn(2, 1, 80, 16, generator=g), torch.rand(2, 6, 96, 96, generator=g)
    with torch.inference_mode():
        ours, ref = net(mel, faces), reference_forward(state, mel, faces)
    assert float(ours.std()) > 0.01  # not saturated: the comparison means something
    assert torch.allclose(ours, ref, atol=1e-5, rtol=0)


def test_a_checkpoint_that_does_not_fit_is_refused_with_its_keys(tmp_path: Path) -> None:
    state = random_checkpoint(width=1 / 8)
    del state["audio_encoder.3.conv_block.1.running_var"]
    state["face_encoder_blocks.7.0.conv_block.0.weight"] = torch.zeros(1)
    torch.save({"state_dict": state}, tmp_path / "bad.pth")
    with pytest.raises(WeightsError) as err:
        load_generator(tmp_path / "bad.pth")
    assert "1 missing: audio_encoder.3.conv_block.1.running_var" in str(err.value)
    assert "1 unexpected: face_encoder_blocks.7.0.conv_block.0.weight" in str(err.value)
    torch.save({"state_dict": {"x": torch.zeros(2)}}, tmp_path / "other.pth")
    with pytest.raises(WeightsError, match="not a Wav2Lip generator"):
        load_generator(tmp_path / "other.pth")


def test_model_inputs_mask_the_lower_half_and_keep_bgr() -> None:
    rng = np.random.default_rng(0)
    crops = [rng.integers(0, 256, (96, 96, 3), dtype=np.uint8) for _ in range(2)]
    x = model_inputs(crops)
    assert x.shape == (2, 6, 96, 96) and x.dtype == np.float32
    assert not x[:, :3, 48:].any() and np.allclose(x[:, :3, :48], x[:, 3:, :48])
    assert np.allclose(x[1, 3:], crops[1].transpose(2, 0, 1) / 255.0)  # channel 3 = B, unmasked


def test_mel_window_starts_at_int_t_times_80() -> None:
    mel = np.tile(np.arange(100, dtype=np.float32), (80, 1))  # value = mel frame index
    fps = 29.97
    times = np.arange(40) / fps
    w = mel_windows(mel, times)
    assert w.shape == (40, 1, 80, 16)
    for i in range(30):
        assert w[i, 0, 0, 0] == int(i * MEL_FPS / fps)  # the authors' int(i·80/fps)
    assert w[-1, 0, 0, 0] == 100 - 16 and w[-1, 0, 0, -1] == 99  # past the end: the last 16
    assert mel_windows(mel, np.array([1.0]), audio_start=0.5)[0, 0, 0, 0] == 40
