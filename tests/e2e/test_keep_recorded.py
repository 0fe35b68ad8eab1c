"""keep-recorded end to end on a real clip: a row whose value is the recorded word (in
another case) gets the recording's own frames and sound in the slot, nothing synthesized;
the row beside it that says another word is re-synthesized and re-animated as before."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.e2e.helpers import GLASSES, decode_audio, luma_frames, run_recipe, source_slot, write_recipe

pytestmark = pytest.mark.media


def _slot_snr(output: Path, start: float, end: float) -> float:
    """dB of the recording's sound against the output's difference from it, in [start, end)."""
    got, ref = decode_audio(output), decode_audio(GLASSES.source)
    a, b = (int(t * ref.rate) for t in (start, end))
    x, y = got.mono()[a:b], ref.mono()[a:b]
    return float(10 * np.log10(np.sum(y**2) / max(np.sum((x - y) ** 2), 1e-12)))


def test_a_row_saying_the_recorded_word_keeps_the_recording(tmp_path: Path, e2e_cache: Path) -> None:
    said = GLASSES.slot_word.capitalize()  # "Regulation": the words, not their case, decide
    recipe = write_recipe(tmp_path, GLASSES, [said, "statute"], lipsync="retrieve")
    run = run_recipe(recipe, cache=e2e_cache)
    assert run.cli.code == 0, run.cli.text
    kept, new = run.output("r1"), run.output("r2")
    slot = source_slot(GLASSES)
    start, end = slot.start - 0.1, slot.end + 0.1  # the slot with the lip-sync margin

    # nothing synthesized: no slot decision, no synthetic span in the provenance
    assert run.rows["r1"].get("duration") in (None, []), run.rows["r1"].get("duration")
    assert json.loads(Path(f"{kept}.provenance.json").read_text())["synthesized"] == []
    assert {s["track"] for s in json.loads(Path(f"{new}.provenance.json").read_text())["synthesized"]} == {
        "audio",
        "video",
    }

    # the frames of the slot are the recording's, bit for bit; the other row's are re-animated
    def window(path: Path) -> list[np.ndarray]:
        return [y for _, y in luma_frames(path, lambda i, t: start <= t < end)]

    recorded = window(GLASSES.source)
    assert len(recorded) >= 10
    assert all(np.array_equal(a, b) for a, b in zip(window(kept), recorded, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(window(new), recorded, strict=True))

    # the sound of the slot is the recording's (one AAC generation apart); the other row's is not
    kept_snr, new_snr = _slot_snr(kept, start, end), _slot_snr(new, start, end)
    assert kept_snr > 25.0, kept_snr  # measured 34.6 dB
    assert new_snr < 6.0, new_snr  # measured -1.8 dB
