"""Rows on a Ray cluster (`vpipe run --executor ray [--address ADDR]`), beside the local executor.

The shared analysis runs once, in the driver, as with the local executor; its values go into
the object store once (`ray.put`) and every row task reads them from there. The compiled
graph travels as IR text (the printer/parser round trip is exact). Each Ray worker process
keeps one `Executor` per graph, so kernels and their models load once per worker.

- CPU targets: each row is a task (`num_cpus=1`).
- GPU targets: rows go to actors, one per GPU of the cluster (`num_gpus=1` each), so a
  neural model is loaded once per GPU and stays there.

Back-pressure: at most `2 × parallelism` rows are in flight; the next is submitted as one
finishes. Outcomes are yielded as rows finish, each row exactly once; a worker that dies
fails its row (VP399), never the run. The cache folder must be one all nodes can reach
(a shared file system) for outputs and cache entries to be shared; see docs/cluster.md.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vpipe.data.rowdata import RowValue
from vpipe.diagnostics.diagnostic import Diagnostic, DiagnosticError
from vpipe.kernel_api.context import Target
from vpipe.runtime.cache import Cache
from vpipe.runtime.executor import Executor, RowOutcome, SharedState

_EXECUTORS: dict[str, Executor] = {}  # per Ray worker process: graph digest → executor


def _executor(ir_text: str, cache_root: str, target: Target, work_root: str, log_dir: str) -> Executor:
    from vpipe.ir.parser import parse_graph

    key = hashlib.sha256(f"{ir_text}\0{cache_root}\0{target}".encode()).hexdigest()
    if key not in _EXECUTORS:
        cache = Cache(Path(cache_root)) if cache_root else None  # "": --no-cache
        _EXECUTORS[key] = Executor(parse_graph(ir_text), cache, target, Path(work_root), Path(log_dir))
    return _EXECUTORS[key]


def run_row(setup: tuple[str, str, Target, str, str], shared: SharedState, row: RowValue, force: bool) -> RowOutcome:
    """One row, in a Ray worker (task or actor)."""
    return _executor(*setup).run_row(shared, row, force)


class _RowActor:
    """Holds a GPU and the executor (with its loaded models) for the rows sent to it."""

    def __init__(self, setup: tuple[str, str, Target, str, str]) -> None:
        self.setup = setup

    def run(self, shared: SharedState, row: RowValue, force: bool) -> RowOutcome:
        return run_row(self.setup, shared, row, force)


def connect(address: str | None, jobs: int) -> Any:
    """The `ray` module, connected: to `address` (a cluster), or to the cluster this process
    already joined, or to a new local one with `jobs` CPUs."""
    try:
        import ray
    except ImportError:
        raise DiagnosticError(
            Diagnostic("VP344", "--executor ray needs Ray", None, help="pip install 'vpipe[ray]'")
        ) from None
    if not ray.is_initialized():
        try:
            if address:
                ray.init(address=address, log_to_driver=False)
            else:
                ray.init(num_cpus=max(jobs, 1), include_dashboard=False, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise DiagnosticError(
                Diagnostic(
                    "VP344",
                    f"cannot connect to the Ray cluster{f' at {address}' if address else ''}: {exc}",
                    None,
                    help="start it with `ray start --head` and pass --address HOST:PORT (or 'auto')",
                )
            ) from None
    return ray


def check(address: str | None, jobs: int, target: Target) -> None:
    """Connect before any work, and refuse a GPU target on a cluster without GPUs."""
    ray = connect(address, jobs)
    if target.device.startswith("cuda") and int(ray.cluster_resources().get("GPU", 0)) < 1:
        raise DiagnosticError(
            Diagnostic("VP344", f"the target is {target.device} but the Ray cluster has no GPU", None)
        )


def execute_rows(
    runnable: list[RowValue],
    shared: SharedState,
    *,
    graph_text: str,
    cache_root: Path | None,
    target: Target,
    bdir: Path,
    force: bool,
    address: str | None,
    jobs: int,
) -> Iterator[RowOutcome]:
    ray = connect(address, jobs)
    setup = (
        graph_text,
        str(cache_root) if cache_root is not None else "",
        target,
        str(bdir / "work"),
        str(bdir / "logs"),
    )
    shared_ref = ray.put(shared)  # once: every row reads the shared analysis from the object store
    env = {"env_vars": {k: v for k, v in os.environ.items() if k.startswith("VPIPE_")}}
    if target.device.startswith("cuda"):
        gpus = int(ray.cluster_resources().get("GPU", 0))
        if gpus < 1:
            raise DiagnosticError(
                Diagnostic("VP344", f"the target is {target.device} but the Ray cluster has no GPU", None)
            )
        actor_cls = ray.remote(num_gpus=1, runtime_env=env)(_RowActor)
        actors = [actor_cls.remote(setup) for _ in range(gpus)]
        submit = _round_robin([lambda sh, rv, f, a=a: a.run.remote(sh, rv, f) for a in actors])
        parallel = gpus
    else:
        task = ray.remote(num_cpus=1, runtime_env=env, max_retries=0)(run_row)
        parallel = max(1, int(ray.cluster_resources().get("CPU", 1)))

        def submit(sh: Any, rv: RowValue, f: bool) -> Any:
            return task.remote(setup, sh, rv, f)

    pending = list(reversed(runnable))
    in_flight: dict[Any, RowValue] = {}
    limit = 2 * parallel  # back-pressure: never more than this many rows submitted and unfinished
    while pending or in_flight:
        while pending and len(in_flight) < limit:
            rv = pending.pop()
            in_flight[submit(shared_ref, rv, force)] = rv
        done, _ = ray.wait(list(in_flight), num_returns=1)
        rv = in_flight.pop(done[0])
        try:
            yield ray.get(done[0])
        except Exception as exc:  # the worker died (out of memory, a crash in native code)
            yield RowOutcome(
                rv.index,
                rv.id,
                "failed",
                diagnostics=[Diagnostic("VP399", f"row {rv.index}: Ray worker failed: {type(exc).__name__}", None)],
            )


def _round_robin(calls: list[Any]) -> Any:
    state = {"next": 0}

    def submit(sh: Any, rv: RowValue, f: bool) -> Any:
        call = calls[state["next"] % len(calls)]
        state["next"] += 1
        return call(sh, rv, f)

    return submit
