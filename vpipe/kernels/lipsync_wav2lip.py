"""lipsync.apply with Wav2Lip (user-supplied `wav2lip_gan.pth` or `wav2lip.pth`).

    load_generator(path, device="cpu") -> torch.nn.Module
        forward(mel[B,1,80,16], faces[B,6,96,96]) -> [B,3,96,96]

The checkpoint is read safely (vpipe.weights: weights_only, `state_dict` unwrapped,
`module.` stripped) and loaded strictly: a missing, unexpected or mis-shaped key is an error
naming them, never silently random weights. Only slot-window frames are rendered
(lipsync/neural.py); the model runs batched on the target device.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from vpipe.data.media import Frames
from vpipe.diagnostics.diagnostic import Diagnostic, DiagnosticError
from vpipe.ir.graph import Estimate, Op
from vpipe.kernel_api.backends import VIDEO, Backend, backend
from vpipe.kernel_api.batch import RowBatch
from vpipe.kernel_api.context import RunContext
from vpipe.kernel_api.registry import Kernel, kernel
from vpipe.kernels.face import face_lost_in_window
from vpipe.kernels.lipsync_retrieve import _windows

MODEL_ID = "wav2lip"
CROP = 96

WAV2LIP = backend(
    Backend(
        "wav2lip",
        "lipsync",
        summary="GAN lip-sync on 96 px lower-face crops (user-supplied weights)",
        catalog=MODEL_ID,
        sources=VIDEO,
        needs_inventory=True,  # the sync report compares with the speaker's own mouth shapes
        needs_weights=True,
        devices=("cuda", "cpu"),
        precisions=("fp32", "fp16"),
        resolution=CROP,
        batchable=True,
    )
)


def load_generator(path: Path | str, device: str = "cpu") -> Any:
    """The generator with the checkpoint's weights, in eval mode on `device`. The width
    (channels) is read from the checkpoint, so tiny test checkpoints of the same layout load
    through the same strict path as the published 36.3 M-parameter one."""
    import torch

    from vpipe.neural.wav2lip import Wav2Lip
    from vpipe.weights import WeightsError, load_state_dict, load_strict

    state = load_state_dict(Path(path))
    first = state.get("face_encoder_blocks.0.0.conv_block.0.weight")
    if first is None or first.ndim != 4:
        raise WeightsError(f"{path}: not a Wav2Lip generator (no face_encoder_blocks.0.0.conv_block.0.weight)")
    with torch.device("meta"):
        model = Wav2Lip(width=int(first.shape[0]) / 16)
    load_strict(model, state, source=str(path))
    return model.eval().to(device)


def model_inputs(crops: list[np.ndarray]) -> np.ndarray:
    """(B, 6, 96, 96) float32: the BGR crops in [0, 1] with rows 48-95 zeroed, then unmasked."""
    faces = np.stack(crops).astype(np.float32) / 255.0  # B, H, W, 3 (BGR)
    masked = faces.copy()
    masked[:, CROP // 2 :] = 0.0
    return np.concatenate([masked, faces], axis=3).transpose(0, 3, 1, 2).copy()


def predictor(
    model: Any,
    mel: np.ndarray,
    audio_start: float,
    device: str,
    half: bool = False,
    batch: RowBatch | None = None,
    size: int = 32,
) -> Any:
    """The renderer's predict(crops, times) for a loaded generator and the row's mel. With
    `batch` (batch-rows), the rows of the batch hand in their crops together and the
    generator runs over all of them, `size` faces per forward pass."""
    import torch

    from vpipe.neural.features import mel_windows

    dtype = torch.float16 if half else torch.float32

    def forward(faces: np.ndarray, mels: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            out = model(torch.from_numpy(mels).to(device, dtype), torch.from_numpy(faces).to(device, dtype))
            return out.float().clamp(0, 1).mul(255).round().byte().cpu().numpy().transpose(0, 2, 3, 1)

    def forward_rows(items: list[tuple[np.ndarray, np.ndarray]]) -> list[list[np.ndarray]]:
        faces, mels = np.concatenate([f for f, _ in items]), np.concatenate([m for _, m in items])
        out = np.concatenate([forward(faces[i : i + size], mels[i : i + size]) for i in range(0, len(faces), size)])
        ends = np.cumsum([len(f) for f, _ in items])
        return [list(out[end - len(f) : end]) for (f, _), end in zip(items, ends, strict=True)]

    def predict(crops: list[np.ndarray], times: np.ndarray) -> list[np.ndarray]:
        faces, mels = model_inputs(crops), mel_windows(mel, times, audio_start)
        if batch is None:
            return list(forward(faces, mels))
        result: list[np.ndarray] = batch.together(f"wav2lip:{id(model)}", (faces, mels), forward_rows)
        return result

    return predict


def weights_status(op: Op) -> Any:
    """The model's ModelStatus (files found in the recipe's weights folder or the usual places)."""
    from vpipe.weights import model_status

    extra = [Path(op.attr("weights"))] if op.attr("weights") else []
    status = model_status(MODEL_ID, extra)
    if not status.ready:
        raise WeightsMissing("; ".join(status.problems()))
    return status


class WeightsMissing(Exception):
    pass


EXAMPLE_BATCH = 4


def onnx_spec(op: Op) -> Any:
    """What the export-onnx pass exports: the generator with the user's weights, fed mel and
    face batches of the kernel's shapes (seeded), keyed by the weights' hash."""
    from vpipe.neural.onnx_export import ExportSpec

    status = weights_status(op)
    rng = np.random.default_rng(0)
    inputs = {
        "mel": rng.uniform(-4, 4, (EXAMPLE_BATCH, 1, 80, 16)).astype(np.float32),
        "faces": rng.uniform(0, 1, (EXAMPLE_BATCH, 6, CROP, CROP)).astype(np.float32),
    }
    return ExportSpec(
        "wav2lip", f"{status.weights_hash}-v{_Wav2Lip.version}", lambda: load_generator(status.path()), inputs
    )


class _Wav2Lip(Kernel):
    version = "2"  # 2: edits start from the recording's own pictures (first generation)
    cache = False  # frames are large; the written file is what is kept
    batch = 32
    onnx_twin: str | None = "wav2lip-onnx"  # the export-onnx pass may swap this kernel for that one

    def available(self) -> str | None:
        try:
            import torch  # noqa: F401
        except ImportError:
            return "needs torch (pip install 'vpipe[neural]')"
        return None

    def estimate(self, op: Op, context: dict[str, Any]) -> Estimate:
        windows = op.attr("windows") or [[0.0, 0.8]]
        frames = sum(b - a for a, b in windows) * 30
        per_frame = 0.06 if self.device == "cpu" else 0.01  # crop + paste-back dominate on GPU
        return Estimate(seconds=2.0 + frames * per_frame, ram_mb=900, vram_mb=0 if self.device == "cpu" else 4000)

    def onnx_spec(self, op: Op) -> Any:
        return onnx_spec(op)

    def predict(self, op: Op, rt: RunContext, mel: np.ndarray, audio_start: float) -> Any:
        device = "cuda" if self.device == "cuda" else "cpu"
        half = device == "cuda" and getattr(rt.target, "precision", "fp32") == "fp16"
        path = weights_status(op).path()
        model = rt.resource(f"wav2lip:{path}:{device}:{half}", lambda: _load(path, device, half))
        return predictor(model, mel, audio_start, device, half, rt.batch, self.batch)

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> Frames:
        from vpipe.lipsync.neural import render_neural
        from vpipe.neural.features import resample, wav2lip_mel
        from vpipe.weights import WeightsError

        video, landmarks, track, _spans, inventory = inputs
        mel = wav2lip_mel(resample(track.audio.mono(), track.audio.rate))
        try:
            predict = self.predict(op, rt, mel, track.audio.start)
        except (WeightsError, WeightsMissing) as exc:
            raise DiagnosticError(Diagnostic("VP320", f"wav2lip: {exc}", rt.op_span)) from None
        windows = _windows(op, video, track)
        frames = render_neural(video, landmarks, inventory, track, windows, predict, CROP, self.batch)
        face_lost_in_window(rt, frames.report or {})
        return frames


def _load(path: Path, device: str, half: bool) -> Any:
    model = load_generator(path, device)
    return model.half() if half else model


def _has_cuda() -> str | None:
    import torch

    return None if torch.cuda.is_available() else "no CUDA device"


@kernel("lipsync.apply", backend=WAV2LIP, device="cpu")
class Wav2LipCpu(_Wav2Lip):
    pass


@kernel("lipsync.apply", backend=WAV2LIP, device="cuda")
class Wav2LipCuda(_Wav2Lip):
    batch = 128

    def available(self) -> str | None:
        return super().available() or _has_cuda()


class _Wav2LipOnnx(_Wav2Lip):
    """The same rendering with the generator run by onnxruntime from the graph export-onnx
    wrote (op attribute `onnx`: path, precision, opset, parity). IO stays float32 (fp16
    graphs keep their IO types); CUDA execution provider when present, CPU otherwise."""

    onnx_twin = None

    def available(self) -> str | None:
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            return "needs onnxruntime"
        return None

    def predict(self, op: Op, rt: RunContext, mel: np.ndarray, audio_start: float) -> Any:
        from vpipe.neural.features import mel_windows
        from vpipe.neural.onnx_export import session

        info = op.attr("onnx") or {}
        path = Path(str(info.get("path", "")))
        if not path.is_file():
            raise WeightsMissing(f"the exported graph {path} is gone; build again (export-onnx writes it)")
        device = "cuda" if self.device == "cuda" else "cpu"
        sess = rt.resource(f"onnx:{path}:{device}", lambda: session(path, device))

        def predict(crops: list[np.ndarray], times: np.ndarray) -> list[np.ndarray]:
            feed = {"mel": mel_windows(mel, times, audio_start), "faces": model_inputs(crops)}
            (out,) = sess.run(["output"], feed)
            pixels = np.clip(np.round(np.asarray(out, np.float32) * 255), 0, 255).astype(np.uint8)
            return list(pixels.transpose(0, 2, 3, 1))

        return predict


@kernel("lipsync.apply", backend="wav2lip-onnx", device="cpu")
class Wav2LipOnnxCpu(_Wav2LipOnnx):
    pass


@kernel("lipsync.apply", backend="wav2lip-onnx", device="cuda")
class Wav2LipOnnxCuda(_Wav2LipOnnx):
    batch = 128
