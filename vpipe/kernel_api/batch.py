"""Rows of one batch meeting at a kernel's forward pass (the batch-rows pass).

The runtime renders the rows of a batch each in its own thread, but one at a time: a row
holds the batch's turn while it runs and gives it up only while it waits in `together`.
So nothing of a row runs beside another row (the speech worker, caches and models see one
caller, as without batching), and yet a batchable kernel can gather the same step of every
row of the batch into one call of its model:

    predict = lambda faces: rt.batch.together("wav2lip", faces, forward_all) if rt.batch else forward(faces)

`together(key, item, compute)`: every row still running hands its item; when the last one
has (or the others have finished), `compute(items)` runs once and each row gets its own
result back. A row that finishes leaves the batch, so the others do not wait for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class RowBatch:
    def __init__(self, rows: int) -> None:
        self.live = rows
        self.calls = 0  # how many times `compute` ran (the forward passes the batch shared)
        self.sizes: list[int] = []  # items per call
        self._turn = threading.Lock()
        self._cond = threading.Condition()
        self._pending: list[tuple[object, Any]] = []
        self._compute: Callable[[list[Any]], list[Any]] | None = None
        self._results: dict[object, Any] = {}
        self._key: str | None = None

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold the batch's turn for a row's whole run (given up only inside `together`)."""
        self._turn.acquire()
        try:
            yield
        finally:
            self.leave()
            self._turn.release()

    def together(self, key: str, item: Any, compute: Callable[[list[Any]], list[Any]]) -> Any:
        """This row's result of `compute` over the items every running row hands in."""
        ticket = object()
        with self._cond:
            if self._key not in (None, key):
                raise RuntimeError(f"rows of one batch met at '{key}' and '{self._key}'")
            self._key, self._compute = key, compute
            self._pending.append((ticket, item))
            if len(self._pending) >= self.live:
                self._flush()
            ready = ticket in self._results
        if not ready:
            self._turn.release()  # let the next row run up to this point
            with self._cond:
                self._cond.wait_for(lambda: ticket in self._results)
            self._turn.acquire()
        result = self._results.pop(ticket)
        if isinstance(result, _Failed):
            raise result.error
        return result

    def leave(self) -> None:
        """A row is done: the others no longer wait for its item."""
        with self._cond:
            self.live -= 1
            if self._pending and len(self._pending) >= self.live:
                self._flush()

    def _flush(self) -> None:  # holding self._cond
        tickets = [t for t, _ in self._pending]
        items = [i for _, i in self._pending]
        self._pending.clear()
        compute, self._key = self._compute, None
        assert compute is not None
        try:
            results: list[Any] = compute(items)
            if len(results) != len(items):
                raise RuntimeError(f"a batched call returned {len(results)} results for {len(items)} rows")
        except Exception as exc:  # every row of the call fails with it, as it would alone
            results = [_Failed(exc)] * len(items)
        self.calls += 1
        self.sizes.append(len(items))
        self._results.update(zip(tickets, results, strict=True))
        self._cond.notify_all()


class _Failed:
    def __init__(self, error: Exception) -> None:
        self.error = error
