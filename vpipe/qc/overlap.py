"""QC's work that runs beside its own decoding: parts that read nothing of each other's.

QC decodes the output frames around the edits one by one and compares each with its source
frame (qc/visual.py). Three parts need none of that loop's results:
- the sound's measures (kernels/qc.py: `alongside`);
- the interpolated heads the seam frames are compared with (`Later`: computed from source
  frames, asked for only when the loop reaches those frames);
- the tracking of the window frames (FaceMesh, ~45 % of a row's QC: `TrackAhead`), which
  reads the frames in the order the loop decodes them and nothing else, so it starts on the
  first window frame while the rest are decoded.
Each is given exactly what it was given when it ran before or after the loop, so it computes
the same values (the tests compare every figure with the overlaps off). The decoders,
FaceMesh, OpenCV, torch and pocketsphinx release the GIL while they work: with a free core
the row waits ~30 % less for its QC; the work itself is the same, and the threads contending
for two cores cost 4-9 % more CPU (benchmarks/qc_parts.py --pairs overlap).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

import numpy as np

T = TypeVar("T")

# False: every part runs on QC's own thread, where it ran before the overlaps (the sound
# first, the references before the loop, the tracking after it): the tests compare every
# figure with it, and benchmarks/qc_parts.py times QC's parts so.
ON_THREADS = True


class Arriving(Generic[T]):
    """A list that one thread appends to while another reads it in order: iterating waits for
    the next item until `close()`, then ends; every iteration starts from the first item (the
    tracker reads the frames again when it finds several faces)."""

    def __init__(self) -> None:
        self._items: list[T] = []
        self._closed = False
        self._changed = threading.Condition()

    def append(self, item: T) -> None:
        with self._changed:
            if self._closed:
                raise ValueError("append to a closed Arriving list")
            self._items.append(item)
            self._changed.notify_all()

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        k = 0
        while True:
            with self._changed:
                while k >= len(self._items) and not self._closed:
                    self._changed.wait()
                if k >= len(self._items):
                    return
                item = self._items[k]
            yield item
            k += 1


class TrackAhead:
    """Landmarks of the window frames given to `add`, tracked on a thread started by the first
    of them with `track(frames, times)` (each an `Arriving` list, read as they arrive).
    `landmarks()` closes the lists and waits for the track; an error on the tracker's thread
    is raised there. `stop()` ends the thread when QC itself failed (its result is not read).
    ON_THREADS False: `landmarks()` tracks the frames on the caller's thread once all are in."""

    def __init__(self, track: Callable[[Arriving[Any], Arriving[float]], np.ndarray]) -> None:
        self._track, self._on_thread = track, ON_THREADS
        self.frames: Arriving[Any] = Arriving()
        self.times: Arriving[float] = Arriving()
        self._thread: threading.Thread | None = None
        self._result: list[np.ndarray] = []
        self._error: list[BaseException] = []

    def add(self, frame: Any, time: float) -> None:
        self.times.append(time)
        self.frames.append(frame)
        if self._thread is None and self._on_thread:
            self._thread = threading.Thread(target=self._run, name="qc-track", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:
            self._result.append(self._track(self.frames, self.times))
        except BaseException as error:  # handed to the thread that asks for the landmarks
            self._error.append(error)

    def stop(self) -> None:
        self.frames.close()
        self.times.close()
        if self._thread is not None:
            self._thread.join()

    def landmarks(self) -> np.ndarray:
        """The tracked landmarks, one row per window frame (none added: no frames, no tracking)."""
        self.stop()
        if not len(self.frames):
            return np.zeros((0, 478, 3))
        if self._thread is None:  # not ON_THREADS
            self._run()
        if self._error:
            raise self._error[0]
        return self._result[0]


@contextlib.contextmanager
def alongside(work: Callable[[], None]) -> Iterator[None]:
    """Run `work` on a thread of its own while the block runs; leaving waits for it and raises
    its error (the block's own error first, when both failed). ON_THREADS False: `work()`
    first, then the block."""
    if not ON_THREADS:
        work()
        yield
        return
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as error:  # raised on the thread that waits for it
            errors.append(error)

    thread = threading.Thread(target=run, name="qc-alongside", daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join()
    if errors:
        raise errors[0]


class Later(Generic[T]):
    """`compute()` on a thread started now; `value()` waits for it (and raises its error).
    ON_THREADS False: computed here, at once."""

    def __init__(self, compute: Callable[[], T]) -> None:
        self._result: list[T] = []
        self._error: list[BaseException] = []
        self._compute = compute
        self._thread: threading.Thread | None = None
        if ON_THREADS:
            self._thread = threading.Thread(target=self._run, name="qc-later", daemon=True)
            self._thread.start()
        else:
            self._run()

    def _run(self) -> None:
        try:
            self._result.append(self._compute())
        except BaseException as error:  # raised by value()
            self._error.append(error)

    def join(self) -> None:
        """Wait for the computation (its error, if any, is not raised: QC itself failed)."""
        if self._thread is not None:
            self._thread.join()

    def value(self) -> T:
        self.join()
        if self._error:
            raise self._error[0]
        return self._result[0]
