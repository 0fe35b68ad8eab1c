"""The source frames one row's QC decoded, kept for the next row (qc/kept_frames.py): every
visual figure, failure and curve of a real spliced row is the same with the frames kept from
the row before as with none kept (and as with no keeper at all, the code before it), also for
rows that need other source frames (interpolated references around both seams); the row
after decodes none of the source frames the row before did; and the keeper holds only the last
row's frames, within its budget, of one file as it is."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vpipe.qc.kept_frames import KeptFrames


def _frame(side: int = 16) -> Any:
    import av

    return av.VideoFrame(side, side, "yuv420p")


def test_a_row_takes_what_the_row_before_asked_for_and_nothing_older() -> None:
    kept = KeptFrames().of(("a.mp4", 1, 1))
    one, two = _frame(), _frame()
    kept.put(1, one)
    kept.put(2, two)
    assert kept.get(1) is one and kept.get(3) is None
    kept.next_row()
    assert kept.get(2) is two  # taken: kept on for the row after
    kept.next_row()
    assert kept.get(2) is two
    assert kept.get(1) is None  # the row before did not ask for it: gone


def test_the_keeper_forgets_another_file_or_the_file_changed() -> None:
    kept = KeptFrames().of(("a.mp4", 1, 1))
    kept.put(1, _frame())
    kept.next_row()
    assert kept.of(("a.mp4", 1, 2)).get(1) is None  # rewritten in place
    kept.put(1, _frame())
    kept.next_row()
    assert kept.of(("b.mp4", 1, 2)).get(1) is None


def test_the_keeper_holds_no_more_than_its_budget() -> None:
    frame = _frame(64)
    size = sum(p.buffer_size for p in frame.planes)
    kept = KeptFrames(budget=2 * size).of(("a.mp4", 1, 1))
    for i in range(5):
        kept.put(i, _frame(64))
    assert sorted(kept.asked) == [0, 1] and kept.held == 2 * size  # the first ones asked
    kept.next_row()
    assert kept.held == 0 and sorted(kept.kept) == [0, 1]


def _counting_source_decodes(monkeypatch: pytest.MonkeyPatch, source: Path) -> list[int]:
    """Frames decoded from `source` from now on (vpipe.media.decode.iter_decoded)."""
    import vpipe.media.decode as decode

    count = [0]
    real = decode.iter_decoded

    def counted(path: Path, *args: Any, **kwargs: Any) -> Iterator[tuple[int, float, object]]:
        for item in real(path, *args, **kwargs):
            count[0] += path == source
            yield item

    monkeypatch.setattr(decode, "iter_decoded", counted)
    return count


def _measured(file: Any, frames: Any) -> tuple[str, list[str], str]:
    from vpipe.data.media import Track
    from vpipe.kernel_api.context import RunContext
    from vpipe.media.decode import read_audio
    from vpipe.qc.visual import visual_metrics

    metrics: dict[str, float] = {}
    failures: list[str] = []
    curves: dict[str, Any] = {}
    track = Track(read_audio(file.path), ())
    visual_metrics(file, track, frames, {}, RunContext(file.path.parent), metrics, failures, curves)
    assert metrics["qc_frames_decoded"] > 0 and math.isfinite(metrics["seam_ratio"])
    return repr(sorted(metrics.items())), failures, repr(sorted(curves.items()))  # NaN equal as text


@pytest.mark.media
def test_qc_figures_are_the_same_with_the_source_frames_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import vpipe.qc.visual as qv
    from tests.qc.test_around_slots import _row
    from vpipe.kernel_api.context import RunContext

    file, frames, _ = _row(1, tmp_path / "x1")
    # the same row with frames 40 and 51 drawn on interpolated heads: its references need
    # source frames 40, 41 (GOP 3) and 51, 52 (GOP 4), which the plain row never decodes
    report = {**(frames.report or {}), "interpolated": [[40, 0.25], [51, 0.75]]}
    rows = {"plain": frames, "interpolated": dataclasses.replace(frames, report=report)}
    keeper = RunContext(tmp_path).resource("qc-kept-frames", KeptFrames)

    # as before the keeper: no frame kept, ever
    monkeypatch.setattr(qv, "kept_frames", lambda *_: None)
    before = {name: _measured(file, f) for name, f in rows.items()}
    monkeypatch.undo()

    decoded = _counting_source_decodes(monkeypatch, frames.source)
    for name in ("plain", "plain", "interpolated", "interpolated", "plain", "interpolated"):
        keeper.of(("", 0, 0))  # forget: a first row
        first = decoded[0]
        assert _measured(file, rows[name]) == before[name]
        fresh = decoded[0] - first
        assert fresh > 0
        first = decoded[0]
        assert _measured(file, rows[name]) == before[name]  # the same row after it: all kept
        assert decoded[0] == first
    # rows that need other frames after each other: what is kept is taken, the rest decoded
    for name in ("plain", "interpolated", "plain", "interpolated"):
        assert _measured(file, rows[name]) == before[name]
