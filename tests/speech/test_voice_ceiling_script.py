"""benchmarks/voice_ceiling.py: the speaker's own speech put in a row's slot, scored as QC scores
the row. The stretch replaces exactly the word's samples and crossfades at its edges; on the
glasses clip the scores order as the measure's make-up says they must (the recorded word in
its own place is part of the reference; a reused stretch of the recording is too; a stretch cut
out of the reference is new to it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.voice_ceiling import run_clip, with_stretch
from tests.clips import GLASSES
from tests.media import shared_media


@pytest.mark.parametrize(("at", "fade"), [(10, 5), (2, 5), (0, 1), (185, 5)])
def test_with_stretch_replaces_the_word_and_fades_at_its_edges(at: int, fade: int) -> None:
    track = np.linspace(-1.0, 1.0, 100, dtype=np.float32)
    source = np.arange(1, 201, dtype=np.float32)
    start, end = 40, 60
    out = with_stretch(track, start, end, source, at, fade)
    assert out.dtype == track.dtype
    expected = [source[at + k] if at + k < len(source) else 0.0 for k in range(end - start)]
    np.testing.assert_array_equal(out[start:end], expected)
    np.testing.assert_array_equal(out[: start - fade], track[: start - fade])
    np.testing.assert_array_equal(out[end + fade :], track[end + fade :])
    # inside each fade, the output lies between the track and the source at that sample
    for i in [*range(start - fade, start), *range(end, end + fade)]:
        k = at - start + i
        s = source[k] if 0 <= k < len(source) else 0.0
        assert min(track[i], s) - 1e-5 <= out[i] <= max(track[i], s) + 1e-5


@pytest.mark.slow
def test_glasses_own_speech_scores_order_as_the_reference_flatters(tmp_path: Path) -> None:
    shared_media(GLASSES.file)
    result = run_clip(tmp_path, GLASSES)
    rows = result["rows"]
    assert isinstance(rows, list) and [r["value"] for r in rows] == list(GLASSES.values)
    for r in rows:
        assert len(r["own"]) == len(r["own_unseen"]) >= 3
        assert all(-1.0 <= s <= 1.0 for s in [r["row"], *r["own"], *r["own_unseen"]])
    assert result["natural_median"] > result["own_median"] > result["own_unseen_median"]
