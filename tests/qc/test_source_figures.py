"""QC's figures of the whole source (speaker embedding, largest sample jump, the natural speaker
similarity around each slot) are kept in the run's store: a later process (another worker, a
later run) gets the very same figures without decoding the source's audio."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.media import shared_media
from tests.speech.realclips import CLIPS, alignment, slot_index
from vpipe.data.media import OutputFile, TimelineEdit, Track
from vpipe.kernel_api import context
from vpipe.kernel_api.context import RunContext
from vpipe.media.decode import read_audio


@pytest.mark.media
def test_a_later_process_reads_the_source_figures_from_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import vpipe.kernels.qc as qc

    source = shared_media(CLIPS["glasses_woman"].file)
    words = alignment("glasses_woman").words
    k = slot_index("glasses_woman")
    w = words[k]
    # the recording itself as the row: its slot "replaced" by the same word (no heard check)
    edit = TimelineEdit("value", w.start, w.end, w.start, w.end, w.label, w.label, (), words[k - 3 : k], words[k + 1 :])
    track = Track(read_audio(source), (edit,))
    out = OutputFile(source, "", 0)

    def measure() -> dict[str, float]:
        metrics: dict[str, float] = {}
        qc.audio_metrics(out, track, source, {}, RunContext(tmp_path, store_dir=tmp_path / "store"), metrics, [])
        return metrics

    monkeypatch.setattr(context, "_RESOURCES", {})
    first = measure()
    assert {p.parent.name for p in (tmp_path / "store").rglob("*.npy")} == {
        "speaker",
        "source-max-jump",
        "source-similarity",
    }

    def no_decode(path: Path) -> None:
        raise AssertionError(f"{path} decoded again")

    monkeypatch.setattr(context, "_RESOURCES", {})  # a new process: nothing loaded yet
    monkeypatch.setattr(qc, "iter_audio", no_decode)
    assert measure() == first
    assert 0.8 < first["value.speaker_similarity_source"] <= 1.0 and first["value.speaker_similarity"] > 0.8


@pytest.mark.media
@pytest.mark.parametrize("name", sorted(CLIPS))
def test_the_source_pass_equals_the_figures_of_the_whole_decoded_track(name: str) -> None:
    from vpipe.kernels.qc import source_pass
    from vpipe.qc.audio import max_jump

    source = shared_media(CLIPS[name].file)
    whole = read_audio(source)
    jump, mono, rate = source_pass(source)
    assert rate == whole.rate and mono.dtype == whole.mono().dtype == np.float32
    assert np.array_equal(mono, whole.mono())  # bit for bit, every sample
    assert jump == max_jump(whole.samples) > 0
