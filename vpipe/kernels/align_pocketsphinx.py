"""Forced alignment and recognition of the source speech with pocketsphinx (CPU)."""

from __future__ import annotations

from typing import Any

from vpipe.data.alignment import Alignment
from vpipe.diagnostics.diagnostic import Diagnostic, DiagnosticError
from vpipe.ir.graph import Estimate, Op
from vpipe.kernel_api.backends import Backend, backend
from vpipe.kernel_api.context import RunContext
from vpipe.kernel_api.registry import Kernel, kernel
from vpipe.speech.align import AlignmentFailed, align, recognize


def _seconds(context: dict[str, Any], per_second: float) -> float:
    graph = context.get("graph")
    video = graph.first("media.open") if graph is not None else None
    frames = video.result.type.param("frames") if video else None
    fps = video.result.type.param("fps") if video else None
    duration = frames / fps if frames and fps else 10.0
    return per_second * duration


POCKETSPHINX = backend(
    Backend(
        "pocketsphinx",
        "align",
        auto=10,
        summary="embedded CMU Sphinx forced alignment and recognition (English, CPU)",
        catalog="pocketsphinx:en-us",
    )
)


@kernel("speech.align", backend=POCKETSPHINX)
class PocketsphinxAlign(Kernel):
    version = "3"

    def available(self) -> str | None:
        import importlib.util

        return None if importlib.util.find_spec("pocketsphinx") else "pocketsphinx is not installed"

    def estimate(self, op: Op, context: dict[str, Any]) -> Estimate:
        return Estimate(seconds=_seconds(context, 0.15) + 0.3, ram_mb=120)

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> Alignment:
        from vpipe.speech.tts import phonemize

        audio, transcript, lexicon = inputs
        try:
            return align(audio.mono(), audio.rate, str(transcript), lexicon, phonemize)
        except AlignmentFailed as exc:
            raise DiagnosticError(
                Diagnostic(
                    "VP304",
                    f"alignment of the source failed: {exc}",
                    rt.op_span,
                    help="check that source.transcript is exactly what is said (`vpipe build` prints it)",
                )
            ) from None


@kernel("speech.recognize", backend=POCKETSPHINX)
class PocketsphinxRecognize(Kernel):
    version = "2"

    def estimate(self, op: Op, context: dict[str, Any]) -> Estimate:
        return Estimate(seconds=_seconds(context, 0.4) + 0.5, ram_mb=250)

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> str:
        (audio,) = inputs
        try:
            return recognize(audio.mono(), audio.rate)
        except AlignmentFailed as exc:
            raise DiagnosticError(
                Diagnostic(
                    "VP304",
                    f"speech recognition of the source failed: {exc}",
                    rt.op_span,
                    help="give source.transcript",
                )
            ) from None
