"""batch-rows: a batchable lip-sync kernel's op gets `rows_per_batch`, the rows whose windows
fill one forward pass of the kernel on its device (Before/Expected IR)."""

from __future__ import annotations

from tests.passes.helpers import normalized, run_pass

BEFORE = """
graph @g {
  %video = media.open() {"kind": "video", "path": "a.mp4"} : Video<fps=25.0, frames=150, w=524, h=524> shared
  %audio = media.audio(%video) : Audio shared
  %landmarks = face.track(%video) {"index": 0, "max_yaw_deg": 35, "select": "largest"} : Landmarks shared
  %lexicon = speech.lexicon() {"entries": {}} : Lexicon shared
  %transcript = text.const() {"text": "x"} : Text shared
  %alignment = speech.align(%audio, %transcript, %lexicon) : Alignment shared
  %spans = slots.locate(%alignment) {"slots": {}} : Spans shared
  %track = audio.narrate(%speech) : Track per_row
  %frames = lipsync.apply(%video, %landmarks, %track, %spans) {"backend": "wav2lip", "margin_ms": 120.0, "windows": [[1.76, 2.81]]} : Frames per_row kernel(wav2lip@cuda)
}
""".replace(
    "  %track = audio.narrate(%speech) : Track per_row\n",
    '  %row = rows.row() {"file": "rows.csv"} : Row per_row\n'
    '  %script = template.render(%row) {"template": "hi"} : Script per_row\n'
    '  %speech = speech.narrate(%script, %lexicon) {"engine": "piper", "speed": 1.0, "voice": "v"} : Speech per_row\n'
    "  %track = audio.narrate(%speech) : Track per_row\n",
)


def test_rows_that_fill_one_gpu_forward_pass_are_batched() -> None:
    # Wav2Lip on CUDA: 128 faces per pass; the window is 1.05 s at 25 fps = 27 faces: 4 rows
    expected = BEFORE.replace('"margin_ms": 120.0, "windows"', '"margin_ms": 120.0, "rows_per_batch": 4, "windows"')
    assert run_pass("batch-rows", BEFORE) == normalized(expected)


def test_one_row_fills_a_cpu_pass_so_nothing_changes() -> None:
    cpu = BEFORE.replace("kernel(wav2lip@cuda)", "kernel(wav2lip@cpu)")  # 32 faces per pass: one row
    assert run_pass("batch-rows", cpu) == normalized(cpu)


def test_a_kernel_that_cannot_batch_is_left_alone() -> None:
    retrieve = BEFORE.replace('"backend": "wav2lip"', '"backend": "retrieve"').replace("wav2lip@cuda", "retrieve@cpu")
    assert run_pass("batch-rows{rows=4}", retrieve) == normalized(retrieve)


def test_the_rows_option_sets_the_batch() -> None:
    expected = BEFORE.replace('"margin_ms": 120.0, "windows"', '"margin_ms": 120.0, "rows_per_batch": 2, "windows"')
    assert run_pass("batch-rows{rows=2}", BEFORE) == normalized(expected)
