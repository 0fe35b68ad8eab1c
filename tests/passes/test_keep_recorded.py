"""keep-recorded: the row's speech and lip-sync read only the slots the row changes
(Before/Expected IR), and `slots.changed` keeps a slot only when its words differ."""

from __future__ import annotations

from tests.passes.helpers import normalized, run_pass
from vpipe.data.alignment import SlotLocation, Spans
from vpipe.data.rowdata import Script, ScriptSpan
from vpipe.kernels.slots import changed

BEFORE = """
graph @g {
  %lexicon = speech.lexicon() {"entries": {}} : Lexicon shared
  %row = rows.row() {"file": "rows.csv"} : Row per_row
  %script = template.render(%row) {"template": "hi {{ name }}"} : Script per_row
  %video = media.open() {"kind": "video", "path": "a.mp4"} : Video<fps=25.0, frames=150, w=524, h=524> shared
  %audio = media.audio(%video) : Audio shared
  %transcript = text.const() {"text": "hi john"} : Text shared
  %alignment = speech.align(%audio, %transcript, %lexicon) : Alignment shared
  %spans = slots.locate(%alignment) {"slots": {"name": {"say": "john", "words": ["john"]}}} : Spans shared
  %speech = speech.synthesize(%script, %lexicon, %spans) {"engine": "piper", "max_stretch": 0.2, "policy": "auto", "speed": 1.0, "voice": "v"} : Speech per_row
  %slot_audio = speech.fit(%speech, %spans) {"max_stretch": 0.2, "policy": "auto"} : SlotAudio per_row
  %slot_targets = speech.slot_targets(%audio, %spans) : SlotTargets shared
  %track = audio.splice(%audio, %slot_audio, %spans) : Track per_row
  %landmarks = face.track(%video) {"index": 0, "max_yaw_deg": 35, "select": "largest"} : Landmarks shared
  %frames = lipsync.apply(%video, %landmarks, %track, %spans) {"backend": "retime", "margin_ms": 120.0} : Frames per_row
  %file = media.write(%frames, %track, %row) {"audio_bitrate_kbps": 128, "audio_by": "tts", "base": ".", "codec": "h264", "crf": 12, "preset": "veryfast", "video_by": "lip-sync", "path": "out/{{ row_id }}.mp4", "root": "out"} : File per_row
}
"""

EXPECTED = (
    BEFORE.replace(
        "  %speech = speech.synthesize(%script, %lexicon, %spans)",
        "  %changed = slots.changed(%script, %spans) : Spans per_row\n"
        "  %speech = speech.synthesize(%script, %lexicon, %changed)",
    )
    .replace("speech.fit(%speech, %spans)", "speech.fit(%speech, %changed)")
    .replace("audio.splice(%audio, %slot_audio, %spans)", "audio.splice(%audio, %slot_audio, %changed)")
    .replace("%landmarks, %track, %spans)", "%landmarks, %track, %changed)")
)


def test_row_ops_read_the_changed_slots_and_the_shared_analysis_all_slots() -> None:
    assert run_pass("keep-recorded", BEFORE) == normalized(EXPECTED)


def test_running_it_twice_changes_nothing_more() -> None:
    assert run_pass("keep-recorded", normalized(EXPECTED)) == normalized(EXPECTED)


def test_narration_without_slots_is_left_alone() -> None:
    narration = """
graph @g {
  %lexicon = speech.lexicon() {"entries": {}} : Lexicon shared
  %row = rows.row() {"file": "rows.csv"} : Row per_row
  %script = template.render(%row) {"template": "hi"} : Script per_row
  %speech = speech.narrate(%script, %lexicon) {"engine": "piper", "speed": 1.0, "voice": "v"} : Speech per_row
  %track = audio.narrate(%speech) : Track per_row
}
"""
    assert run_pass("keep-recorded", narration) == normalized(narration)


def _script(text: str, **slots: tuple[int, int]) -> Script:
    return Script(text, tuple(ScriptSpan(name, a, b) for name, (a, b) in slots.items()))


SPANS = Spans(
    (
        SlotLocation("name", ("john",), 1, 0.4, 0.8, ()),
        SlotLocation("city", ("new", "york"), 4, 1.5, 2.1, ()),
    )
)


def test_a_slot_is_kept_when_its_words_are_the_recorded_words() -> None:
    same = _script("Hi John, welcome to New York!", name=(3, 7), city=(20, 28))
    assert changed(same, SPANS) == Spans(())
    one = _script("Hi Jane, welcome to NEW york!", name=(3, 7), city=(20, 28))
    assert [s.name for s in changed(one, SPANS).slots] == ["name"]
    both = _script("Hi Jo, welcome to York!", name=(3, 5), city=(18, 22))
    assert changed(both, SPANS) == SPANS
