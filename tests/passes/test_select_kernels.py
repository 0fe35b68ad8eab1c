"""select-kernels: every op gets a kernel (backend@device) and its estimate; an op whose
backend is not installed gets none and a VP111 warning; on a CUDA target, CPU kernels are the
fallback, with a VP211 remark."""

from __future__ import annotations

from tests.passes.helpers import normalized, run_pass
from vpipe.kernel_api.context import Target
from vpipe.passes.base import PassContext

BEFORE = """
graph @g {
  %video = media.open() {"kind": "video", "path": "a.mp4"} : Video<fps=25.0, frames=250> shared
  %audio = media.audio(%video) : Audio shared
  %transcript = text.const() {"text": "hi john"} : Text shared
  %lexicon = speech.lexicon() {"entries": {}} : Lexicon shared
  %alignment = speech.align(%audio, %transcript, %lexicon) {"backend": "pocketsphinx"} : Alignment shared
  %heard = speech.recognize(%audio) {"backend": "nosuch"} : Text shared
}
"""

EXPECTED = """
graph @g {
  %video = media.open() {"kind": "video", "path": "a.mp4"} : Video<fps=25.0, frames=250> shared kernel(pyav@cpu) est(t=0, ram_mb=0, vram_mb=0)
  %audio = media.audio(%video) : Audio shared kernel(pyav@cpu) est(t=0.02, ram_mb=20, vram_mb=0)
  %transcript = text.const() {"text": "hi john"} : Text shared kernel(builtin@cpu) est(t=0, ram_mb=0, vram_mb=0)
  %lexicon = speech.lexicon() {"entries": {}} : Lexicon shared kernel(builtin@cpu) est(t=0, ram_mb=0, vram_mb=0)
  %alignment = speech.align(%audio, %transcript, %lexicon) {"backend": "pocketsphinx"} : Alignment shared kernel(pocketsphinx@cpu) est(t=1.8, ram_mb=120, vram_mb=0)
  %heard = speech.recognize(%audio) {"backend": "nosuch"} : Text shared
}
"""


def test_kernels_and_estimates_are_attached() -> None:
    ctx = PassContext(target=Target("cpu"))
    assert run_pass("select-kernels", BEFORE, ctx) == normalized(EXPECTED)
    # pocketsphinx: 0.15 s per second of the 10 s source + 0.3 s
    assert [(d.code, d.message) for d in ctx.diagnostics.items] == [
        ("VP111", "no usable kernel for speech.recognize: no 'nosuch' kernel is installed")
    ]
    assert ctx.facts["missing_kernels"] == ["speech.recognize"]


def test_cpu_kernels_serve_a_cuda_target_with_a_remark() -> None:
    ctx = PassContext(target=Target("cuda", "fp16", 16.0))
    assert run_pass("select-kernels", BEFORE, ctx) == normalized(EXPECTED)
    remarks = [d.message for d in ctx.diagnostics.items if d.code == "VP211"]
    assert "speech.align runs on cpu (pocketsphinx); no cuda kernel" in remarks and len(remarks) == 5
