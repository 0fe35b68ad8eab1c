"""Rows of a batch (runtime.batches.run_rows, kernel_api.batch.RowBatch): one row runs at a
time, rows meet at `together`, a failure stays with the rows of the call it happened in,
and a row that is done does not hold the others up."""

from __future__ import annotations

import threading
import time
from typing import Any

from vpipe.data.rowdata import RowValue
from vpipe.kernel_api.batch import RowBatch
from vpipe.runtime.batches import batch_size, chunks, run_rows


class Rows:
    """Stands for the executor: row i calls `together` `calls[i]` times, doubling its number."""

    def __init__(self, calls: dict[int, int], fail_on: int | None = None) -> None:
        self.calls, self.fail_on = calls, fail_on
        self.running = 0
        self.overlap = False
        self.lock = threading.Lock()

    def compute(self, items: list[int]) -> list[int]:
        if self.fail_on in items:
            raise ValueError("model failed")
        return [2 * i for i in items]

    def run_row(self, shared: Any, row: RowValue, force: bool = False, batch: RowBatch | None = None) -> Any:
        self._enter()
        got: list[int] = []
        try:
            for k in range(self.calls[row.index]):
                time.sleep(0.01)  # room for another row to run now, if the batch let it
                item = 10 * row.index + k
                self._leave()  # waiting in `together` is when another row may run
                try:
                    got.append(batch.together("m", item, self.compute) if batch else self.compute([item])[0])
                except ValueError as exc:
                    return (row.index, str(exc))
                finally:
                    self._enter()
            return (row.index, got)
        finally:
            self._leave()

    def _enter(self) -> None:
        with self.lock:
            self.running += 1
            self.overlap |= self.running > 1

    def _leave(self) -> None:
        with self.lock:
            self.running -= 1


def _rows(*indices: int) -> list[RowValue]:
    return [RowValue(i, f"r{i}", {}, "rows.csv", i + 1) for i in indices]


def test_rows_meet_and_get_their_own_results() -> None:
    rows = Rows({1: 2, 2: 3, 3: 1})
    out = run_rows(rows, None, _rows(1, 2, 3))  # type: ignore[arg-type]
    assert out == [(1, [20, 22]), (2, [40, 42, 44]), (3, [60])]
    assert not rows.overlap


def test_a_failed_call_fails_the_rows_in_it_only() -> None:
    rows = Rows({1: 2, 2: 2}, fail_on=11)  # the second call: rows 1 and 2 together (items 11 and 21)
    assert run_rows(rows, None, _rows(1, 2)) == [(1, "model failed"), (2, "model failed")]  # type: ignore[arg-type]
    alone = Rows({1: 1, 2: 2}, fail_on=21)  # row 1 is done after one call: row 2's second call is alone
    assert run_rows(alone, None, _rows(1, 2)) == [(1, [20]), (2, "model failed")]  # type: ignore[arg-type]


def test_chunks_and_sizes() -> None:
    assert list(chunks(iter(range(5)), 2)) == [[0, 1], [2, 3], [4]]
    from vpipe.ir.parser import parse_graph

    graph = parse_graph('graph @g {\n  %row = rows.row() {"file": "rows.csv"} : Row per_row\n}\n')
    assert batch_size(graph) == 1
