from __future__ import annotations

from tests.passes.helpers import normalized, run_pass
from vpipe.ir.opspec import OpSpec, define
from vpipe.passes.base import PassContext

BEFORE = """
graph @g {
  %video = media.open() {"kind": "video", "path": "a.mp4"} : Video per_row
  %audio = media.audio(%video) : Audio per_row
  %transcript = text.const() {"text": "hi john"} : Text per_row
  %lexicon = speech.lexicon() {"entries": {}} : Lexicon per_row
  %alignment = speech.align(%audio, %transcript, %lexicon) {"backend": "pocketsphinx"} : Alignment per_row
  %row = rows.row() {"file": "rows.csv"} : Row per_row
  %script = template.render(%row) {"template": "hi"} : Script per_row
  %row_lexicon = speech.row_lexicon(%lexicon, %row) {"column": "say_as"} : Lexicon per_row
}
"""

EXPECTED = """
graph @g {
  %video = media.open() {"kind": "video", "path": "a.mp4"} : Video shared
  %audio = media.audio(%video) : Audio shared
  %transcript = text.const() {"text": "hi john"} : Text shared
  %lexicon = speech.lexicon() {"entries": {}} : Lexicon shared
  %alignment = speech.align(%audio, %transcript, %lexicon) {"backend": "pocketsphinx"} : Alignment shared
  %row = rows.row() {"file": "rows.csv"} : Row per_row
  %script = template.render(%row) {"template": "hi"} : Script per_row
  %row_lexicon = speech.row_lexicon(%lexicon, %row) {"column": "say_as"} : Lexicon per_row
}
"""


def test_hoists_row_invariant_ops_only() -> None:
    ctx = PassContext()
    assert run_pass("hoist-shared", BEFORE, ctx) == normalized(EXPECTED)
    assert ctx.facts["hoisted"] == 5
    assert [d.code for d in ctx.diagnostics] == ["VP210"]


define(
    OpSpec(
        "test.effect",
        "an op with a side effect (test only)",
        operands=(("video", "Video"),),
        results=("File",),
        pure=False,
    )
)


def test_effectful_ops_stay_per_row() -> None:
    before = """
graph @g {
  %video = media.open() {"kind": "video", "path": "a.mp4"} : Video per_row
  %file = test.effect(%video) : File per_row
}
"""
    after = run_pass("hoist-shared", before)
    assert "Video shared" in after and "File per_row" in after


def test_idempotent() -> None:
    once = run_pass("hoist-shared", BEFORE)
    assert run_pass("hoist-shared", once) == once
