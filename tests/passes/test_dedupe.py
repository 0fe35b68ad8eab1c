"""dedupe: the row's write is marked so the runtime keys its content without the row
(Before/Expected IR); with contact sheets (named per row) nothing changes."""

from __future__ import annotations

from tests.passes.helpers import normalized, run_pass

BEFORE = """
graph @g {
  %video = media.open() {"kind": "video", "path": "a.mp4"} : Video<fps=25.0, frames=150, w=524, h=524> shared
  %audio = media.audio(%video) : Audio shared
  %lexicon = speech.lexicon() {"entries": {}} : Lexicon shared
  %row = rows.row() {"file": "rows.csv"} : Row per_row
  %script = template.render(%row) {"template": "hi"} : Script per_row
  %speech = speech.narrate(%script, %lexicon) {"engine": "piper", "speed": 1.0, "voice": "v"} : Speech per_row
  %track = audio.narrate(%speech) : Track per_row
  %frames = lipsync.passthrough(%video, %track) : Frames per_row
  %file = media.write(%frames, %track, %row) {"audio_bitrate_kbps": 128, "audio_by": "piper voice v", "base": ".", "codec": "h264", "crf": 12, "path": "out/{{ row_id }}.mp4", "preset": "veryfast", "root": "out", "video_by": "lip-sync retrieve"} : File per_row
  %profile = speech.profile(%audio, %alignment) : Profile shared
  %report = qc.measure(%file, %track, %frames, %profile) {"thresholds": {}} : Report per_row
}
""".replace(
    "  %profile = speech.profile(%audio, %alignment) : Profile shared\n",
    '  %transcript = text.const() {"text": "x"} : Text shared\n'
    "  %alignment = speech.align(%audio, %transcript, %lexicon) : Alignment shared\n"
    "  %profile = speech.profile(%audio, %alignment) : Profile shared\n",
)

EXPECTED = BEFORE.replace('"crf": 12, "path"', '"crf": 12, "dedupe": true, "path"')


def test_the_write_is_keyed_by_content() -> None:
    assert run_pass("dedupe", BEFORE) == normalized(EXPECTED)


def test_contact_sheets_keep_every_row_rendered() -> None:
    before = BEFORE.replace('{"thresholds": {}}', '{"contact_sheets": true, "thresholds": {}}')
    assert run_pass("dedupe", before) == normalized(before)
