"""export-onnx on a Wav2Lip op with tiny random weights of the published layout: the IR
before/after, parity (fp32 ≤ 1e-4, fp16 ≤ 1e-2) checked again on inputs the export never saw,
the cache key (weights hash + opset + precision), external data, and the torch fallback
with a VP230 remark when an op does not export."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")

from tests.neural.published import random_checkpoint  # noqa: E402
from tests.passes.helpers import normalized, run_pass  # noqa: E402
from vpipe.ir.graph import Op  # noqa: E402
from vpipe.kernel_api import registry  # noqa: E402
from vpipe.kernel_api.registry import Kernel, kernel  # noqa: E402
from vpipe.kernels.lipsync_wav2lip import load_generator  # noqa: E402
from vpipe.neural.onnx_export import ExportSpec, export_onnx, session  # noqa: E402
from vpipe.passes.base import PassContext  # noqa: E402

BEFORE = """
graph @g {{
  %video = media.open() {{"kind": "video", "path": "a.mp4"}} : Video<fps=25.0, frames=150> shared
  %audio = media.audio(%video) : Audio shared
  %transcript = text.const() {{"text": "x"}} : Text shared
  %lexicon = speech.lexicon() {{"entries": {{}}}} : Lexicon shared
  %alignment = speech.align(%audio, %transcript, %lexicon) : Alignment shared
  %spans = slots.locate(%alignment) {{"slots": {{}}}} : Spans shared
  %landmarks = face.track(%video) {{"index": 0, "max_yaw_deg": 35.0, "select": "largest"}} : Landmarks shared
  %inventory = face.inventory(%video, %landmarks, %alignment) : Inventory shared
  %row = rows.row() {{"file": "rows.csv"}} : Row per_row
  %script = template.render(%row) {{"template": "hi"}} : Script per_row
  %speech = speech.synthesize(%script, %lexicon, %spans) {{"engine": "piper", "max_stretch": 0.2, "policy": "auto", "speed": 1.0, "voice": "v"}} : Speech per_row
  %slot_audio = speech.fit(%speech, %spans) {{"max_stretch": 0.2, "policy": "auto"}} : SlotAudio per_row
  %track = audio.splice(%audio, %slot_audio, %spans) : Track per_row
  %frames = lipsync.apply(%video, %landmarks, %track, %spans, %inventory) {{"backend": "wav2lip", "margin_ms": 120.0, "weights": "{weights}", "windows": [[1.83, 2.35]]}} : Frames per_row kernel({kernel})
}}
"""


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("weights")
    state = {"module." + k: v for k, v in random_checkpoint(1 / 8, seed=5).items()}
    torch.save({"state_dict": state}, folder / "wav2lip_gan.pth")
    return folder


def _run(weights: Path, cache: Path, options: str = "", kernel_id: str = "wav2lip@cpu") -> tuple[str, PassContext]:
    ctx = PassContext()
    spec = f"export-onnx{{cache_dir={cache}{',' + options if options else ''}}}"
    return run_pass(spec, BEFORE.format(weights=weights, kernel=kernel_id), ctx), ctx


def _inputs(seed: int, batch: int = 3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "mel": rng.uniform(-4, 4, (batch, 1, 80, 16)).astype(np.float32),
        "faces": rng.uniform(0, 1, (batch, 6, 96, 96)).astype(np.float32),
    }


def _error(weights: Path, onnx_path: Path, seed: int) -> float:
    net = load_generator(weights / "wav2lip_gan.pth")
    feed = _inputs(seed)
    with torch.inference_mode():
        ref = net(*(torch.from_numpy(v) for v in feed.values())).numpy()
    (got,) = session(onnx_path).run(["output"], feed)
    assert got.dtype == np.float32 and got.shape == ref.shape  # IO types kept
    return float(np.abs(got - ref).max())


def test_ir_before_after_and_fp32_parity(weights: Path, tmp_path: Path) -> None:
    after, ctx = _run(weights, tmp_path)
    (export,) = ctx.facts["onnx_exports"]
    path = Path(export["path"])
    assert path.parent == tmp_path and path.name.endswith("-op17-fp32.onnx") and not export["reused"]
    attr = json.dumps({k: export[k] for k in ("max_error", "opset", "path", "precision")}, sort_keys=True)
    expected = BEFORE.format(weights=weights, kernel="wav2lip-onnx@cpu").replace(
        '"weights": ', f'"onnx": {attr}, "weights": '
    )
    assert after == normalized(expected)
    assert export["max_error"] <= 1e-4 and _error(weights, path, seed=11) <= 1e-4  # inputs the export never saw
    assert ctx.diagnostics.items == []


def test_fp16_for_cuda_targets_keeps_io_types(weights: Path, tmp_path: Path) -> None:
    _, ctx = _run(weights, tmp_path, "precision=fp16")
    (export,) = ctx.facts["onnx_exports"]
    path = Path(export["path"])
    assert export["precision"] == "fp16" and path.name.endswith("-op17-fp16.onnx")
    import onnx

    model = onnx.load(str(path))
    assert any(t.data_type == onnx.TensorProto.FLOAT16 for t in model.graph.initializer)
    assert all(i.type.tensor_type.elem_type == onnx.TensorProto.FLOAT for i in model.graph.input)
    error = _error(weights, path, seed=12)
    assert 1e-6 < error <= 1e-2  # really half precision, within the gate


def test_cached_by_weights_hash_opset_and_precision(weights: Path, tmp_path: Path) -> None:
    _, first = _run(weights, tmp_path)
    path = Path(first.facts["onnx_exports"][0]["path"])
    stamp = path.stat().st_mtime_ns
    _, again = _run(weights, tmp_path)
    assert again.facts["onnx_exports"][0]["reused"] and path.stat().st_mtime_ns == stamp
    _, opset18 = _run(weights, tmp_path, "opset=18")
    assert Path(opset18.facts["onnx_exports"][0]["path"]).name.endswith("-op18-fp32.onnx")
    other = tmp_path / "other"
    other.mkdir()
    torch.save({"state_dict": random_checkpoint(1 / 8, seed=6)}, other / "wav2lip_gan.pth")
    _, changed = _run(other, tmp_path)
    assert changed.facts["onnx_exports"][0]["path"] != str(path)  # new weights, new graph
    assert len(list(tmp_path.glob("*.onnx"))) == 3 and not list(tmp_path.glob(".*"))  # no temporary leftovers


def test_external_data_for_big_models(tmp_path: Path) -> None:
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU()).eval()
    spec = ExportSpec(
        "big",
        "k1",
        lambda: net,
        {"x": np.random.default_rng(0).random((2, 3, 16, 16), np.float32)},
        external_data_bytes=100,
    )  # this test's "2 GB"
    exported = export_onnx(spec, "fp32", 17, tmp_path)
    assert exported.external_data and (tmp_path / (exported.path.name + ".data")).is_file()
    assert exported.max_error <= 1e-4
    assert session(exported.path).run(None, spec.inputs)[0].shape == (2, 8, 14, 14)


class _Unexportable(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.linalg.svd(x)[1]


@pytest.fixture
def svd_kernels() -> Iterator[None]:
    @kernel("lipsync.apply", backend="svdtoy", device="cpu")
    class SvdToy(Kernel):
        onnx_twin = "svdtoy-onnx"

        def onnx_spec(self, op: Op) -> ExportSpec:
            return ExportSpec("svd", "k", _Unexportable, {"x": np.eye(3, dtype=np.float32)[None]})

    @kernel("lipsync.apply", backend="svdtoy-onnx", device="cpu")
    class SvdToyOnnx(Kernel):
        pass

    yield
    registry.unregister("lipsync.apply", "svdtoy@cpu")
    registry.unregister("lipsync.apply", "svdtoy-onnx@cpu")


def test_an_op_that_does_not_export_keeps_torch_with_a_remark(svd_kernels: None, weights: Path, tmp_path: Path) -> None:
    after, ctx = _run(weights, tmp_path, kernel_id="svdtoy@cpu")
    assert after == normalized(BEFORE.format(weights=weights, kernel="svdtoy@cpu"))  # unchanged
    (remark,) = ctx.diagnostics.items
    assert remark.code == "VP230" and "linalg_svd" in remark.message and "keeps svdtoy@cpu" in remark.message
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_missing_weights_keep_torch_with_a_remark(tmp_path: Path) -> None:
    after, ctx = _run(tmp_path / "nothing-here", tmp_path / "cache")
    assert "kernel(wav2lip@cpu)" in after and '"onnx"' not in after
    (remark,) = ctx.diagnostics.items
    assert remark.code == "VP230" and "wav2lip_gan.pth" in remark.message


def test_the_onnx_kernel_paints_what_the_torch_kernel_paints(weights: Path, tmp_path: Path) -> None:
    from vpipe.kernel_api.context import RunContext
    from vpipe.kernels.lipsync_wav2lip import Wav2LipCpu, Wav2LipOnnxCpu, onnx_spec

    attrs = {"backend": "wav2lip", "weights": str(weights)}
    exported = export_onnx(onnx_spec(Op("lipsync.apply", (), (), attrs)), "fp32", 17, tmp_path)
    op = Op("lipsync.apply", (), (), {**attrs, "onnx": exported.to_attr()})
    rng = np.random.default_rng(3)
    mel = rng.uniform(-4, 4, (80, 200)).astype(np.float32)
    crops = [rng.integers(0, 256, (96, 96, 3), dtype=np.uint8) for _ in range(5)]
    times = np.array([0.1, 0.5, 0.9, 1.3, 1.7])
    rt = RunContext(tmp_path)
    by_torch = Wav2LipCpu().predict(op, rt, mel, 0.0)(crops, times)
    by_onnx = Wav2LipOnnxCpu().predict(op, rt, mel, 0.0)(crops, times)
    diff = np.abs(np.stack(by_torch).astype(int) - np.stack(by_onnx).astype(int))
    assert diff.max() <= 1 and np.stack(by_onnx).std() > 5  # same pixels up to rounding, and not blank
