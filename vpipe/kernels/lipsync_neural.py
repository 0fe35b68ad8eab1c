"""What MuseTalk and LatentSync kernels share: finding the user's weights, attributes the
passes set (model version, precision, batch, sampler, steps), loading once per process, and
running `vpipe.lipsync.latent_render` on the slot windows."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from vpipe.data.media import Frames
from vpipe.diagnostics.diagnostic import Diagnostic, DiagnosticError
from vpipe.ir.graph import Estimate, Op
from vpipe.kernel_api.context import RunContext
from vpipe.kernel_api.registry import Kernel
from vpipe.kernels.face import face_lost_in_window
from vpipe.lipsync.timeline import slot_windows


def neural_missing(device: str) -> str | None:
    """Why the neural stack cannot run here (None when it can)."""
    try:
        import diffusers  # noqa: F401
        import torch
        import transformers  # noqa: F401
    except ImportError as exc:
        return f"needs the 'neural' extra (pip install 'vpipe[neural]'): {exc.name} is missing"
    if device == "cuda" and not torch.cuda.is_available():
        return "no CUDA device"
    return None


def windows_of(op: Op, video: Any, track: Any) -> list[tuple[float, float]]:
    margin = float(op.attr("margin_ms")) / 1000.0
    computed = slot_windows(track, margin, video.duration)
    given = op.attr("windows")
    if given and len(given) == len(computed):  # segment-lipsync's windows (same slots)
        return [(float(a), float(b)) for a, b in given]
    return computed


class NeuralLipsync(Kernel):
    """Base of the neural lip-sync kernels; subclasses name their family and loader."""

    family: ClassVar[str]
    default_model: ClassVar[str]
    cache = False  # frames are large; the written file is what is kept

    def available(self) -> str | None:
        return neural_missing(self.device)

    def model_id(self, op: Op) -> str:
        return str(op.attr("model") or self.default_model)

    def estimate(self, op: Op, context: dict[str, Any]) -> Estimate:
        from vpipe.catalog import model

        entry = model(self.model_id(op)) or {}
        vram = (entry.get("vram_gb") or {}).get(str(op.attr("precision") or "fp16")) or 0
        seconds = float(op.attr("unet_evaluations") or 0) * 0.05
        return Estimate(seconds=seconds, ram_mb=3000, vram_mb=1024 * float(vram) if self.device == "cuda" else 0)

    def files(self, op: Op, rt: RunContext) -> tuple[dict[str, Path], Any]:
        from vpipe.weights import default_root, model_status

        model_id = self.model_id(op)
        extra = [Path(str(op.attr("weights")))] if op.attr("weights") else []
        status = model_status(model_id, extra)
        if not status.ready:
            raise DiagnosticError(
                Diagnostic(
                    "VP023",
                    f"{model_id} needs weights vpipe cannot use: {'; '.join(status.problems())}",
                    getattr(rt, "op_span", None),
                    help=f"put the authors' files in {default_root() / model_id} or set lipsync.weights",
                )
            )
        return {f.expected.name: f.path for f in status.files if f.path is not None}, status

    def precision(self, op: Op) -> str:
        return str(op.attr("precision") or ("fp16" if self.device == "cuda" else "fp32"))

    def build(self, op: Op, files: dict[str, Path], status: Any, device: str, precision: str) -> tuple[Any, Any]:
        """(model, load report) from the weight files, uncached."""
        raise NotImplementedError

    def configure(self, model: Any, op: Op) -> None:
        """Per-op settings on a loaded (shared) model: sampler, steps, guidance."""

    def load(self, op: Op, rt: RunContext) -> tuple[Any, dict[str, object]]:
        files, status = self.files(op, rt)
        precision = self.precision(op)
        key = f"{self.family}:{status.weights_hash}:{self.device}:{precision}:{op.attr('batch')}"
        model, report = rt.resource(key, lambda: self.build(op, files, status, self.device, precision))
        self.configure(model, op)
        return model, report.to_json()

    def onnx_spec(self, op: Op) -> list[Any]:
        """What export-onnx exports: the U-Net and the VAE decoder with the user's weights (fp32,
        CPU), fed seeded inputs of the model's own shapes, keyed by the weights' hash."""
        from vpipe.neural.onnx_export import ExportSpec
        from vpipe.neural.onnx_parts import example_inputs, unet_part, vae_decoder_part

        files, status = self.files(op, None)
        model, _ = self.build(op, files, status, "cpu", "fp32")
        inputs = example_inputs(model, self.family)
        key = f"{status.weights_hash}-v{self.version}"
        return [
            ExportSpec(f"{self.family}-unet", key, lambda: unet_part(model.unet, self.family), inputs["unet"]),
            ExportSpec(f"{self.family}-vae-decoder", key, lambda: vae_decoder_part(model.vae), inputs["vae_decoder"]),
        ]

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> Frames:
        from vpipe.lipsync.latent_render import render

        video, landmarks, track = inputs[0], inputs[1], inputs[2]  # video, landmarks, track, spans[, inventory]
        model, loaded = self.load(op, rt)
        model.evaluations, model.calls = 0, []
        frames = render(video, landmarks, track, windows_of(op, video, track), model, self.family)
        report = dict(frames.report or {})
        report.update(model=self.model_id(op), device=self.device, weights=loaded)
        face_lost_in_window(rt, report)
        return Frames(
            frames.source,
            frames.times,
            frames.source_index,
            frames.rendered,
            frames.time_base,
            frames.width,
            frames.height,
            report=report,
        )


class NeuralLipsyncOnnx(NeuralLipsync):
    """The same rendering with the U-Net and the VAE decoder run by ONNX Runtime from the
    graphs export-onnx wrote (op attribute `onnx`: {part: path, precision, opset, parity});
    the CUDA execution provider when present, else the CPU."""

    def available(self) -> str | None:
        why = neural_missing("cpu")
        if why:
            return why
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            return "needs onnxruntime"
        return None

    def load(self, op: Op, rt: RunContext) -> tuple[Any, dict[str, object]]:
        import copy

        from vpipe.neural.onnx_export import session
        from vpipe.neural.onnx_parts import OrtUNet, OrtVae

        model, report = super().load(op, rt)
        parts = op.attr("onnx") or {}
        unet, decoder = parts.get(f"{self.family}-unet"), parts.get(f"{self.family}-vae-decoder")
        if not unet or not decoder:
            raise DiagnosticError(Diagnostic("VP320", f"{self.family}: no exported ONNX graphs on the op", rt.op_span))
        twin = copy.copy(model)
        twin.unet = rt.resource(
            f"ort:{unet['path']}",
            lambda: OrtUNet(session(Path(unet["path"]), self.device), self.family, model.unet.config),
        )
        twin.vae = OrtVae(
            model.vae, rt.resource(f"ort:{decoder['path']}", lambda: session(Path(decoder["path"]), self.device))
        )
        return twin, {**report, "onnx": parts}
