"""The Python API: what the command line does, as calls.

    import vpipe

    build = vpipe.compile("recipe.yaml")        # load, check, lower, run the passes
    print(build.plan["estimate"])               # what `vpipe build` prints
    summary = build.run(rows="1:10", jobs=2)    # what `vpipe run` does (manifest, report)
    for row in summary.outcomes:
        print(row.id, row.status, row.verdict, row.output)

`vpipe.compile` raises `vpipe.DiagnosticError` (with `.diagnostics`) when the recipe has
errors; row problems are per row in the run summary. The CLI calls these same functions.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vpipe.diagnostics.diagnostic import Diagnostic
from vpipe.driver import BuildOptions, BuildResult, compile_recipe
from vpipe.runtime.run import ProgressSink, RunOptions, RunSummary, run_build


@dataclass
class Build:
    """A compiled recipe: the typed recipe, the final IR graph, the plan and what the
    compiler found (warnings, remarks)."""

    result: BuildResult
    cache_dir: Path | None = None
    compiled_in: tuple[float, float] | None = None  # (wall, CPU) seconds `compile` took: part of a start-up
    _plan: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def recipe(self) -> Any:
        return self.result.recipe

    @property
    def graph(self) -> Any:
        return self.result.graph

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.result.diagnostics

    @property
    def plan(self) -> dict[str, Any]:
        """The plan `vpipe build` prints: source, slots, kernels, estimates (a dict)."""
        if self._plan is None:
            from vpipe.plan import plan_summary

            self._plan = plan_summary(self.result, self.cache_dir)
        return self._plan

    def run(
        self,
        rows: str | None = None,
        *,
        only: tuple[str, ...] | list[str] = (),
        jobs: int | None = None,
        force: bool = False,
        no_cache: bool = False,
        report: bool = True,
        progress: ProgressSink | None = None,
        executor: str = "local",
        address: str | None = None,
        wait: bool = True,
        notice: Callable[[str], None] | None = None,
        startup: bool = False,
    ) -> RunSummary:
        """Render the selected rows (`rows` like "3", "1:10", ":5"; `only` row ids), `jobs`
        processes (default: target.workers); `no_cache`: compute everything afresh, store
        nothing; `executor` "ray" runs the rows on a Ray cluster (`address`, or a local one);
        `wait`: for another run writing the output folder (False: VP340 at once), `notice`
        hears why; `startup`: this process was started for this run (the CLI), so its start-up
        is timed and recorded too. Writes the outputs, the run's manifest, the
        latest view `manifest.jsonl` and (with `report`) the HTML review; returns the summary."""
        plan = self.plan if report else None  # as built: the estimate before this run's own timings
        summary = run_build(
            self.result,
            RunOptions(
                rows=rows,
                only=tuple(only),
                jobs=jobs or self.recipe.target.workers,
                force=force,
                cache_dir=self.cache_dir,
                no_cache=no_cache,
                executor=executor,
                address=address,
                wait=wait,
                notice=notice,
                startup=startup,
                compiled_in=self.compiled_in,
            ),
            progress,
        )
        if report and summary.run_folder is not None:
            from vpipe.report import write_report

            summary.report = write_report(summary.run_folder, plan=plan)
        return summary


def compile(
    recipe: str | Path,
    *,
    pipeline: str = "default",
    disabled: tuple[str, ...] | list[str] = (),
    analyze: bool = True,
    cache_dir: str | Path | None = None,
    options: BuildOptions | None = None,
) -> Build:
    """Compile a recipe file into a `Build` (raises DiagnosticError on recipe errors)."""
    from vpipe.runtime.calibration import cpu_clock

    cache = Path(cache_dir) if cache_dir is not None else None
    opts = options or BuildOptions(pipeline=pipeline, disabled=frozenset(disabled), analyze=analyze, cache_dir=cache)
    wall, cpu = time.perf_counter(), cpu_clock()
    result = compile_recipe(recipe, opts)
    return Build(result, opts.cache_dir, (time.perf_counter() - wall, cpu_clock() - cpu))
