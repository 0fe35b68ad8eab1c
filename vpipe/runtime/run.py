"""`vpipe run`: execute a compiled build over the selected rows, write the manifest.

Rows run in this process, or in a pool of worker processes (`--jobs N`). Workers get the
final IR as text (re-parsed: the printer/parser round trip is exact) and the shared
values, so shared analysis is done once, in the parent.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from vpipe.atomic import sweep_stale
from vpipe.build import BuildResult, build_dir, cache_dir, target_of
from vpipe.data.rowdata import RowValue
from vpipe.diagnostics.diagnostic import Diagnostic, DiagnosticError, display_path
from vpipe.frontend.recipe import Recipe
from vpipe.frontend.rows import Row
from vpipe.ir.graph import Graph
from vpipe.ir.hashing import graph_hashes
from vpipe.ir.opspec import REPORT
from vpipe.ir.printer import print_graph
from vpipe.kernel_api.context import Target
from vpipe.provenance import sidecar_path
from vpipe.runtime.batches import batch_size, chunks, run_rows
from vpipe.runtime.cache import Cache
from vpipe.runtime.calibration import (
    cpu_clock,
    machine_load,
    probe,
    process_startup,
    profile_key,
    record_run,
    worker_cpu,
)
from vpipe.runtime.executor import Executor, MissingKernel, RowOutcome, SharedState
from vpipe.runtime.lock import Busy, FolderLock, Holder
from vpipe.runtime.outcomes import RowOutcomes
from vpipe.runtime.pool import PhaseCallback, pool_rows
from vpipe.runtime.records import COMPLETE, INTERRUPTED, VIEW, RunRecord, update_view
from vpipe.runtime.selection import Selection, row_value, select_rows
from vpipe.version import __version__


@dataclass
class RunOptions:
    rows: str | None = None  # "1:10" (1-based, inclusive)
    only: tuple[str, ...] = ()
    jobs: int = 1
    force: bool = False
    cache_dir: Path | None = None
    no_cache: bool = False  # compute everything afresh, store nothing (the honest baseline)
    records: Path | None = None  # where runs/ and manifest.jsonl go; default: the output directory
    executor: str = "local"  # "local" (this process or --jobs processes) or "ray"
    address: str | None = None  # the Ray cluster (None: the one this process joined, or a new local one)
    wait: bool = True  # for another run writing the same output folder (False: fail with VP340)
    notice: Callable[[str], None] | None = None  # says why the run waits, or whose lock it took over
    startup: bool = False  # this process was started for this run (the CLI): its start-up is timed too
    compiled_in: tuple[float, float] | None = None  # (wall, CPU) of compiling the recipe, within the start-up


@dataclass
class RunSummary:
    # each row's outcome, kept on disk as it comes (runtime.outcomes): counters and medians in memory
    outcomes: RowOutcomes = field(default_factory=RowOutcomes)
    shared_seconds: float = 0.0
    shared_cpu_seconds: float = 0.0
    shared_worker_cpu_seconds: float = 0.0  # of which the speech worker (starting there on a cold cache)
    startup_seconds: float | None = None  # the process's own start before the run (the CLI's)
    total_seconds: float = 0.0
    manifest: Path | None = None  # the latest view over all runs (out/manifest.jsonl)
    run_manifest: Path | None = None  # this run's own manifest (out/runs/ID/manifest.jsonl)
    run_folder: Path | None = None
    status: str = COMPLETE  # or "interrupted"
    selected: int = 0
    report: Path | None = None  # the HTML review, when written
    qc_values: tuple[str, ...] = ()  # the values QC ops compute (their time is in each row's timings)
    shared_cached: list[str] = field(default_factory=list)
    shared_diagnostics: list[Diagnostic] = field(default_factory=list)

    def count(self, status: str) -> int:
        return self.outcomes.statuses[status]

    @property
    def failed(self) -> int:
        return self.count("failed")

    def verdicts(self) -> dict[str, int]:
        """Rows by QC gate: passed, flagged, failed, unmeasured."""
        return dict(self.outcomes.verdicts)

    def qc_share(self) -> float | None:
        """Median share of a rendered row's time spent measuring it (QC), or None."""
        return self.outcomes.median_qc_share()

    def median_row_seconds(self) -> float:
        return self.outcomes.median_ok_seconds()


# --- the run --------------------------------------------------------------------------------------
class ProgressSink(Protocol):
    def shared(self, what: str) -> None: ...

    def set_total(self, total: int) -> None: ...

    def row(self, outcome: RowOutcome) -> None: ...


