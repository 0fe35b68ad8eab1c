from __future__ import annotations

from tests.passes.helpers import normalized, run_pass
from vpipe.lipsync.timeline import merge_windows
from vpipe.passes.base import PassContext

BEFORE = """
graph @g {
  %video = media.open() {"kind": "video", "path": "a.mp4"} : Video<fps=25.0, frames=150> shared
  %audio = media.audio(%video) : Audio shared
  %transcript = text.const() {"text": "x"} : Text shared
  %lexicon = speech.lexicon() {"entries": {}} : Lexicon shared
  %alignment = speech.align(%audio, %transcript, %lexicon) : Alignment shared
  %spans = slots.locate(%alignment) {"slots": {"a": {"end": 2.23, "say": "help", "start": 1.95, "word_index": 6, "words": ["help"]}}} : Spans shared
  %landmarks = face.track(%video) {"index": 0, "max_yaw_deg": 35.0, "select": "largest"} : Landmarks shared
  %inventory = face.inventory(%video, %landmarks, %alignment) : Inventory shared
  %row = rows.row() {"file": "rows.csv"} : Row per_row
  %script = template.render(%row) {"template": "hi"} : Script per_row
  %speech = speech.synthesize(%script, %lexicon, %spans) {"engine": "piper", "max_stretch": 0.2, "policy": "auto", "speed": 1.0, "voice": "v"} : Speech per_row
  %slot_audio = speech.fit(%speech, %spans) {"max_stretch": 0.2, "policy": "auto"} : SlotAudio per_row
  %track = audio.splice(%audio, %slot_audio, %spans) : Track per_row
  %frames = lipsync.apply(%video, %landmarks, %track, %spans, %inventory) {"backend": "retrieve", "margin_ms": 120.0} : Frames per_row
}
"""

EXPECTED = BEFORE.replace(
    '{"backend": "retrieve", "margin_ms": 120.0}',
    '{"backend": "retrieve", "margin_ms": 120.0, "windows": [[1.83, 2.35]]}',
)


def test_windows_are_slot_spans_plus_margin() -> None:
    ctx = PassContext()
    assert run_pass("segment-lipsync", BEFORE, ctx) == normalized(EXPECTED)
    assert ctx.facts["frames_changed"] == 13  # 0.52 s at 25 fps
    assert ctx.facts["frames_total"] == 150


def test_option_changes_nothing_without_times() -> None:
    before = BEFORE.replace('"end": 2.23, ', "").replace('"start": 1.95, ', "")
    assert run_pass("segment-lipsync", before) == normalized(before)


def test_merge_windows() -> None:
    assert merge_windows([(1.0, 1.2), (1.3, 1.5)], 0.1, None) == [(0.9, 1.6)]
    assert merge_windows([(1.0, 1.2), (2.0, 2.5)], 0.1, 2.55) == [(0.9, 1.3), (1.9, 2.55)]
    assert merge_windows([(0.05, 0.2)], 0.1, None) == [(0.0, 0.30000000000000004)]


def test_margin_option_replaces_the_recipe_margin() -> None:
    """`segment-lipsync{margin_ms=80}`: windows grow by 80 ms, and the op says so."""
    expected = BEFORE.replace(
        '{"backend": "retrieve", "margin_ms": 120.0}',
        '{"backend": "retrieve", "margin_ms": 80.0, "windows": [[1.87, 2.31]]}',
    )
    ctx = PassContext()
    assert run_pass("segment-lipsync{margin_ms=80}", BEFORE, ctx) == normalized(expected)
    assert ctx.facts["frames_changed"] == 11  # 0.44 s at 25 fps
