"""Rows rendered in batches (the batch-rows pass): the rows of a batch meet at the batchable
kernel's model (`kernel_api.batch.RowBatch`), everything else of a row runs as alone.

`batch_size(graph)` is the `rows_per_batch` batch-rows set on a per-row op (1: none);
`run_rows` renders a batch's rows, each in its own thread holding the batch's turn, so only
one row runs at a time and a row's failure stays its own."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

from vpipe.data.rowdata import RowValue
from vpipe.diagnostics.diagnostic import Diagnostic
from vpipe.ir.graph import Graph
from vpipe.ir.types import Scope
from vpipe.kernel_api.batch import RowBatch
from vpipe.runtime.executor import Executor, RowOutcome, SharedState

T = TypeVar("T")


def batch_size(graph: Graph) -> int:
    sizes = [int(op.attr("rows_per_batch") or 1) for op in graph.ops if op.scope is Scope.PER_ROW]
    return max(sizes, default=1)


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """`items` in lists of `size` (the last may be shorter), read as they come."""
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def run_rows(executor: Executor, shared: SharedState, rows: list[RowValue], force: bool = False) -> list[RowOutcome]:
    """The outcomes of a batch's rows, in their order."""
    if len(rows) <= 1:
        return [executor.run_row(shared, rv, force) for rv in rows]
    batch = RowBatch(len(rows))
    outcomes: list[RowOutcome | None] = [None] * len(rows)

    def work(k: int, rv: RowValue) -> None:
        with batch.turn():
            try:
                outcomes[k] = executor.run_row(shared, rv, force, batch=batch)
            except Exception as exc:  # run_row reports a kernel's failure itself: this is a runtime bug
                outcomes[k] = RowOutcome(
                    rv.index, rv.id, "failed", diagnostics=[Diagnostic("VP399", f"row {rv.index}: {exc}", None)]
                )

    threads = [threading.Thread(target=work, args=(k, rv), name=f"row-{rv.index}") for k, rv in enumerate(rows)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [o for o in outcomes if o is not None]