class PhaseSink(ProgressSink, Protocol):
    """A progress display that also shows phases inside a row (optional for a sink)."""

    def phase(self, index: int, row_id: str, phase: str, done: int, total: int) -> None: ...


def run_build(build: BuildResult, options: RunOptions, progress: ProgressSink | None = None) -> RunSummary:
    """Render the selected rows, holding the output folder's lock for the whole run."""
    recipe = build.recipe
    root = recipe.output.root
    shown = display_path(root)
    created = not root.exists()
    lock = FolderLock(
        root,
        wait=options.wait,
        on_wait=lambda h: options.notice(_waiting(shown, h)) if options.notice else None,
        on_takeover=lambda h: options.notice(_taken_over(shown, h)) if options.notice else None,
    )
    try:
        root.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except Busy as busy:
        raise DiagnosticError(
            Diagnostic(
                "VP340",
                f"output folder '{shown}' is being written by another vpipe run ({busy})",
                recipe.span("/output/path"),
                help="wait for it (run without --no-wait), or give this recipe another output folder",
            )
        ) from None
    except OSError as exc:
        lock.release()
        _remove_if_empty(root, created)
        raise _unwritable(recipe, shown, exc) from None
    try:
        return _run_locked(build, options, progress)
    except OSError as exc:  # a record could not be written (disk full, folder made read-only)
        _remove_if_empty(root, created)
        raise _unwritable(recipe, shown, exc) from None
    finally:
        lock.release()


def _waiting(shown: str, holder: Holder | None) -> str:
    who = f" ({holder.describe()})" if holder else ""
    return f"vpipe: output folder '{shown}' is being written by another vpipe run{who}; waiting for it to finish"


def _taken_over(shown: str, holder: Holder) -> str:
    return f"vpipe: took over the lock of '{shown}' left by a run that is no longer running ({holder.describe()})"


def _unwritable(recipe: Recipe, shown: str, exc: OSError) -> DiagnosticError:
    return DiagnosticError(
        Diagnostic(
            "VP341",
            f"cannot write to the output folder '{shown}': {exc.strerror or exc}",
            recipe.span("/output/path"),
            help="free some space or make the folder writable; nothing was written and earlier outputs are intact",
        )
    )


def _remove_if_empty(root: Path, created: bool) -> None:
    if created:
        with contextlib.suppress(OSError):
            root.rmdir()


def _run_locked(build: BuildResult, options: RunOptions, progress: ProgressSink | None) -> RunSummary:
    recipe, graph = build.recipe, build.graph
    startup = process_startup() if options.startup else None
    load, stretch = machine_load(), 1.0
    start = time.perf_counter()
    cache = None if options.no_cache else Cache(cache_dir(recipe, options.cache_dir))
    target = target_of(recipe)
    bdir = build_dir(recipe)
    executor = _open_executor(graph, cache, target, bdir)
    rows = select_rows(recipe.rows.rows, options.rows, options.only)
    root = options.records or recipe.output.root
    phase_sink = _wire_phases(executor, progress)
    _sweep_killed_runs(recipe, root)
    manifest = _open_record(build, root, len(rows), options)
    qc_values = tuple(op.results[0].name for i, op in enumerate(graph.ops) if REPORT in executor.traits[i])
    summary = RunSummary(
        outcomes=RowOutcomes(qc_values),
        manifest=root / VIEW,
        run_manifest=manifest.path,
        run_folder=manifest.folder,
        selected=len(rows),
        qc_values=qc_values,
        startup_seconds=startup[0] if startup is not None else None,
    )
    status = INTERRUPTED
    try:
        if options.executor == "ray":  # connect (and check the cluster) before any work
            from vpipe.runtime import ray_executor

            ray_executor.check(options.address, options.jobs, target)
        split = _Split(executor, rows, options)
        needed = split.needed
        if needed and cache is not None:
            # how contended the machine is as the work starts, measured as `vpipe build` measures it
            # (calibration; a run with nothing to render records nothing and skips the 0.2 s probe)
            stretch = probe()
        shared = _run_shared(executor, manifest, summary, progress) if needed else _skip_shared(manifest)
        if progress:
            progress.set_total(len(rows))
        rendered = _execute_rows(
            executor,
            shared,
            split,
            options,
            graph_text=print_graph(graph),
            cache_root=cache.root if cache is not None else None,
            target=target,
            bdir=bdir,
            phase_sink=phase_sink,
        )
        for outcome in itertools.chain(split.done, rendered):  # each recorded as it comes
            summary.outcomes.append(outcome)
            manifest.write({"type": "row", **outcome.to_json()})
            if progress:
                progress.row(outcome)
        status = COMPLETE
    finally:  # Ctrl-C or an error included: the run is recorded as interrupted, the view keeps every row
        summary.total_seconds = time.perf_counter() - start
        summary.status = status
        _close_record(manifest, summary, status)
        update_view(root)
        if cache is not None:
            record_run(
                cache.root,
                profile_key(graph, recipe.source.path, target.device),
                [wall for wall, _ in summary.outcomes.rendered],
                summary.shared_seconds,
                cached=_shared_cached(executor, summary.shared_cached),
                row_cpu=[cpu for _, cpu in summary.outcomes.rendered],
                shared_cpu=summary.shared_cpu_seconds,
                load=load,
                jobs=options.jobs,
                stretch=stretch,
                startup=startup,
                compiled_in=options.compiled_in if startup is not None else None,
                shared_worker_cpu=summary.shared_worker_cpu_seconds,
            )
    return summary


