"""The copied GOPs around an edit are read from the store, not decoded, on every row after the
first (qc/copied_figures.py): on a real spliced row (the glasses clip normalised, frames 40-51
painted, GOPs 3-4 re-encoded, GOPs 2 and 5 copied around them), every figure the compare
loop keeps is the same to the bit as when those GOPs are decoded, and a later row decodes
only the re-encoded frames."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.qc.test_around_slots import _row
from vpipe.data.media import Frames, OutputFile, Track
from vpipe.kernel_api.context import RunContext
from vpipe.lipsync.timeline import within
from vpipe.media.decode import read_audio
from vpipe.qc.heads import interpolated_references

pytestmark = pytest.mark.media


@pytest.fixture(scope="module")
def row(tmp_path_factory: pytest.TempPathFactory) -> tuple[OutputFile, Frames]:
    file, frames, _ = _row(1, tmp_path_factory.mktemp("copied-figures") / "x1")
    return file, frames


def _compared(file: OutputFile, frames: Frames, rt: RunContext) -> Any:
    """The compare loop's state after the measured ranges, as visual_metrics fills it."""
    from vpipe.qc import visual as qv
    from vpipe.qc.pairs import pairs_spliced

    report = frames.report or {}
    metrics: dict[str, float] = {}
    src_pts, out_pts, same, keyframes, probe, _ = qv._check_copied_gops(file, frames, rt, metrics, [])
    references = interpolated_references(
        frames, report, qv._seams(frames), src_pts, keyframes, probe[1], box=report.get("face_box")
    )
    window = within(frames.times, report["output_windows"])
    heads = qv.Later(lambda: references)
    untracked = qv.TrackAhead(qv._track)  # stopped below, its landmarks never asked for
    c = qv._Compared(frames, report.get("face_box"), window, heads, list(references), untracked)
    lookup = c.copied_lookup(frames, same, keyframes, src_pts, rt)
    for item in pairs_spliced(file, frames, out_pts, src_pts, same, keyframes, lookup, probe):
        c.copied(item) if isinstance(item, qv.CopiedGop) else c.pair(*item)
    untracked.stop()
    return c


def _state(c: Any) -> tuple[Any, ...]:
    return (c.diffs, c.residual_diffs, c.psnrs, c.psnr_frames, c.window_frames, c.window_times, sorted(c.lumas))


def _measured(file: OutputFile, frames: Frames, rt: RunContext) -> tuple[dict[str, float], list[str], dict[str, Any]]:
    from vpipe.qc.visual import visual_metrics

    metrics: dict[str, float] = {}
    failures: list[str] = []
    curves: dict[str, Any] = {}
    visual_metrics(file, Track(read_audio(file.path), ()), frames, {}, rt, metrics, failures, curves)
    return metrics, failures, curves


def _counting_decodes(monkeypatch: pytest.MonkeyPatch) -> dict[Path, int]:
    import vpipe.media.decode as decode

    real = decode.iter_decoded
    counts: dict[Path, int] = {}

    def counted(path: Path, *args: Any, **kwargs: Any) -> Iterator[Any]:
        for item in real(path, *args, **kwargs):
            counts[Path(path)] = counts.get(Path(path), 0) + 1
            yield item

    monkeypatch.setattr(decode, "iter_decoded", counted)
    return counts


def test_stored_figures_are_the_decoded_ones_to_the_bit(
    row: tuple[OutputFile, Frames], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import vpipe.qc.copied_figures as cf

    file, frames = row
    decoded = _compared(file, frames, RunContext(tmp_path))  # no store: every frame decoded
    store = tmp_path / "store"
    first = _compared(file, frames, RunContext(tmp_path, store_dir=store))  # decodes and stores
    assert len(list((store / "qc-copied-gops").glob("*.npz"))) == 2  # GOPs 2 and 5
    monkeypatch.setattr(cf, "_decode_figures", lambda *_: pytest.fail("decoded again"))
    counts = _counting_decodes(monkeypatch)
    later = _compared(file, frames, RunContext(tmp_path, store_dir=store))
    assert counts == {file.path: 24}  # only the re-encoded frames; no source frame at all
    assert _state(first) == _state(decoded) == _state(later)
    assert len(decoded.diffs) == 47 and len(set(decoded.diffs.values())) > 20  # real, varied changes
    monkeypatch.undo()
    assert _measured(file, frames, RunContext(tmp_path)) == _measured(file, frames, RunContext(tmp_path, store_dir=store))


def test_a_damaged_or_foreign_stored_file_is_decoded_again(row: tuple[OutputFile, Frames], tmp_path: Path) -> None:
    file, frames = row
    store = tmp_path / "store"
    reference = _state(_compared(file, frames, RunContext(tmp_path)))
    _compared(file, frames, RunContext(tmp_path, store_dir=store))
    saved = sorted((store / "qc-copied-gops").glob("*.npz"))
    saved[0].write_bytes(b"not a numpy file")
    np.savez(saved[1], edges=np.zeros((2, 3, 3), np.float32), changes=np.zeros(3))  # the wrong frame count
    assert _state(_compared(file, frames, RunContext(tmp_path, store_dir=store))) == reference


def test_a_copied_gop_with_window_frames_is_decoded(
    row: tuple[OutputFile, Frames], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A window that reaches into a copied GOP needs that GOP's pictures (tracked, and their
    luma for the double-exposure measure): that GOP is decoded, the other one read."""
    file, frames = row
    t = frames.times
    reaching = dataclasses.replace(frames, report={"output_windows": [[float(t[33]), float(t[51]) + 0.02]]})
    store = tmp_path / "store"
    reference = _compared(file, reaching, RunContext(tmp_path))
    _compared(file, reaching, RunContext(tmp_path, store_dir=store))
    assert len(list((store / "qc-copied-gops").glob("*.npz"))) == 1  # GOP 5 only
    counts = _counting_decodes(monkeypatch)
    later = _compared(file, reaching, RunContext(tmp_path, store_dir=store))
    assert counts == {file.path: 24, frames.source: 12}  # GOP 2 decoded from the source
    assert _state(later) == _state(reference)
    assert 33 in later.window_frames and 32 in later.lumas
