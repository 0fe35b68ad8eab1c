"""Execute a compiled graph: shared ops once, per-row ops for every row.

Every op execution is keyed by its content hash (kind, attributes, kernel version and
the operands' keys); cheap value-keyed ops (the row, the rendered script) hash their
value instead, so equal content shares work across rows and across runs. A row is
"up to date" when its output's key is cached and the file on disk still matches.

One row's failure never stops the others: it becomes that row's diagnostics.
"""

from __future__ import annotations

import hashlib
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from vpipe import faults, phases
from vpipe.atomic import atomic_write_text
from vpipe.data.codec import CodecError, encode
from vpipe.data.rowdata import RowValue
from vpipe.diagnostics.diagnostic import Diagnostic, DiagnosticError, Severity, Span
from vpipe.ir.dialect import lookup, operand_roles
from vpipe.ir.graph import Graph, Op, thaw
from vpipe.ir.hashing import canonical_json, digest, op_key
from vpipe.ir.opspec import DURATIONS, OUTPUT, REPORT, SCRIPT, WRITES_FILE
from vpipe.ir.types import Scope
from vpipe.kernel_api import registry
from vpipe.kernel_api.context import RunContext, Target
from vpipe.runtime.cache import MISS, Cache, Miss
from vpipe.runtime.calibration import cpu_clock
from vpipe.runtime.memory import release_freed
from vpipe.runtime.prepare import Preparation
from vpipe.runtime.scratch import scratch
from vpipe.version import __version__


def value_hash(value: Any) -> str:
    try:
        text, arrays = encode(value)
    except CodecError:
        return digest(repr(value))
    h = hashlib.sha256(text.encode("utf-8"))
    for name, array in sorted(arrays.items()):
        h.update(f"{name}:{array.dtype}:{array.shape}".encode())
        h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()


@dataclass
class SharedState:
    values: dict[str, Any]
    keys: dict[str, str]
    timings: dict[str, float] = field(default_factory=dict)
    cached: list[str] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


@dataclass
class RowOutcome:
    index: int
    id: str
    status: str  # "ok" | "failed" | "up-to-date"
    output: str | None = None
    key: str | None = None
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    # CPU seconds per op and for the row (this process, its finished children, the speech worker:
    # calibration.cpu_clock): on a busy machine the wall times include waiting, these do not
    cpu: dict[str, float] = field(default_factory=dict)
    cpu_seconds: float = 0.0
    cached: list[str] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    report: dict[str, Any] | None = None
    values: dict[str, Any] | None = None  # the row's values as read
    script: str | None = None  # the rendered script
    duration: list[dict[str, Any]] | None = None  # per slot: fit or elastic, lengths, stretch

    @property
    def verdict(self) -> str:
        """QC gate: passed, flagged (a threshold missed, on_fail: flag), failed, or unmeasured."""
        if self.status == "failed":
            return "failed"
        if self.report is None:
            return "unmeasured"
        return "flagged" if self.report.get("failures") else "passed"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"row": self.index, "id": self.id, "status": self.status, "verdict": self.verdict}
        if self.output:
            out["output"] = self.output
        if self.key:
            out["key"] = self.key
        if self.values is not None:
            out["values"] = self.values
        if self.script is not None:
            out["script"] = self.script
        if self.duration is not None:
            out["duration"] = self.duration
        out["seconds"] = round(self.seconds, 4)
        out["timings"] = {k: round(v, 4) for k, v in self.timings.items()}
        if self.cpu:
            out["cpu_timings"] = {k: round(v, 4) for k, v in self.cpu.items()}
            out["cpu_seconds"] = round(self.cpu_seconds, 4)
        if self.cached:
            out["cached"] = self.cached
        out["diagnostics"] = [d.to_json() for d in self.diagnostics]
        if self.report is not None:
            out["qc"] = self.report
        return out


def _damaged(key: str, why: str) -> Diagnostic:
    return Diagnostic(
        "VP342", f"the cached entry {key[:12]} was damaged: {why}; computed again", None, severity=Severity.WARNING
    )