def _wire_phases(executor: Executor, progress: ProgressSink | None) -> PhaseCallback | None:
    """Progress inside a row, where the display shows it: the executor reports to its `phase`."""
    phase_sink = getattr(progress, "phase", None)
    if phase_sink is not None:
        executor.on_phase = lambda row, name, done, total: phase_sink(row.index, row.id, name, done, total)
    return phase_sink


def _sweep_killed_runs(recipe: Recipe, root: Path) -> None:
    """A killed run's temporary files, only where this run writes and only of its own outputs."""
    outputs = [r.output for r in recipe.rows.rows if r.output is not None]
    sweep_stale(
        recipe.output.root,
        {p.parent for p in outputs} | {root},
        {p.stem for p in outputs} | {sidecar_path(p).stem for p in outputs} | {Path(VIEW).stem},
    )


def _open_executor(graph: Graph, cache: Cache | None, target: Target, bdir: Path) -> Executor:
    try:
        return Executor(graph, cache, target, bdir / "work", bdir / "logs")
    except MissingKernel as exc:
        raise DiagnosticError(
            Diagnostic("VP111", f"cannot run: no usable kernel for {exc}", None, help="run `vpipe doctor`")
        ) from None


def _open_record(build: BuildResult, root: Path, rows: int, options: RunOptions) -> RunRecord:
    """This run's own manifest, opened with its header."""
    recipe, graph = build.recipe, build.graph
    return RunRecord(
        root,
        {
            "vpipe": __version__,
            "recipe": str(recipe.file),
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "graph": graph_hashes(graph).get(graph.ops[-1].results[0].name, "") if graph.ops else "",
            "rows": rows,
            "source": str(recipe.source.path),
            "output_root": str(recipe.output.root),
            "selection": {"rows": options.rows, "only": list(options.only), "force": options.force},
            "jobs": options.jobs,
        },
    )


def _skip_shared(manifest: RunRecord) -> SharedState:
    """Every row is up to date (or fails before rendering): the shared work is not needed."""
    manifest.write({"type": "shared", "seconds": 0.0, "timings": {}, "cached": [], "skipped": True})
    return SharedState({}, {})


def _run_shared(
    executor: Executor, manifest: RunRecord, summary: RunSummary, progress: ProgressSink | None
) -> SharedState:
    """The work every row shares, timed and recorded."""
    if progress:
        progress.shared("analysing the source")
    shared_start, shared_cpu, speech_cpu = time.perf_counter(), cpu_clock(), worker_cpu()
    shared = executor.run_shared()
    summary.shared_seconds = time.perf_counter() - shared_start
    summary.shared_cpu_seconds = cpu_clock() - shared_cpu
    summary.shared_worker_cpu_seconds = worker_cpu() - speech_cpu
    summary.shared_cached = shared.cached
    summary.shared_diagnostics = shared.diagnostics
    manifest.write(
        {
            "type": "shared",
            "seconds": round(summary.shared_seconds, 4),
            "timings": {k: round(v, 4) for k, v in shared.timings.items()},
            "cached": shared.cached,
            "diagnostics": [d.to_json() for d in shared.diagnostics],
        }
    )
    return shared


def _close_record(manifest: RunRecord, summary: RunSummary, status: str) -> None:
    """The run's closing record: counts, verdicts, seconds and how it ended."""
    manifest.close(
        {
            "ok": summary.count("ok"),
            "failed": summary.failed,
            "up_to_date": summary.count("up-to-date"),
            "not_reached": summary.selected - len(summary.outcomes),
            **{f"qc_{k}": v for k, v in summary.verdicts().items()},
            "seconds": round(summary.total_seconds, 3),
            "shared_seconds": round(summary.shared_seconds, 3),
            "startup_seconds": round(summary.startup_seconds, 3) if summary.startup_seconds is not None else None,
            "qc_share": round(share, 4) if (share := summary.qc_share()) is not None else None,
        },
        status,
    )


