"""Rows in worker processes (`vpipe run --jobs N`): each worker is set up once with the graph,
the cache and the shared values, and keeps its loaded models across the rows it is given; rows go
to the workers as they free up, so a long CSV is never all in flight. Phases of the rows inside a
worker reach the parent's progress display through a queue."""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from typing import Any

import numpy as np

from vpipe.data.mapped import reduce_mapped
from vpipe.data.rowdata import RowValue
from vpipe.diagnostics.diagnostic import Diagnostic
from vpipe.ir.parser import parse_graph
from vpipe.kernel_api.context import Target
from vpipe.runtime.batches import batch_size, chunks, run_rows
from vpipe.runtime.cache import Cache
from vpipe.runtime.executor import Executor, RowOutcome, SharedState

# (row index, row id, phase, done, total): one row's progress inside a phase
PhaseCallback = Callable[[int, str, str, int, int], None]
_WORKER: dict[str, Any] = {}


def _init_worker(
    ir_text: str,
    cache_root: str | None,
    target: Target,
    work_root: str,
    log_dir: str,
    shared: SharedState,
    phases: Any = None,
) -> None:
    graph = parse_graph(ir_text)
    cache = Cache(Path(cache_root)) if cache_root else None
    _WORKER["executor"] = executor = Executor(graph, cache, target, Path(work_root), Path(log_dir))
    _WORKER["shared"] = shared
    if phases is not None:  # a queue to the parent's progress display
        executor.on_phase = lambda row, phase, done, total: phases.put((row.index, row.id, phase, done, total))


def _run_in_worker(rows: list[RowValue], force: bool) -> list[RowOutcome]:
    """A batch of rows (one row, unless batch-rows grouped them)."""
    return run_rows(_WORKER["executor"], _WORKER["shared"], rows, force)


def share_mapped_arrays() -> None:
    """The shared values go to each worker pickled: a memory-mapped array (the mouth inventory's
    crops, 400 MB at two minutes) then goes as its file, mapped again there, not as a copy per
    worker (vpipe.data.mapped.reduce_mapped)."""
    ForkingPickler.register(np.memmap, reduce_mapped)


def pool_rows(
    runnable: Iterable[RowValue],
    jobs: int,
    force: bool,
    setup: tuple[str, str | None, Target, str, str, SharedState],
    phase_sink: PhaseCallback | None = None,
) -> Iterable[RowOutcome]:
    """The rows' outcomes from `jobs` worker processes, each set up by `_init_worker(*setup)`
    (graph text, cache root, target, work and log folders, shared values)."""
    ctx = multiprocessing.get_context("spawn")  # fork is unsafe with threaded ONNX/torch runtimes
    share_mapped_arrays()
    phases = ctx.Queue() if phase_sink is not None else None
    relay = threading.Thread(target=_relay, args=(phases, phase_sink), daemon=True) if phases is not None else None
    if relay is not None:
        relay.start()
    try:
        yield from _pool_rows(ctx, runnable, jobs, force, (*setup, phases))
    finally:
        if phases is not None and relay is not None:
            phases.put(None)
            relay.join(timeout=5)


def _relay(queue: Any, sink: PhaseCallback) -> None:
    """Worker processes' phases to the parent's progress display, until None."""
    while (event := queue.get()) is not None:
        with contextlib.suppress(Exception):  # a display error must never stop a run
            sink(*event)


def _pool_rows(
    ctx: Any, runnable: Iterable[RowValue], jobs: int, force: bool, initargs: tuple[Any, ...]
) -> Iterable[RowOutcome]:
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init_worker, initargs=initargs) as pool:
        # rows go to the workers as they free up (a few queued each): a long CSV is never all
        # in flight, and the workers keep their loaded models and shared values across rows
        queue = chunks(runnable, batch_size(parse_graph(initargs[0])))
        futures: dict[Any, list[RowValue]] = {}

        def submit() -> None:
            batch = next(queue, None)
            if batch is not None:
                futures[pool.submit(_run_in_worker, batch, force)] = batch

        for _ in range(2 * jobs):
            submit()
        while futures:
            finished, _ = wait(futures, return_when=FIRST_COMPLETED)
            for future in finished:
                batch = futures.pop(future)
                try:
                    outcomes = future.result()
                except Exception as exc:  # the worker died (out of memory, a crash in native code)
                    outcomes = [
                        RowOutcome(
                            rv.index,
                            rv.id,
                            "failed",
                            diagnostics=[Diagnostic("VP399", f"row {rv.index}: worker process failed: {exc}", None)],
                        )
                        for rv in batch
                    ]
                submit()
                yield from outcomes
