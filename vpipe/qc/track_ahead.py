"""Window frames tracked on a thread of their own while QC is still decoding them.

QC decodes the output frames around the edits one by one and compares each with its source
frame; the window frames among them are then tracked (FaceMesh, ~45 % of a row's QC). The
tracker reads the frames in the order QC decoded them and nothing else, so it can start on
the first window frame while the rest are decoded: the same pictures, in the same order, to
the same pooled graph, give the same landmarks (the tests compare them with the tracker run
afterwards). FaceMesh and the decoder release the GIL while they work, so on a machine with
a free core the tracking costs the row no wall time beyond what is left when decoding ends;
on a busy machine it costs what it did (the same CPU, interleaved).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

import numpy as np

T = TypeVar("T")


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
    of them with `track(images, times)` (each an `Arriving` list, read as they arrive).
    `landmarks()` closes the lists and waits for the track; an error on the tracker's thread
    is raised there. `stop()` ends the thread when QC itself failed (its result is not read).
    on_thread=False: the frames are tracked by `landmarks()` on the caller's thread once they
    are all in, as QC did before (the tests' oracle; the QC benchmark's parts and pairs)."""

    def __init__(
        self, track: Callable[[Arriving[np.ndarray], Arriving[float]], np.ndarray], on_thread: bool = True
    ) -> None:
        self._track, self._on_thread = track, on_thread
        self.images: Arriving[np.ndarray] = Arriving()
        self.times: Arriving[float] = Arriving()
        self._thread: threading.Thread | None = None
        self._result: list[np.ndarray] = []
        self._error: list[BaseException] = []

    def add(self, image: np.ndarray, time: float) -> None:
        self.times.append(time)
        self.images.append(image)
        if self._thread is None and self._on_thread:
            self._thread = threading.Thread(target=self._run, name="qc-track", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:
            self._result.append(self._track(self.images, self.times))
        except BaseException as error:  # handed to the thread that asks for the landmarks
            self._error.append(error)

    def stop(self) -> None:
        self.images.close()
        self.times.close()
        if self._thread is not None:
            self._thread.join()

    def landmarks(self) -> np.ndarray:
        """The tracked landmarks, one row per window frame (none added: no frames, no tracking)."""
        self.stop()
        if not len(self.images):
            return np.zeros((0, 478, 3))
        if self._thread is None:  # on_thread=False
            self._run()
        if self._error:
            raise self._error[0]
        return self._result[0]
