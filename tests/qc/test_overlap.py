"""QC's overlaps (qc/overlap.py): the window frames are tracked on a thread while the rest
are decoded, the interpolated heads drawn on one, and the sound is measured on one while the
pictures are. None may change a figure: on real spliced rows (plain, and with interpolated
frames at both seams) every visual metric, failure and curve is the same as with every part
on QC's own thread (overlap.ON_THREADS False: the code before); the figures do depend on the
landmarks and the heads (changed, they differ). The lists the tracker reads wait for frames
still to come and end when closed; errors on any thread reach the caller; the work really
runs side by side (a test that waits for the other side would hang otherwise: it has a
timeout)."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import numpy as np
import pytest

from vpipe.qc import overlap
from vpipe.qc.overlap import Arriving, Later, TrackAhead, alongside


def test_a_reader_gets_every_item_in_order_as_they_arrive_then_ends() -> None:
    items: Arriving[int] = Arriving()
    read: list[int] = []
    reader = threading.Thread(target=lambda: read.extend(items))
    reader.start()
    for k in range(50):
        items.append(k)
    items.close()
    reader.join(timeout=10)
    assert not reader.is_alive() and read == list(range(50))
    assert list(items) == list(range(50)) and len(items) == 50  # read again: from the first
    with pytest.raises(ValueError):
        items.append(50)


def test_a_reader_waits_for_the_next_item() -> None:
    items: Arriving[str] = Arriving()
    items.append("a")
    seen = iter(items)
    assert next(seen) == "a"
    got: list[str] = []
    waiting = threading.Thread(target=lambda: got.append(next(seen)))
    waiting.start()
    waiting.join(timeout=0.2)
    assert waiting.is_alive() and got == []  # nothing yet: it waits
    items.append("b")
    waiting.join(timeout=10)
    assert got == ["b"]
    items.close()
    assert list(seen) == []


def test_track_ahead_tracks_on_its_thread_what_it_was_given(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[list[float], str]] = []

    def track(images: Arriving[np.ndarray], times: Arriving[float]) -> np.ndarray:
        out = [float(im.sum()) for im, _ in zip(images, times, strict=True)]
        seen.append((list(times), threading.current_thread().name))
        return np.array(out)

    ahead = TrackAhead(track)
    for k in range(5):
        ahead.add(np.full((2, 2), k, np.uint8), 0.04 * k)
    assert list(ahead.landmarks()) == [0.0, 4.0, 8.0, 12.0, 16.0]
    assert seen == [([0.04 * k for k in range(5)], "qc-track")]
    monkeypatch.setattr(overlap, "ON_THREADS", False)
    after = TrackAhead(track)
    for k in range(5):
        after.add(np.full((2, 2), k, np.uint8), 0.04 * k)
    assert list(after.landmarks()) == [0.0, 4.0, 8.0, 12.0, 16.0]
    assert seen[-1][1] == threading.current_thread().name


def test_no_frame_no_tracking_and_errors_reach_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(images: Arriving[np.ndarray], times: Arriving[float]) -> np.ndarray:
        next(iter(images))
        raise RuntimeError("tracker broke")

    assert TrackAhead(failing).landmarks().shape == (0, 478, 3)  # never started
    for on_thread in (True, False):
        monkeypatch.setattr(overlap, "ON_THREADS", on_thread)
        ahead = TrackAhead(failing)
        ahead.add(np.zeros((2, 2), np.uint8), 0.0)
        with pytest.raises(RuntimeError, match="tracker broke"):
            ahead.landmarks()
    monkeypatch.setattr(overlap, "ON_THREADS", True)
    stopped = TrackAhead(lambda images, times: np.array([len(list(images))]))
    stopped.add(np.zeros((2, 2), np.uint8), 0.0)
    stopped.stop()  # QC failed: the thread ends with what it had
    assert stopped._thread is not None and not stopped._thread.is_alive()


def test_later_computes_on_its_thread_and_hands_over_its_error(monkeypatch: pytest.MonkeyPatch) -> None:
    where: list[str] = []
    assert Later(lambda: where.append(threading.current_thread().name) or 7).value() == 7
    monkeypatch.setattr(overlap, "ON_THREADS", False)
    assert Later(lambda: where.append(threading.current_thread().name) or 8).value() == 8
    assert where == ["qc-later", threading.current_thread().name]
    failed = Later(lambda: 1 // 0)
    failed.join()  # QC failed elsewhere: waits, raises nothing
    with pytest.raises(ZeroDivisionError):
        failed.value()


@pytest.mark.timeout(30)
def test_the_sound_is_measured_while_the_pictures_are(monkeypatch: pytest.MonkeyPatch) -> None:
    block_started, work_done = threading.Event(), threading.Event()

    def work() -> None:  # finishes only once the block has started: they overlap
        assert block_started.wait(timeout=10)
        work_done.set()

    with alongside(work):
        block_started.set()
        assert work_done.wait(timeout=10)

    def broken() -> None:
        raise KeyError("sound")

    with pytest.raises(KeyError, match="sound"), alongside(broken):
        pass
    with pytest.raises(ValueError, match="pictures"), alongside(broken):  # the block's own error first
        raise ValueError("pictures")
    monkeypatch.setattr(overlap, "ON_THREADS", False)
    order: list[str] = []
    with alongside(lambda: order.append("sound")):
        order.append("pictures")
    assert order == ["sound", "pictures"]  # as before: the sound first


@pytest.mark.media
def test_a_real_rows_figures_are_the_same_with_the_overlaps_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The glasses clip spliced with 12 painted window frames (tests/qc/test_around_slots.py),
    plain and with frames 40 and 51 drawn on interpolated heads (next to both seams): the same
    figures with the overlaps on and off."""
    import vpipe.qc.visual as qv
    from tests.qc.test_around_slots import _row
    from tests.qc.test_kept_frames import _measured

    file, frames, _ = _row(1, tmp_path / "x1")
    report = {**(frames.report or {}), "interpolated": [[40, 0.25], [51, 0.75]]}
    rows = {"plain": frames, "interpolated": dataclasses.replace(frames, report=report)}
    on = {name: _measured(file, f) for name, f in rows.items()}
    assert on["plain"] != on["interpolated"]  # the heads are measured
    with monkeypatch.context() as m:
        m.setattr(overlap, "ON_THREADS", False)
        assert {name: _measured(file, f) for name, f in rows.items()} == on
    real = qv._track  # the figures do depend on the landmarks: moved by 2 px, they differ
    monkeypatch.setattr(qv, "_track", lambda images, times: real(images, times) + np.array([2.0, 2.0, 0.0]))
    assert _measured(file, frames) != on["plain"]
