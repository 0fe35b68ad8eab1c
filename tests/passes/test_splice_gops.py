"""splice-gops: the source is normalised once (shared), lip-sync draws from it, and the row's
write becomes a splice on its GOPs (Before/Expected IR)."""

from __future__ import annotations

from tests.passes.helpers import normalized, run_pass
from vpipe.passes.base import PassContext

BEFORE = """
graph @g {
  %video = media.open() {"kind": "video", "path": "a.mp4"} : Video<fps=25.0, frames=150, w=524, h=524> shared
  %landmarks = face.track(%video) {"index": 0, "max_yaw_deg": 35.0, "select": "largest"} : Landmarks shared
  %row = rows.row() {"file": "rows.csv"} : Row per_row
  %track = audio.narrate(%speech) : Track per_row
  %frames = lipsync.apply(%video, %landmarks, %track, %spans, %inventory) {"backend": "retrieve", "margin_ms": 120.0} : Frames per_row
  %file = media.write(%frames, %track, %row) {"audio_bitrate_kbps": 128, "audio_by": "piper voice v", "base": ".", "codec": "h264", "crf": 12, "path": "out/{{ row_id }}.mp4", "preset": "veryfast", "root": "out", "video_by": "lip-sync retrieve"} : File per_row
}
"""

EXPECTED = """
graph @g {
  %video = media.open() {"kind": "video", "path": "a.mp4"} : Video<fps=25.0, frames=150, w=524, h=524> shared
  %gops = media.normalize(%video) {"crf": 12, "gop": 12, "preset": "veryfast"} : Video<fps=25.0, frames=150, w=524, h=524> shared
  %landmarks = face.track(%video) {"index": 0, "max_yaw_deg": 35.0, "select": "largest"} : Landmarks shared
  %row = rows.row() {"file": "rows.csv"} : Row per_row
  %track = audio.narrate(%speech) : Track per_row
  %frames = lipsync.apply(%gops, %landmarks, %track, %spans, %inventory) {"backend": "retrieve", "margin_ms": 120.0} : Frames per_row
  %file = media.splice(%frames, %track, %row, %gops) {"audio_bitrate_kbps": 128, "audio_by": "piper voice v", "base": ".", "codec": "h264", "crf": 12, "path": "out/{{ row_id }}.mp4", "preset": "veryfast", "root": "out", "video_by": "lip-sync retrieve"} : File per_row
}
"""


def _complete(text: str) -> str:
    """The fragments above with the producers they name (the verifier wants every value defined)."""
    return text.replace(
        "  %row = rows.row()",
        '  %inventory = face.inventory(%video, %landmarks, %alignment) : Inventory shared\n  %row = rows.row()',
    ).replace(
        '  %landmarks = face.track(%video) {"index": 0, "max_yaw_deg": 35.0, "select": "largest"} : Landmarks shared\n',
        '  %landmarks = face.track(%video) {"index": 0, "max_yaw_deg": 35.0, "select": "largest"} : Landmarks shared\n'
        '  %audio = media.audio(%video) : Audio shared\n'
        '  %transcript = text.const() {"text": "x"} : Text shared\n'
        '  %lexicon = speech.lexicon() {"entries": {}} : Lexicon shared\n'
        "  %alignment = speech.align(%audio, %transcript, %lexicon) : Alignment shared\n"
        '  %spans = slots.locate(%alignment) {"slots": {}} : Spans shared\n',
    ).replace(
        "  %track = audio.narrate(%speech) : Track per_row\n",
        '  %script = template.render(%row) {"template": "hi"} : Script per_row\n'
        '  %speech = speech.narrate(%script, %lexicon) {"engine": "piper", "speed": 1.0, "voice": "v"} : Speech per_row\n'
        "  %track = audio.narrate(%speech) : Track per_row\n",
    )


def test_write_becomes_a_splice_of_the_normalised_source() -> None:
    ctx = PassContext()
    assert run_pass("splice-gops", _complete(BEFORE), ctx) == normalized(_complete(EXPECTED))
    assert ctx.facts["gop"] == 12


def test_gop_length_is_an_option() -> None:
    after = run_pass("splice-gops{gop=25}", _complete(BEFORE))
    assert '"gop": 25' in after


def test_other_codecs_are_left_alone_with_a_remark() -> None:
    before = _complete(BEFORE).replace('"codec": "h264"', '"codec": "vp9"')
    ctx = PassContext()
    assert run_pass("splice-gops", before, ctx) == normalized(before)
    assert [d.code for d in ctx.diagnostics.items] == ["VP231"]


def test_odd_sized_sources_are_left_alone() -> None:
    before = _complete(BEFORE).replace("w=524", "w=525")
    ctx = PassContext()
    assert run_pass("splice-gops", before, ctx) == normalized(before)
    assert [d.code for d in ctx.diagnostics.items] == ["VP231"]


def test_rows_without_re_rendered_pixels_keep_the_source_stream() -> None:
    before = (
        _complete(BEFORE)
        .replace(
            '  %frames = lipsync.apply(%video, %landmarks, %track, %spans, %inventory) {"backend": "retrieve", "margin_ms": 120.0} : Frames per_row',
            "  %frames = lipsync.passthrough(%video, %track) : Frames per_row",
        )
    )
    assert run_pass("splice-gops", before) == normalized(before)
