"""batch-rows, honestly: rows rendered together (their Wav2Lip crops through the generator in
shared forward passes, runtime.batches.run_rows) give the same frames as each row alone.

Real frames of interview_man.mp4, tiny random weights of the published architecture (as in
test_wav2lip.py); three rows with different timelines (a fitted and two elastic slots)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from tests.lipsync.sources import edit, source, track_of  # noqa: E402
from tests.lipsync.test_wav2lip import NEW, SLOT, _generator  # noqa: E402
from vpipe.data.rowdata import RowValue  # noqa: E402
from vpipe.kernel_api.batch import RowBatch  # noqa: E402
from vpipe.kernels.lipsync_wav2lip import CROP, predictor  # noqa: E402
from vpipe.lipsync.neural import render_neural  # noqa: E402
from vpipe.lipsync.timeline import slot_windows  # noqa: E402
from vpipe.neural.features import resample, wav2lip_mel  # noqa: E402
from vpipe.runtime.batches import run_rows  # noqa: E402

STRETCH = {1: 0.0, 2: 0.3, 3: 0.15}
FACES_PER_PASS = 16


@dataclass
class Rendered:
    index: int
    rendered: dict[int, np.ndarray]
    passes: list[int]  # rows in each call of the generator this row took part in


class WavLipRows:
    """Stands for the executor: a row's lip-sync op, rendered with the batch it is given."""

    def __init__(self, model: torch.nn.Module) -> None:
        self.model, self.src = model, source("interview_man")

    def run_row(self, shared: Any, row: RowValue, force: bool = False, batch: RowBatch | None = None) -> Rendered:
        src = self.src
        track = track_of(src, edit(src, *SLOT, NEW, STRETCH[row.index]))
        mel = wav2lip_mel(resample(track.audio.mono(), track.audio.rate))
        inner = predictor(self.model, mel, track.audio.start, "cpu", batch=batch, size=FACES_PER_PASS)
        passes: list[int] = []

        def predict(crops: list[np.ndarray], times: np.ndarray) -> list[np.ndarray]:
            calls = batch.calls if batch is not None else 0
            out = inner(crops, times)
            if batch is None:
                passes.append(1)
            elif batch.calls > calls:
                passes.append(batch.sizes[-1])
            return list(out)

        windows = slot_windows(track, 0.12, src.video.duration)
        frames = render_neural(src.video, src.face, src.inventory, track, windows, predict, CROP, 8)
        return Rendered(row.index, dict(frames.rendered), passes)


def test_rows_rendered_together_give_the_frames_each_gives_alone(tmp_path: Path) -> None:
    rows = [RowValue(i, f"r{i}", {}, "rows.csv", i + 1) for i in STRETCH]
    renderer = WavLipRows(_generator(tmp_path))
    alone = [renderer.run_row(None, row) for row in rows]
    together = run_rows(renderer, None, rows)  # type: ignore[arg-type]
    assert [r.index for r in together] == [1, 2, 3]
    for a, b in zip(alone, together, strict=True):
        assert sorted(a.rendered) == sorted(b.rendered) and len(a.rendered) >= 15
        for k in a.rendered:
            assert np.array_equal(a.rendered[k], b.rendered[k]), f"row {a.index}, frame {k}"
    # alone, each call of the generator saw one row's crops; together, the three rows' crops went
    # through in shared calls (16 faces per forward pass)
    assert {size for r in alone for size in r.passes} == {1}
    assert max(size for r in together for size in r.passes) == 3