def _shared_cached(executor: Executor, cached: list[str]) -> bool:
    """Whether the run found all of its shared analysis in the cache (its time is then a re-run's)."""
    return all(
        op.results[0].name in cached
        for i, op in executor.shared_ops
        if executor.kernels[i].cache and not executor.kernels[i].value_keyed
    )


class _Split:
    """Which selected rows are up to date, decided from the keys alone as the rows are read.

    Before the shared work, rows are read only up to the first one that must run (a fresh
    run reads one row; a re-run of up-to-date rows reads them all and runs nothing): the
    outcomes of the rows before it are kept on disk (`RowOutcomes`) until the shared record
    is written. When the rows run, the selection is read again from the start: a row already
    decided is skipped (one byte a row says how), a later one is decided as it comes."""

    def __init__(self, executor: Executor, rows: Selection, options: RunOptions) -> None:
        self.executor, self.rows = executor, rows
        self.keys: SharedState | None = None
        if not options.force and executor.cache is not None:
            with contextlib.suppress(DiagnosticError):  # the run reports it
                self.keys = executor.shared_keys()
        self.done = RowOutcomes()  # up-to-date rows among the scanned ones
        self.is_done = bytearray()  # per scanned row: 1 up to date, 0 to run or failing
        self.needed = False  # a row must run (the shared work is needed)
        for row in rows:
            outcome = self.decide(row)
            self.is_done.append(outcome is not None)
            if outcome is not None:
                self.done.append(outcome)
            elif not _failing(row):
                self.needed = True
                break

    def decide(self, row: Row) -> RowOutcome | None:
        """The row's outcome if it is up to date, else None."""
        if self.keys is None or _failing(row):
            return None
        return self.executor.up_to_date(self.keys, row_value(row))

    def left(self) -> int:
        """How many rows may still run (at most)."""
        return len(self.rows) - sum(self.is_done)

    def todo(self, decided: deque[RowOutcome]) -> Iterator[Row]:
        """The rows left to run; those found up to date on the way go to `decided`."""
        if not self.left():  # every row was up to date: nothing to read again
            return
        for k, row in enumerate(self.rows):
            if k < len(self.is_done):
                if not self.is_done[k]:
                    yield row
            elif (outcome := self.decide(row)) is not None:
                decided.append(outcome)
            else:
                yield row


def _failing(row: Row) -> bool:
    """The frontend found an error in the row: it fails without running."""
    return any(d.is_error for d in row.problems)


def _execute_rows(
    executor: Executor,
    shared: SharedState,
    split: _Split,
    options: RunOptions,
    *,
    graph_text: str,
    cache_root: Path | None,
    target: Target,
    bdir: Path,
    phase_sink: PhaseCallback | None = None,
) -> Iterable[RowOutcome]:
    """Each row's outcome as it is done. Rows are read from the selection as they run (never
    listed); a row found up to date on the way, or with an error the frontend found (it fails
    without running), has its outcome given in turn."""
    decided: deque[RowOutcome] = deque()

    def runnable_rows() -> Iterator[RowValue]:
        for row in split.todo(decided):
            if _failing(row):
                decided.append(RowOutcome(row.index, row.id, "failed", diagnostics=list(row.problems)))
            else:
                yield row_value(row)

    runnable = runnable_rows()
    outcomes: Iterable[RowOutcome]
    if options.executor == "ray":  # beside the local executor: same rows in, same outcomes out
        from vpipe.runtime import ray_executor

        outcomes = ray_executor.execute_rows(
            list(runnable),  # a cluster's run is handed its rows at once
            shared,
            graph_text=graph_text,
            cache_root=cache_root,
            target=target,
            bdir=bdir,
            force=options.force,
            address=options.address,
            jobs=options.jobs,
        )
    elif options.jobs <= 1 or split.left() <= 1:
        size = batch_size(executor.graph)
        outcomes = (o for batch in chunks(runnable, size) for o in run_rows(executor, shared, batch, options.force))
    else:
        setup = (graph_text, str(cache_root) if cache_root else None, target, str(bdir / "work"), str(bdir / "logs"))
        outcomes = pool_rows(runnable, options.jobs, options.force, (*setup, shared), phase_sink)
    for outcome in outcomes:
        while decided:  # the rows read (and decided) before this one's batch
            yield decided.popleft()
        yield outcome
    while decided:
        yield decided.popleft()
