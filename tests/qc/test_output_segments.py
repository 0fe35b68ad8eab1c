"""QC decodes a large output's re-encoded runs two segments at a time (qc/output_segments.py):
each run cut at the IDRs inside it, a helper thread decoding the next segment on a decoder of
its own. Where a decoder may start is read from the file (`fresh_starts`); the segments give
the very pictures, in the same order, that one decoder per run gives; QC's figures are the
same with the runs cut and not; the helper does decode; and its errors reach QC's loop.
The held-out 1080×1920 clip, the size the cut is for, is checked end to end in the slow
suite."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.qc.test_around_slots import _row
from tests.qc.test_kept_frames import _measured
from vpipe.media.convert import plane_arrays
from vpipe.qc import output_segments, overlap
from vpipe.qc.output_segments import SegmentsAhead, cut, fresh_starts, helped


def test_fresh_starts_are_idrs_nothing_is_shown_across() -> None:
    closed = np.arange(36, dtype=np.int64) * 512  # three GOPs of 12, each shown in its own order
    assert fresh_starts(closed, [0, 12, 24], lambda i: True) == (12, 24)  # the first: a run's start anyway
    assert fresh_starts(closed, [12, 24], lambda i: i != 24) == (12,)  # not an IDR slice
    shown_late = closed.copy()
    shown_late[10] = closed[13]  # a frame before GOP 12 shown after its IDR: nothing may start there
    assert fresh_starts(shown_late, [12, 24], lambda i: True) == (24,)
    shown_early = closed.copy()
    shown_early[15] = closed[12] - 1  # a frame after the IDR shown before it
    assert fresh_starts(shown_early, [12, 24], lambda i: True) == (24,)
    asked: list[int] = []
    fresh_starts(shown_late, [12, 24], lambda i: asked.append(i) or True)
    assert asked == [24]  # the sample is read only where the timestamps allow a start
    assert fresh_starts(np.zeros(0, np.int64), [0], lambda i: True) == ()


def test_runs_are_cut_at_the_fresh_starts_inside_them() -> None:
    assert cut([(36, 60), (100, 112)], [48, 100, 200]) == [(36, 48), (48, 60), (100, 112)]
    assert cut([(36, 60)], []) == [(36, 60)]
    assert cut([], [12]) == []


def test_only_large_outputs_are_cut() -> None:
    assert helped(1080, 1920) and helped(1920, 1080) and helped(3840, 2160)
    assert not helped(1280, 720) and not helped(700, 700) and not helped(524, 524)


@pytest.fixture(scope="module")
def row(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    file, frames, _ = _row(1, tmp_path_factory.mktemp("output-segments") / "x1")
    return file, frames


def _found(file: Any) -> Any:
    from vpipe.qc.pairs import copied_gops

    return copied_gops(file.path, file.splice)


@pytest.mark.media
def test_the_files_idrs_inside_the_run_are_found_read_in_place_and_demuxed(row: tuple[Any, Any]) -> None:
    from vpipe.qc.pairs import _copied_demuxed, _inside_reencoded

    file, _ = row
    assert [list(r) for r in file.splice["reencoded"]] == [[36, 60]]  # GOPs 3 and 4 re-encoded
    found = _found(file)
    assert found.in_place and found.fresh_starts == (48,)  # GOP 4's IDR; 36 starts the run
    expected = {int(k0): (int(g), str(d)) for g, k0, d in file.splice.get("copied") or []}
    assert _copied_demuxed(file.path, expected, _inside_reencoded(file.splice)).fresh_starts == (48,)


def _pictures(pairs: Any) -> list[tuple[int, bytes]]:
    return [(j, b"".join(a.tobytes() for a in plane_arrays(frame))) for j, frame in pairs]


def _one_decoder(path: Path, a: int, b: int, pts: np.ndarray) -> list[tuple[int, Any]]:
    """Frames a..b-1 from one decoder started at the keyframe before a (the loop before)."""
    from vpipe.media.decode import iter_decoded

    out = []
    for j, _, frame in iter_decoded(path, a, pts, threads=False):
        if a <= j < b:
            out.append((j, frame))
        if j >= b - 1:
            break
    return out


def _read_all(path: Path, segments: list[tuple[int, int]], pts: np.ndarray) -> list[tuple[int, Any]]:
    """Every segment's (index, frame) pairs, read in order as QC's loop reads them."""
    decoded = SegmentsAhead(path, segments, pts, probe=False)
    try:
        return [pair for i in range(len(segments)) for pair in decoded.read(i)]
    finally:
        decoded.close()


@pytest.mark.media
@pytest.mark.parametrize("threads", [True, False], ids=["helper", "one thread"])
def test_segments_give_the_pictures_one_decoder_gives(
    row: tuple[Any, Any], threads: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    file, _ = row
    found = _found(file)
    monkeypatch.setattr(overlap, "ON_THREADS", threads)
    segments = cut([(30, 60)], found.fresh_starts)  # from the GOP before the run, across its IDRs
    assert segments == [(30, 48), (48, 60)]
    got = _read_all(file.path, segments, found.out_pts)
    assert [j for j, _ in got] == list(range(30, 60))
    assert _pictures(got) == _pictures(_one_decoder(file.path, 30, 60, found.out_pts))


@pytest.mark.media
def test_the_helper_decodes_the_segments_ahead(row: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    import vpipe.media.decode as decode

    file, _ = row
    found = _found(file)
    home = decode.iter_decoded
    starts: list[tuple[str, int]] = []

    def seen(path: Any, start: int = 0, *args: Any, **kwargs: Any) -> Any:
        starts.append((threading.current_thread().name, start))
        return home(path, start, *args, **kwargs)

    monkeypatch.setattr(decode, "iter_decoded", seen)
    segments = [(36, 42), (42, 48), (48, 54), (54, 60)]  # every segment its own decoder here
    got = _read_all(file.path, segments, found.out_pts)
    assert [j for j, _ in got] == list(range(36, 60))
    assert sorted(s for _, s in starts) == [36, 42, 48, 54]  # each segment decoded once
    assert ("MainThread", 36) in starts  # the reader decodes the first itself
    assert any(name == "qc-segments" for name, _ in starts)  # and the helper some of the rest


@pytest.mark.media
def test_an_error_on_the_helper_is_raised_by_the_reader(row: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    import vpipe.media.decode as decode

    file, _ = row
    found = _found(file)
    home = decode.iter_decoded

    def failing(path: Any, start: int = 0, *args: Any, **kwargs: Any) -> Any:
        if start == 48:
            raise OSError("the output went away")
        return home(path, start, *args, **kwargs)

    monkeypatch.setattr(decode, "iter_decoded", failing)
    decoded = SegmentsAhead(file.path, [(36, 48), (48, 60)], found.out_pts, probe=False)
    try:
        assert [j for j, _ in decoded.read(0)] == list(range(36, 48))
        with pytest.raises(OSError, match="went away"):
            list(decoded.read(1))
    finally:
        decoded.close()
    stopped = SegmentsAhead(file.path, [(36, 48), (48, 60)], found.out_pts, probe=False)
    stopped.close()  # closed before anything was read (QC failed first): the helper ends
    assert stopped._thread is None or not stopped._thread.is_alive()


@pytest.mark.media
def test_qc_figures_are_the_same_with_the_runs_cut(row: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    import vpipe.qc.visual as qv

    file, frames = row
    before = _measured(file, frames)  # 524×524: not cut
    calls: list[Any] = []
    real = qv.pairs_spliced
    monkeypatch.setattr(output_segments, "HELPED_FROM", 1)  # this row cut as a large one is
    monkeypatch.setattr(qv, "pairs_spliced", lambda *args: calls.append(args[9]) or real(*args))
    assert _measured(file, frames) == before
    assert calls == [(48,)]
    monkeypatch.setattr(overlap, "ON_THREADS", False)
    assert _measured(file, frames) == before


@pytest.mark.media
@pytest.mark.slow
def test_the_held_out_portrait_rows_qc_is_the_same_cut_and_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two rows of the 1080×1920 clip rendered as a user renders them (lip-sync `retrieve`,
    `duration: auto`): QC again on each, its runs cut (the default at this size) and each on
    one decoder (as before), reports the same figures, failures and curves."""
    import vpipe
    import vpipe.qc.visual as qv
    from tests.clips import PORTRAIT
    from tests.e2e.helpers import write_recipe
    from vpipe.kernels.qc import Measure

    recipe = write_recipe(tmp_path, PORTRAIT, PORTRAIT.values[:2], lipsync="retrieve", duration="auto")
    calls: list[tuple[Any, ...]] = []
    run = Measure.run

    def measured(self: Any, *args: Any) -> Any:
        calls.append(args)
        return run(self, *args)

    monkeypatch.setattr(Measure, "run", measured)
    vpipe.compile(recipe, cache_dir=tmp_path / "cache").run(jobs=1)
    monkeypatch.setattr(Measure, "run", run)
    assert len(calls) == 2

    def reported(args: tuple[Any, ...]) -> str:
        report = Measure().run(*args)
        metrics = {k: v for k, v in report.metrics.items() if k != "audio_cpu_s"}  # a CPU time
        return repr((sorted(metrics.items()), report.failures, sorted(report.curves.items())))

    real = qv.pairs_spliced
    fresh: list[tuple[int, ...]] = []
    monkeypatch.setattr(qv, "pairs_spliced", lambda *args: fresh.append(args[9]) or real(*args))
    cut_runs = [reported(args) for args in calls]
    assert all(fresh) and len(fresh) == 2  # each row's re-encoded run has IDRs inside: it was cut
    monkeypatch.setattr(qv, "pairs_spliced", lambda *args: real(*args[:9]))  # one decoder a run
    assert [reported(args) for args in calls] == cut_runs


@pytest.mark.media
def test_no_helper_is_left_when_qcs_loop_fails(row: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    import vpipe.qc.pairs as pairs
    import vpipe.qc.visual as qv

    file, frames = row
    monkeypatch.setattr(output_segments, "HELPED_FROM", 1)
    # four segments (each decoded from the keyframe before it: the same pictures), so the
    # helper, two ahead, is waiting for the loop to go on when it fails
    monkeypatch.setattr(pairs, "cut", lambda runs, starts: [(36, 42), (42, 48), (48, 54), (54, 60)])
    compared: list[int] = []
    real = qv._Compared.pair

    def failing(self: Any, k: int, *args: Any) -> None:
        compared.append(k)
        if k == 40:  # in the run's first segment, the helper decoding the next
            raise ValueError("a measure failed")
        real(self, k, *args)

    monkeypatch.setattr(qv._Compared, "pair", failing)
    with pytest.raises(ValueError, match="a measure failed") as raised:
        _measured(file, frames)
    assert 40 in compared
    # while the error is still held (its traceback keeps QC's frames, as the executor's
    # handler does while it writes the log), the helper has already stopped
    assert raised.traceback and not [t for t in threading.enumerate() if t.name == "qc-segments"]
