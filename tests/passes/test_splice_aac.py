"""splice-aac: the row's splice is given the recording's sound, so its AAC is spliced from the
recording's shared encodes (Before/Expected IR)."""

from __future__ import annotations

from tests.passes.helpers import normalized, run_pass
from vpipe.passes.base import PassContext

BEFORE = """
graph @g {
  %lexicon = speech.lexicon() {"entries": {}} : Lexicon shared
  %row = rows.row() {"file": "rows.csv"} : Row per_row
  %script = template.render(%row) {"template": "hi {{ name }}"} : Script per_row
  %video = media.open() {"kind": "video", "path": "a.mp4"} : Video<fps=25.0, frames=150, w=524, h=524> shared
  %gops = media.normalize(%video) {"crf": 12, "gop": 12, "preset": "veryfast"} : Video<fps=25.0, frames=150, w=524, h=524> shared
  %audio = media.audio(%video) : Audio shared
  %transcript = text.const() {"text": "hi john"} : Text shared
  %alignment = speech.align(%audio, %transcript, %lexicon) : Alignment shared
  %spans = slots.locate(%alignment) {"slots": {"name": {"say": "john", "words": ["john"]}}} : Spans shared
  %speech = speech.synthesize(%script, %lexicon, %spans) {"engine": "piper", "max_stretch": 0.2, "policy": "auto", "speed": 1.0, "voice": "v"} : Speech per_row
  %slot_audio = speech.fit(%speech, %spans) {"max_stretch": 0.2, "policy": "auto"} : SlotAudio per_row
  %track = audio.splice(%audio, %slot_audio, %spans) : Track per_row
  %landmarks = face.track(%video) {"index": 0, "max_yaw_deg": 35, "select": "largest"} : Landmarks shared
  %frames = lipsync.apply(%gops, %landmarks, %track, %spans) {"backend": "retime", "margin_ms": 120.0} : Frames per_row
  %file = media.splice(%frames, %track, %row, %gops) {"audio_bitrate_kbps": 128, "audio_by": "tts", "base": ".", "codec": "h264", "crf": 12, "preset": "veryfast", "video_by": "lip-sync", "path": "out/{{ row_id }}.mp4", "root": "out"} : File per_row
}
"""

EXPECTED = BEFORE.replace(
    "media.splice(%frames, %track, %row, %gops)", "media.splice(%frames, %track, %row, %gops, %audio)"
).replace(
    "audio.splice(%audio, %slot_audio, %spans) : Track",
    'audio.splice(%audio, %slot_audio, %spans) {"shift_multiple": 1024} : Track',
)


def test_the_splice_is_given_the_recordings_sound() -> None:
    ctx = PassContext()
    assert run_pass("splice-aac", BEFORE, ctx) == normalized(EXPECTED)
    assert ctx.facts["splice_aac"] is True


def test_running_it_twice_changes_nothing_more() -> None:
    assert run_pass("splice-aac", normalized(EXPECTED)) == normalized(EXPECTED)


def test_a_whole_video_write_is_left_alone() -> None:
    before = BEFORE.replace("media.splice(%frames, %track, %row, %gops)", "media.write(%frames, %track, %row)")
    assert run_pass("splice-aac", before) == normalized(before)


def test_a_narration_is_left_alone() -> None:
    before = BEFORE.replace(
        "  %track = audio.splice(%audio, %slot_audio, %spans) : Track per_row",
        '  %narration = speech.narrate(%script, %lexicon) {"engine": "piper", "speed": 1.0, "voice": "v"} : Speech per_row\n'
        "  %track = audio.narrate(%narration) : Track per_row",
    )
    assert run_pass("splice-aac", before) == normalized(before)


# With the speaker's own units the row's words come from speech.match_voice, whose heard-word
# guard cuts the row's track as audio.splice will and hears it as the row's AAC packets decode:
# it is given the same shift_multiple and the write's audio bitrate (not for a WebM's Opus).
VOICE = BEFORE.replace(
    "  %track = audio.splice(%audio, %slot_audio, %spans) : Track per_row",
    "  %profile = speech.profile(%audio, %alignment) : Profile shared\n"
    "  %targets = speech.slot_targets(%audio, %spans) : SlotTargets shared\n"
    '  %voice_stats = speech.voice_stats(%transcript, %lexicon) {"engine": "piper", "speed": 1.0, "voice": "v"} : VoiceStats shared\n'
    "  %units = speech.units(%audio, %alignment) : UnitLibrary shared\n"
    "  %matched = speech.match_voice(%slot_audio, %profile, %targets, %voice_stats, %units, %audio, %spans) : SlotAudio per_row\n"
    "  %track = audio.splice(%audio, %matched, %spans) : Track per_row",
)


def test_the_voice_guard_is_told_how_the_track_is_cut() -> None:
    expected = (
        VOICE.replace(
            "media.splice(%frames, %track, %row, %gops)", "media.splice(%frames, %track, %row, %gops, %audio)"
        )
        .replace(
            "%audio, %spans) : SlotAudio per_row",
            '%audio, %spans) {"audio_bitrate_kbps": 128, "shift_multiple": 1024} : SlotAudio per_row',
        )
        .replace(
            "audio.splice(%audio, %matched, %spans) : Track",
            'audio.splice(%audio, %matched, %spans) {"shift_multiple": 1024} : Track',
        )
    )
    assert run_pass("splice-aac", VOICE) == normalized(expected)
    assert run_pass("splice-aac", normalized(expected)) == normalized(expected)


def test_the_voice_guard_of_an_opus_row_gets_no_bitrate() -> None:
    webm = VOICE.replace('"path": "out/{{ row_id }}.mp4"', '"path": "out/{{ row_id }}.webm"')
    after = run_pass("splice-aac", webm)
    assert '{"shift_multiple": 1024} : SlotAudio per_row' in after and 'audio_bitrate_kbps": 128, "shift' not in after
