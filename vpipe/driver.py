"""The compiler driver: recipe file → typed recipe → IR → pass pipeline → final graph.

Passes may ask for shared facts about the source (the aligned words, the recognised
transcript). The driver answers through `SharedEvaluator`, which runs exactly the ops the
runtime would run, through the same content-addressed cache, so `vpipe run` after
`vpipe build` finds that analysis already done.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

from vpipe.build import BuildResult, build_dir, cache_dir, target_of
from vpipe.diagnostics.diagnostic import Diagnostic, DiagnosticError
from vpipe.frontend.load import load_recipe
from vpipe.frontend.lower import lower
from vpipe.ir.graph import Graph
from vpipe.ir.types import Scope
from vpipe.kernel_api.context import Target
from vpipe.passes.base import Pass, PassContext
from vpipe.passes.instruments import DisablePasses, DumpIR, Instrument, PrintAfter, RecordChanges, TimePasses
from vpipe.passes.manager import PassManager
from vpipe.passes.options import BadPassOption
from vpipe.passes.pipelines import pipeline
from vpipe.passes.registry import UnknownPass
from vpipe.passes.select_kernels import choose
from vpipe.runtime.cache import Cache
from vpipe.runtime.executor import Executor


@dataclass
class BuildOptions:
    pipeline: str = "default"
    disabled: frozenset[str] = frozenset()
    print_after: frozenset[str] = frozenset()
    print_after_all: bool = False
    print_after_change: bool = False
    dump_ir: Path | None = None
    time_passes: bool = False
    analyze: bool = True  # evaluate shared analysis (alignment, ...) during the build
    cache_dir: Path | None = None
    no_cache: bool = False  # analysis at build time computed afresh and not stored
    stream: TextIO = field(default_factory=lambda: sys.stdout)


class SharedEvaluator:
    """Evaluates a shared value at compile time (None when a kernel for it is missing)."""

    def __init__(self, cache: Cache | None, target: Target, work_root: Path | None) -> None:
        self.cache, self.target, self.work_root = cache, target, work_root
        self.memo: dict[str, Any] = {}
        self.diagnostics: list[Diagnostic] = []  # warnings the analysis raised

    def __call__(self, graph: Graph, value: str) -> Any:
        if value in self.memo:
            return self.memo[value]
        ops = graph.upstream({value})
        chosen = []
        for op in ops:
            if op.kind == "rows.row":
                return None  # depends on a row: not a compile-time fact
            info, _ = choose(op, self.target.device)
            if info is None:
                return None
            chosen.append(replace(op.with_scope(Scope.SHARED), kernel=info.id))
        executor = Executor(Graph(graph.name, tuple(chosen)), self.cache, self.target, self.work_root)
        state = executor.run_shared()
        self.diagnostics.extend(d for d in state.diagnostics if d not in self.diagnostics)
        self.memo[value] = state.values[value]
        return self.memo[value]


def compile_recipe(path: str | Path, options: BuildOptions | None = None) -> BuildResult:
    options = options or BuildOptions()
    recipe, diagnostics = load_recipe(path)
    graph = lower(recipe)
    passes = _passes(options)
    record, timer = RecordChanges(), TimePasses(options.stream)
    evaluator = None
    if options.analyze:
        evaluator = SharedEvaluator(
            None if options.no_cache else Cache(cache_dir(recipe, options.cache_dir)),
            target_of(recipe),
            build_dir(recipe) / "work",
        )
    ctx = PassContext(
        evaluator=evaluator, target=target_of(recipe), spans=recipe.smap.value, weights_ready=_weights_ready
    )
    final = PassManager(passes, _instruments(options, record, timer)).run(graph, ctx)
    diagnostics = diagnostics + list(ctx.diagnostics.items) + (evaluator.diagnostics if evaluator else [])
    return BuildResult(
        recipe,
        graph,
        final,
        diagnostics,
        ctx.facts,
        record.changed,
        record.disabled,
        timer.timings if options.time_passes else [],
    )


def _passes(options: BuildOptions) -> list[Pass]:
    """The pipeline the options name; the passes --disable-pass and --print-after name must be in it."""
    try:
        passes = pipeline(options.pipeline)
    except UnknownPass as exc:
        raise DiagnosticError(
            Diagnostic(
                "VP113",
                str(exc.args[0]) if isinstance(exc, BadPassOption) else f"unknown pass or pipeline '{exc.args[0]}'",
                None,
                help="`vpipe passes` lists the passes and pipelines",
            )
        ) from None
    unknown = [n for n in options.disabled | options.print_after if n not in {p.name for p in passes}]
    if unknown:
        raise DiagnosticError(
            Diagnostic(
                "VP113",
                f"no pass named '{unknown[0]}' in pipeline '{options.pipeline}'",
                None,
                help="`vpipe passes` lists the passes and pipelines",
            )
        )
    return passes


def _instruments(options: BuildOptions, record: RecordChanges, timer: TimePasses) -> list[Instrument]:
    instruments: list[Instrument] = [DisablePasses(options.disabled), record]
    if options.time_passes:
        instruments.append(timer)
    if options.print_after_all or options.print_after_change:
        instruments.append(PrintAfter(options.stream, None, only_changed=options.print_after_change))
    elif options.print_after:
        instruments.append(PrintAfter(options.stream, options.print_after))
    if options.dump_ir is not None:
        instruments.append(DumpIR(options.dump_ir))
    return instruments


def _weights_ready(model_id: str, folder: str | None) -> bool:
    """Whether `model_id`'s weight files are found (sizes checked, not hashed: a quick look for
    fit-vram's substitutes; loading verifies them)."""
    from vpipe.weights.locate import model_status

    return model_status(model_id, [Path(folder)] if folder else [], verify=False).ready