def _phase(kind: str) -> str:
    """The crash tests' phase name (vpipe.faults) of an op kind."""
    if kind in ("speech.synthesize", "speech.narrate"):
        return "tts"
    return kind.split(".")[0] if kind.startswith(("lipsync.", "qc.")) else kind


class MissingKernel(Exception):
    pass


class Executor:
    def __init__(
        self,
        graph: Graph,
        cache: Cache | None,
        target: Target | None = None,
        work_root: Path | None = None,
        log_dir: Path | None = None,
    ) -> None:
        self.graph = graph
        self.cache = cache
        self.target = target or Target()
        self.work_root = work_root
        self.log_dir = log_dir
        # progress inside a row: (row, phase, frames done, frames total; 0 when not known)
        self.on_phase: Callable[[RowValue, str, int, int], None] | None = None
        # files too large for a cache entry (the normalised source) live beside the cache, or, with
        # no cache, in the build's work folder for this run
        if cache is not None:
            self.store_dir: Path | None = cache.root.parent / (cache.root.name + "-store")
        else:
            self.store_dir = (work_root / "store") if work_root is not None else None
        self.kernels: dict[int, registry.Kernel] = {}
        self.last_values: dict[str, Any] = {}
        self.versions: dict[int, str] = {}
        # what the runtime must know of an op (is it the row's output, its report, does it write a
        # file outside the cache) is said by its spec's traits, never by its kind
        self.traits = {i: spec.traits if (spec := lookup(op.kind)) else frozenset() for i, op in enumerate(graph.ops)}
        missing = []
        for i, op in enumerate(graph.ops):
            info = registry.find(op.kind, op.kernel) if op.kernel else None
            if info is None:
                missing.append(f"{op.kind} ({op.kernel or 'no kernel selected'})")
                continue
            self.kernels[i] = registry.instance(info)
            # A kernel's results are keyed by its version and vpipe's: bump Kernel.version when a
            # kernel's output changes, and every release starts from a clean slate.
            self.versions[i] = f"{__version__}/{info.version}"
        if missing:
            raise MissingKernel(", ".join(missing))
        self.shared_ops = [(i, op) for i, op in enumerate(graph.ops) if op.scope is Scope.SHARED]
        self.row_ops = [(i, op) for i, op in enumerate(graph.ops) if op.scope is Scope.PER_ROW]
        # the row kernels' `prepare`, started by the first row op that computes (runtime/prepare.py)
        self.preparation = Preparation(self.kernels[i] for i, _ in self.row_ops)

    # --- one op -----------------------------------------------------------------------------
    def cached(self, i: int, key: str) -> Any | Miss:
        """What op `i` stored under `key`, or MISS: no cache, a kernel that stores nothing, no
        (intact) entry, or a file the op wrote that is gone or changed since. The one cache
        lookup: running an op, the up-to-date check, the row's report and the manifest's
        description all ask it."""
        if self.cache is None or not self.kernels[i].cache:
            return MISS
        value = self.cache.get(key)
        if value is MISS:
            return MISS
        still_valid = getattr(value, "still_valid", None)
        if still_valid is None:
            return MISS if WRITES_FILE in self.traits[i] else value
        return value if still_valid() else MISS

    def key(self, i: int, op: Op, keys: dict[str, str]) -> str:
        """The content key of op `i` (not value-keyed) from its operands' keys."""
        return op_key(op, [keys[o] for o in op.operands], self.versions[i])

    def _execute(
        self,
        i: int,
        op: Op,
        values: dict[str, Any],
        keys: dict[str, str],
        rt: RunContext,
        timings: dict[str, float],
        cached: list[str],
        reuse: bool = True,
        cpu: dict[str, float] | None = None,
    ) -> None:
        """Run op `i` (or take its value from the cache when `reuse`), recording value, key, time."""
        kern = self.kernels[i]
        inputs = [values[o] for o in op.operands]
        name = op.results[0].name
        rt.op_span = op.span
        start, cpu_start = time.perf_counter(), cpu_clock()
        if kern.value_keyed:
            value = kern.run(op, inputs, rt)
            key = digest(op.kind, value_hash(value))
        else:
            key = self.key(i, op, keys)
            value = MISS
            if reuse:
                damaged = len(self.cache.damaged) if self.cache is not None else 0
                value = self.cached(i, key)
                for _, why in self.cache.damaged[damaged:] if self.cache is not None else []:
                    text = f"the cached {name} ({op.kind}) was damaged: {why}; computed again"
                    rt.diagnostics.append(Diagnostic("VP342", text, None, severity=Severity.WARNING))
            if value is MISS:
                faults.point(_phase(op.kind))
                if rt.row is not None:  # a row computes: its kernels load what they need beside it
                    self.preparation.start()
                value = kern.run(op, inputs, rt)
                if kern.cache and self.cache is not None:
                    self.cache.put(key, value)
                release_freed()  # the op's temporaries: not left resident under the next op's
            else:
                cached.append(name)
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - start
        if cpu is not None:
            cpu[name] = cpu.get(name, 0.0) + cpu_clock() - cpu_start
        values[name] = value
        keys[name] = key

    def _keys(self, ops: list[tuple[int, Op]], values: dict[str, Any], keys: dict[str, str], rt: RunContext) -> None:
        """Every op's key without doing the work: value-keyed ops (cheap: the row, the script)
        run, every other key follows from its op and its operands' keys."""
        for i, op in ops:
            if self.kernels[i].value_keyed:
                self._execute(i, op, values, keys, rt, {}, [])
            else:
                keys[op.results[0].name] = self.key(i, op, keys)

    def _with_trait(self, trait: str) -> tuple[int, Op] | None:
        """The row's op with this trait (its output, its report), if any."""
        return next(((i, op) for i, op in self.row_ops if trait in self.traits[i]), None)

    # --- shared -------------------------------------------------------------------------------
    def run_shared(self) -> SharedState:
        values: dict[str, Any] = {}
        keys: dict[str, str] = {}
        timings: dict[str, float] = {}
        cached: list[str] = []
        with scratch(self.work_root, "shared") as work:
            rt = RunContext(work, None, self.target, store_dir=self.store_dir)
            try:
                for i, op in self.shared_ops:
                    self._execute(i, op, values, keys, rt, timings, cached)
            except DiagnosticError as exc:  # point shared failures at the recipe line of the op
                raise DiagnosticError([replace(d, span=d.span or rt.op_span) for d in exc.diagnostics]) from None
        return SharedState(values, keys, timings, cached, rt.diagnostics)

    def shared_keys(self) -> SharedState:
        """The shared values' keys without doing the shared work. Enough to tell whether rows
        are up to date; `run_shared` computes the values when one is not."""
        values: dict[str, Any] = {}
        keys: dict[str, str] = {}
        with scratch(self.work_root, "shared-keys") as work:
            self._keys(self.shared_ops, values, keys, RunContext(work, None, self.target, store_dir=self.store_dir))
        return SharedState(values, keys)

    def up_to_date(self, shared: SharedState, row: RowValue) -> RowOutcome | None:
        """The row's outcome if it is up to date (nothing to do), else None: its output file is
        cached and still the one on disk, and it was measured (QC did not fail before storing)."""
        start = time.perf_counter()
        computed: dict[str, Any] = {}
        keys = self.plan_keys(shared, row, computed)
        output, report = self._with_trait(OUTPUT), self._with_trait(REPORT)
        if keys is None or output is None:
            return None
        done = self.cached(output[0], keys[output[1].results[0].name])
        if done is MISS or getattr(done, "still_valid", None) is None:
            return None
        measured = self.cached(report[0], keys[report[1].results[0].name]) if report else None
        if measured is MISS:
            return None
        outcome = RowOutcome(
            row.index, row.id, "up-to-date", key=keys[output[1].results[0].name], values=dict(row.values)
        )
        self._describe(outcome, computed, keys)
        outcome.output = str(getattr(done, "path", ""))
        outcome.report = measured.to_json() if measured is not None else None
        outcome.seconds = time.perf_counter() - start
        return outcome

    # --- rows ---------------------------------------------------------------------------------
    def plan_keys(
        self, shared: SharedState, row: RowValue, computed: dict[str, Any] | None = None
    ) -> dict[str, str] | None:
        """Keys of all of a row's values, running only the cheap value-keyed ops; None when
        one of those fails (the row will fail when it runs). The values those ops computed
        (the rendered script) go into `computed` when given."""
        values, keys = dict(shared.values), dict(shared.keys)
        if computed is not None:
            computed.update(values)
            values = computed
        with scratch(self.work_root, f"plan-{row.index}") as work:
            try:
                self._keys(self.row_ops, values, keys, RunContext(work, row, self.target, store_dir=self.store_dir))
            except DiagnosticError:
                return None
        return keys

    def run_row(self, shared: SharedState, row: RowValue, force: bool = False, batch: Any = None) -> RowOutcome:
        start, cpu_start = time.perf_counter(), cpu_clock()
        self.last_values = {}  # the previous row's values (its full-length track...) are not held through this one
        outcome = RowOutcome(row.index, row.id, "ok", values=dict(row.values))
        damage: list[Diagnostic] = []
        if not force:
            seen = len(self.cache.damaged) if self.cache is not None else 0
            done = self.up_to_date(shared, row)
            damage = [_damaged(key, why) for key, why in (self.cache.damaged[seen:] if self.cache else [])]
            if done is not None:
                return done
        values, keys = dict(shared.values), dict(shared.keys)
        with scratch(self.work_root, f"row-{row.index}") as work:
            rt = RunContext(work, row, self.target, store_dir=self.store_dir, batch=batch)
            content = None if force else self._content_key(shared, row)
            try:
                if content is not None and self._copy_duplicate(content, values, keys, rt, outcome):
                    self._describe(outcome, values, keys)
                    outcome.seconds = time.perf_counter() - start
                    return outcome
                on_phase = self.on_phase
                report = (lambda phase, done, total: on_phase(row, phase, done, total)) if on_phase else None
                for i, op in self.row_ops:
                    # --force: the user distrusts what is stored, so nothing of the row is reused
                    with phases.running(op.kind, report):
                        self._execute(
                            i, op, values, keys, rt, outcome.timings, outcome.cached, reuse=not force, cpu=outcome.cpu
                        )
                    if OUTPUT in self.traits[i]:
                        outcome.output = str(getattr(values[op.results[0].name], "path", ""))
                        outcome.key = keys[op.results[0].name]
                    if REPORT in self.traits[i]:
                        report = values[op.results[0].name]
                        outcome.report = report.to_json()
                        if report.failed and report.fail_rows:
                            outcome.status = "failed"
            except DiagnosticError as exc:
                outcome.status = "failed"
                outcome.diagnostics.extend(exc.diagnostics)
            except Exception as exc:  # a kernel bug: report it, keep the traceback out of the console
                outcome.status = "failed"
                outcome.diagnostics.append(self._internal_error(exc, row, op))
            outcome.diagnostics[:0] = damage + rt.diagnostics
            if content is not None and outcome.status == "ok" and self.cache is not None:
                self._remember(content, values)
            self.preparation.wait()
        self._describe(outcome, values, keys)
        self.last_values = values  # the row's values, for callers that want more than the outcome (preview)
        outcome.seconds = time.perf_counter() - start
        outcome.cpu_seconds = cpu_clock() - cpu_start
        return outcome

    def _describe(self, outcome: RowOutcome, values: dict[str, Any], keys: dict[str, str]) -> None:
        """What the manifest records about the row beyond its status: the rendered script and
        each slot's duration decision (taken from the cache for a row that was up to date)."""
        for i, op in self.row_ops:
            name = op.results[0].name
            value = values.get(name)
            if value is None and name in keys and DURATIONS in self.traits[i]:
                value = self.cached(i, keys[name])
            if value is None or value is MISS:
                continue
            if SCRIPT in self.traits[i]:
                outcome.script = value.text
            elif DURATIONS in self.traits[i]:  # the last one wins
                outcome.duration = [
                    {
                        "slot": c.name,
                        "said": c.text,
                        "decision": "fit" if c.fitted else "elastic",
                        "recorded_seconds": round(c.source_end - c.source_start, 4),
                        "new_seconds": round(c.duration, 4),
                        "stretch": round(c.stretch, 4),
                        **({"voice": c.voice} if c.voice else {}),
                    }
                    for c in value.clips
                ]

    # --- dedupe: a row whose content was rendered before gets a copy --------------------------
    def _output_op(self) -> tuple[int, Op] | None:
        found = self._with_trait(OUTPUT)
        return found if found is not None and found[1].attr("dedupe") else None

    def _content_key(self, shared: SharedState, row: RowValue) -> str | None:
        """The output's key without the row: its frames, track and encoder settings (the path
        and the row id in the metadata are the row's own and are applied when copying)."""
        found = self._output_op()
        if found is None or self.cache is None:
            return None
        i, op = found
        keys = self.plan_keys(shared, row)
        if keys is None:
            return None
        own = dict(operand_roles(op)).get("row")
        attrs = {k: v for k, v in thaw(op.attrs).items() if k not in ("path", "root", "base")}
        operand_keys = [keys[o] for o in op.operands if o != own]
        return digest("content", op.kind, canonical_json(attrs), self.versions[i], *operand_keys)

    def _qc_judged_by(self) -> str:  # QC attributes and kernel versions: a copied report is valid only under the same
        qc = [canonical_json(o.attrs) + self.versions[i] for i, o in self.row_ops if REPORT in self.traits[i]]
        return digest("qc", *qc)

    def _remember(self, content: str, values: dict[str, Any]) -> None:
        found = self._output_op()
        measured = self._with_trait(REPORT)
        report = values.get(measured[1].results[0].name) if measured is not None else None
        if found is not None and found[1].results[0].name in values and self.cache is not None:
            self.cache.put(content, (values[found[1].results[0].name], report, self._qc_judged_by()))

    def _copy_duplicate(
        self, content: str, values: dict[str, Any], keys: dict[str, str], rt: RunContext, outcome: RowOutcome
    ) -> bool:
        """Copy the output (and QC report) an earlier row with the same content rendered."""
        found = self._output_op()
        if self.cache is None or found is None:
            return False
        earlier = self.cache.get(content)
        if earlier is MISS or not isinstance(earlier, tuple) or not earlier[0].still_valid():
            return False
        if len(earlier) < 3 or earlier[2] != self._qc_judged_by():
            return False  # measured against other thresholds: the row is measured (its own ops mostly cached)
        file, report = earlier[0], earlier[1]
        start = time.perf_counter()
        for i, op in self.row_ops:  # the row's cheap values: the row itself, its script
            if self.kernels[i].value_keyed:
                self._execute(i, op, values, keys, rt, outcome.timings, outcome.cached)
        i, op = found
        reuse = getattr(self.kernels[i], "reuse", None)
        if reuse is None:
            return False
        row_value = values[dict(operand_roles(op))["row"]]
        copied = reuse(op, row_value, file, rt)
        plan = self.plan_keys(SharedState(values, keys), rt.row) if rt.row is not None else None
        if plan is not None:  # so the next run finds this row up to date
            keys.update(plan)  # and the manifest describes it from the same values (its duration decision)
            self.cache.put(plan[op.results[0].name], copied)
            measured = self._with_trait(REPORT)
            if measured is not None and report is not None:
                self.cache.put(plan[measured[1].results[0].name], report)
        outcome.output, outcome.key = str(copied.path), plan[op.results[0].name] if plan else None
        outcome.report = report.to_json() if report is not None else None
        outcome.cached.append(f"{op.results[0].name} (copied from an identical row)")
        outcome.timings[op.results[0].name] = time.perf_counter() - start
        return True

    def _internal_error(self, exc: Exception, row: RowValue, op: Op) -> Diagnostic:
        log_note = ()
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            log = self.log_dir / f"row-{row.index}.log"
            atomic_write_text(log, "".join(traceback.format_exception(exc)))
            log_note = (f"traceback written to {log}",)
        return Diagnostic(
            "VP399",
            f"row {row.index}: internal error in {op.kind} ({op.kernel}): {type(exc).__name__}: {exc}",
            Span(row.file, row.line, 1, row.line, 2),
            notes=log_note,
            help="this is a vpipe bug; please report it with the log",
        )
