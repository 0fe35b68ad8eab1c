"""The source frames QC decoded, kept for later rows (qc/kept_frames.py): every visual figure,
failure and curve of a real spliced row is the same with frames kept from the rows before as
with none kept (and as with no keeper at all, the code before it), also for rows that need
other source frames (interpolated references around both seams), in any order; a row after
one that needed the same frames decodes none of them; and the keeper holds one file as it is,
within its budget, the least recently used frames going first."""

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


def test_the_keeper_gives_back_what_it_was_given() -> None:
    kept = KeptFrames().of(("a.mp4", 1, 1))
    one = _frame()
    kept.put(1, one)
    kept.put(1, _frame())  # already kept: the first one stays
    assert kept.get(1) is one and kept.get(2) is None


def test_the_keeper_forgets_another_file_or_the_file_changed() -> None:
    kept = KeptFrames().of(("a.mp4", 1, 1))
    kept.put(1, _frame())
    assert kept.of(("a.mp4", 1, 2)).get(1) is None  # rewritten in place
    kept.put(1, _frame())
    assert kept.of(("b.mp4", 1, 2)).get(1) is None


def test_the_keeper_holds_no_more_than_its_budget_least_recently_used_first() -> None:
    frame = _frame(64)
    size = sum(p.buffer_size for p in frame.planes)
    kept = KeptFrames(budget=3 * size).of(("a.mp4", 1, 1))
    for i in range(3):
        kept.put(i, _frame(64))
    assert kept.get(0) is not None  # used: 1 is now the least recently used
    kept.put(3, _frame(64))
    assert sorted(kept.frames) == [0, 2, 3] and kept.held == 3 * size
    small = KeptFrames(budget=size - 1)  # a frame larger than the whole budget: not kept
    small.put(0, frame)
    assert small.held == 0 and not small.frames


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
def test_qc_figures_are_the_same_with_the_source_frames_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
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
    for name in rows:
        keeper.of(("", 0, 0))  # forget: a first row
        first = decoded[0]
        assert _measured(file, rows[name]) == before[name]
        assert decoded[0] > first
        first = decoded[0]
        assert _measured(file, rows[name]) == before[name]  # the same row after it: all kept
        assert decoded[0] == first
    # rows that need other frames, alternating: each takes what is kept and decodes the rest
    keeper.of(("", 0, 0))
    for name in ("plain", "interpolated", "plain"):
        assert _measured(file, rows[name]) == before[name]
    first = decoded[0]
    for name in ("interpolated", "plain", "interpolated"):
        assert _measured(file, rows[name]) == before[name]
    assert decoded[0] == first  # both rows' frames are kept together
