"""speech.align / speech.recognize with whisperx (optional; `pip install vpipe[whisperx]`).

Registered for CUDA (its purpose) and CPU (it runs there too, slowly). Available only when
the `whisperx` package imports; the models are local folders from the recipe's
`source.aligner`, passed as op attributes.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from vpipe.data.alignment import Alignment
from vpipe.diagnostics.diagnostic import Diagnostic, DiagnosticError
from vpipe.ir.graph import Estimate, Op
from vpipe.kernel_api.backends import Backend, backend
from vpipe.kernel_api.context import RunContext
from vpipe.kernel_api.registry import Kernel, kernel
from vpipe.speech.align import AlignmentFailed

# GPU users' aligner: reads local model folders (source.aligner.align_model / asr_model).
WHISPERX = backend(
    Backend(
        "whisperx",
        "align",
        summary="Whisper recognition + wav2vec2 forced alignment (install vpipe[whisperx]; local model folders)",
        catalog="whisperx",
        needs_weights=True,
        devices=("cuda", "cpu"),
        precisions=("fp16", "fp32"),
    )
)


class _Whisperx(Kernel):
    def available(self) -> str | None:
        return (
            None if importlib.util.find_spec("whisperx") else "whisperx is not installed (pip install vpipe[whisperx])"
        )

    def estimate(self, op: Op, context: dict[str, Any]) -> Estimate:
        return Estimate(seconds=3.0, ram_mb=2000, vram_mb=2500 if self.device == "cuda" else 0)

    def _fail(self, rt: RunContext, what: str, exc: Exception) -> DiagnosticError:
        return DiagnosticError(
            Diagnostic(
                "VP304",
                f"{what} of the source with whisperx failed: {exc}",
                rt.op_span,
                help="check source.aligner's model folders and source.transcript",
            )
        )


class _Align(_Whisperx):
    version = "1"

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> Alignment:
        from vpipe.speech.align import phones_of_words
        from vpipe.speech.tts import phonemize
        from vpipe.speech.whisperx_adapter import run_align, to_alignment

        audio, transcript, lexicon = inputs
        mono = audio.mono()
        try:
            result = run_align(
                mono, audio.rate, str(transcript), op.attr("model"), self.device, op.attr("language")
            )
            return to_alignment(
                result, str(transcript), len(mono) / audio.rate, lambda ws: phones_of_words(ws, lexicon, phonemize)
            )
        except AlignmentFailed as exc:
            raise self._fail(rt, "alignment", exc) from None


class _Recognize(_Whisperx):
    version = "1"

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> str:
        from vpipe.speech.whisperx_adapter import run_recognize, transcript_of

        (audio,) = inputs
        try:
            text = transcript_of(run_recognize(audio.mono(), audio.rate, op.attr("model"), self.device))
        except AlignmentFailed as exc:
            raise self._fail(rt, "recognition", exc) from None
        if not text:
            raise self._fail(rt, "recognition", AlignmentFailed("no speech was recognised"))
        return text


@kernel("speech.align", backend=WHISPERX, device="cuda")
class WhisperxAlignCuda(_Align):
    pass


@kernel("speech.align", backend=WHISPERX, device="cpu")
class WhisperxAlignCpu(_Align):
    pass


@kernel("speech.recognize", backend=WHISPERX, device="cuda")
class WhisperxRecognizeCuda(_Recognize):
    pass


@kernel("speech.recognize", backend=WHISPERX, device="cpu")
class WhisperxRecognizeCpu(_Recognize):
    pass
