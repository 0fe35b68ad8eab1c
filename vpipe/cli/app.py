"""The `vpipe` command line: check, build, run, graph (this module) and the informational
commands in `vpipe.cli.info`, both registered on the application of `vpipe.cli.root`."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from vpipe.cli.output import EXIT_INPUT, EXIT_OK, EXIT_ROWS_FAILED, Format, emit, fail
from vpipe.cli.root import app
from vpipe.diagnostics.diagnostic import Diagnostic, DiagnosticError, Severity
from vpipe.runtime.records import dumps

if TYPE_CHECKING:
    from vpipe.runtime.run import RunSummary


class GraphAs(StrEnum):
    svg = "svg"
    dot = "dot"
    ir = "ir"


class ExecutorKind(StrEnum):
    local = "local"
    ray = "ray"


class Stage(StrEnum):
    input = "input"
    final = "final"


RecipeArg = Annotated[Path, typer.Argument(help="The recipe YAML file.", show_default=False, metavar="RECIPE")]
FormatOpt = Annotated[Format, typer.Option("--format", help="Output as text or JSON (diagnostics included).")]


@app.command()
def check(
    recipe: RecipeArg,
    fmt: FormatOpt = Format.text,
    analyze: Annotated[
        bool,
        typer.Option(
            "--analyze/--no-analyze",
            help="Align the source to its transcript (through the cache): slot words found and timed, "
            "the transcript verified against the audio.",
        ),
    ] = True,
    cache_dir: Annotated[
        Optional[Path], typer.Option("--cache-dir", metavar="DIR", help="Content-addressed cache folder.")
    ] = None,
) -> None:
    """Validate a recipe and its rows: schema, files, template, every row's values (empty, too
    long, unspeakable), the slots in the recording and the transcript against the audio —
    all of it in one pass, without rendering (exit 2 on errors)."""
    from vpipe.driver import BuildOptions, compile_recipe

    try:
        build = compile_recipe(recipe, BuildOptions(pipeline="resolve-slots", analyze=analyze, cache_dir=cache_dir))
    except DiagnosticError as exc:
        raise fail(exc.diagnostics, fmt) from None
    diags = [d for d in build.diagnostics if d.severity is not Severity.REMARK]
    emit(diags, fmt)
    errors = [d for d in diags if d.is_error]
    if fmt is Format.text:
        rows = build.recipe.rows.rows
        bad = len({d.span.line for d in errors if d.span})
        sys.stderr.write(
            f"{recipe}: {'ok' if not errors else 'errors found'} "
            f"({len(rows)} rows, {bad} with errors; {len(build.recipe.slots)} slot(s))\n"
        )
    raise typer.Exit(EXIT_INPUT if errors else EXIT_OK)


def _build_options(
    pipeline: str,
    disable_pass: list[str],
    print_after: list[str],
    print_after_all: bool,
    print_after_change: bool,
    dump_ir: Optional[Path],
    time_passes: bool,
    analyze: bool,
    cache_dir: Optional[Path],
) -> BuildOptions:  # noqa: F821
    from vpipe.driver import BuildOptions

    return BuildOptions(
        pipeline=pipeline,
        disabled=frozenset(disable_pass),
        print_after=frozenset(print_after),
        print_after_all=print_after_all,
        print_after_change=print_after_change,
        dump_ir=dump_ir,
        time_passes=time_passes,
        analyze=analyze,
        cache_dir=cache_dir,
        stream=sys.stdout,
    )


PipelineOpt = Annotated[
    str, typer.Option("--pipeline", metavar="NAME", help="A named pipeline or comma-separated passes.")
]
DisableOpt = Annotated[list[str], typer.Option("--disable-pass", metavar="PASS", help="Skip this pass (repeatable).")]
PrintAfterOpt = Annotated[
    list[str], typer.Option("--print-after", metavar="PASS", help="Print the IR after this pass (repeatable).")
]
PrintAllOpt = Annotated[bool, typer.Option("--print-after-all", help="Print the IR after every pass.")]
PrintChangeOpt = Annotated[
    bool, typer.Option("--print-after-change", help="Print the IR after passes that changed it.")
]
DumpOpt = Annotated[
    Optional[Path], typer.Option("--dump-ir", metavar="DIR", help="Write the IR after each pass into DIR.")
]
TimeOpt = Annotated[bool, typer.Option("--time-passes", help="Report how long each pass took.")]
AnalyzeOpt = Annotated[
    bool,
    typer.Option("--analyze/--no-analyze", help="Analyse the source (align, track) while building, through the cache."),
]
CacheOpt = Annotated[
    Optional[Path],
    typer.Option("--cache-dir", metavar="DIR", help="Content-addressed cache folder (default: $VPIPE_CACHE_DIR)."),
]
RowsOpt = Annotated[
    Optional[str], typer.Option("--rows", metavar="SPEC", help="Rows to render: 3, 1:10, :5 or 4: (1-based).")
]
OnlyOpt = Annotated[list[str], typer.Option("--only", metavar="ID", help="Only the row with this id (repeatable).")]
NoCacheOpt = Annotated[
    bool,
    typer.Option(
        "--no-cache", help="Compute everything afresh and store nothing (with --pipeline O0: the naive baseline)."
    ),
]


@app.command()
def build(
    recipe: RecipeArg,
    pipeline: PipelineOpt = "default",
    disable_pass: DisableOpt = [],  # noqa: B006 (typer needs a literal default)
    print_after: PrintAfterOpt = [],  # noqa: B006
    print_after_all: PrintAllOpt = False,
    print_after_change: PrintChangeOpt = False,
    dump_ir: DumpOpt = None,
    time_passes: TimeOpt = False,
    analyze: AnalyzeOpt = True,
    cache_dir: CacheOpt = None,
    fmt: FormatOpt = Format.text,
) -> None:
    """Compile the recipe: lower to IR, run the passes, write the plan and the final IR."""
    from vpipe.driver import compile_recipe
    from vpipe.plan import plan_summary, render_plan, write_build

    options = _build_options(
        pipeline,
        disable_pass,
        print_after,
        print_after_all,
        print_after_change,
        dump_ir,
        time_passes,
        analyze,
        cache_dir,
    )
    try:
        result = compile_recipe(recipe, options)
    except DiagnosticError as exc:
        raise fail(exc.diagnostics, fmt) from None
    plan = plan_summary(result, cache_dir)
    text = render_plan(plan)
    out = write_build(result, plan, text)
    if fmt is Format.json:
        sys.stdout.write(
            dumps({"plan": plan, "diagnostics": [d.to_json() for d in result.diagnostics]}, indent=2) + "\n"
        )
    else:
        emit(result.diagnostics, summary=False)
        sys.stdout.write(text + "\n")
        sys.stdout.write(f"  wrote       {out}/plan.txt, plan.json, input.ir, final.ir\n")
    errors = any(d.is_error for d in result.diagnostics)
    raise typer.Exit(EXIT_INPUT if errors else EXIT_OK)


@app.command()
def run(
    recipe: RecipeArg,
    rows: RowsOpt = None,
    only: OnlyOpt = [],  # noqa: B006
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs", "-j", min=0, metavar="N", help="Rows rendered in parallel processes (0: target.workers)."
        ),
    ] = 0,
    force: Annotated[
        bool, typer.Option("--force", help="Re-render the selected rows from scratch, reusing nothing cached for them.")
    ] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show progress bars.")] = True,
    executor: Annotated[
        ExecutorKind,
        typer.Option("--executor", help="Where rows run: local (processes here) or ray (a Ray cluster)."),
    ] = ExecutorKind.local,
    address: Annotated[
        Optional[str],
        typer.Option(
            "--address",
            metavar="HOST:PORT",
            help="With --executor ray: the cluster's HOST:PORT, or 'auto' (default: start one here).",
        ),
    ] = None,
    no_wait: Annotated[
        bool,
        typer.Option(
            "--no-wait", help="If another run is writing the output folder, exit 2 at once instead of waiting."
        ),
    ] = False,
    pipeline: PipelineOpt = "default",
    disable_pass: DisableOpt = [],  # noqa: B006
    cache_dir: CacheOpt = None,
    no_cache: NoCacheOpt = False,
    fmt: FormatOpt = Format.text,
) -> None:
    """Build, then render one video per row; write the manifest and the HTML review.
    Exit 1 if any row failed (a QC gate with on_fail: fail included)."""
    from vpipe.api import compile as compile_build
    from vpipe.cli.progress import RunProgress

    options = _build_options(pipeline, disable_pass, [], False, False, None, False, True, cache_dir)
    options.no_cache = no_cache
    try:
        build = compile_build(recipe, options=options)
        result = build.result
        recipe_level: list[Diagnostic] = []
        if fmt is Format.text:  # row problems are reported with each row's outcome below
            recipe_level = [
                d
                for d in result.diagnostics
                if d.severity is Severity.WARNING and (d.span is None or d.span.file == result.recipe.smap.file)
            ]
            emit(recipe_level, summary=False)
        signer = _provenance_signer()
        with RunProgress(enabled=progress and fmt is Format.text, total=0) as bar:
            summary = build.run(
                rows,
                only=tuple(only),
                jobs=jobs or None,
                force=force,
                no_cache=no_cache,
                progress=bar if bar.enabled else None,  # off a terminal: no phase events at all
                executor=executor.value,
                address=address,
                wait=not no_wait,
                notice=lambda text: sys.stderr.write(text + "\n"),
                startup=_started_as_vpipe(),  # its start-up is this run's: timed for the estimates
            )
    except DiagnosticError as exc:
        raise fail(exc.diagnostics, fmt) from None
    _report_run(summary, fmt, recipe_level, signer is not None)
    raise typer.Exit(EXIT_ROWS_FAILED if summary.failed else EXIT_OK)


def _started_as_vpipe() -> bool:
    """This process was started as `vpipe …` or `python -m vpipe …` (not a library call or an
    in-process test of the CLI, whose process started long before the command)."""
    arg0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path()
    return arg0.name == "vpipe" or (arg0.name == "__main__.py" and arg0.parent.name == "vpipe")


def _report_run(summary: RunSummary, fmt: Format, recipe_level: list[Diagnostic], signed: bool) -> None:
    """What `vpipe run` prints when the rows are done: JSON, or the diagnostics the run found
    (beyond the recipe's, printed before it) and the summary table."""
    from vpipe.cli.summary import render_run_summary, run_json

    if fmt is Format.json:
        sys.stdout.write(run_json(summary) + "\n")
        return
    # what the shared work found about the source (slot word unheard, no face, two faces)
    emit(
        [d for d in summary.shared_diagnostics if d.severity is not Severity.REMARK and d not in recipe_level],
        summary=False,
    )
    for outcome in summary.outcomes:
        if outcome.diagnostics:
            emit(outcome.diagnostics, summary=False)
    sys.stdout.write(render_run_summary(summary) + "\n")
    if not signed and (summary.count("ok") or summary.count("up-to-date")):
        sys.stdout.write(
            "provenance: JSON sidecars only (<output>.provenance.json); no C2PA signing certificate is "
            "configured (VPIPE_C2PA_CERT, VPIPE_C2PA_KEY)\n"
        )


def _provenance_signer() -> object | None:
    """The configured C2PA signer (None: sidecars only); a configuration that cannot work is VP343."""
    from vpipe.provenance import ProvenanceError, SignerConfig, c2pa_available

    try:
        signer = SignerConfig.from_env()
    except ProvenanceError as exc:
        raise DiagnosticError(Diagnostic("VP343", f"provenance: {exc}", None)) from None
    if signer is not None and not c2pa_available():
        raise DiagnosticError(
            Diagnostic(
                "VP343",
                "provenance: a C2PA certificate is configured but c2pa-python is not installed",
                None,
                help="pip install 'vpipe[provenance]'",
            )
        )
    return signer


@app.command()
def graph(
    recipe: RecipeArg,
    output: Annotated[
        Optional[Path],
        typer.Option(
            "--output", "-o", metavar="FILE", help="Where to write; - for standard output (default: the build folder)."
        ),
    ] = None,
    graph_format: Annotated[GraphAs, typer.Option("--as", help="The drawing's format.")] = GraphAs.svg,
    stage: Annotated[
        Stage, typer.Option("--stage", help="input (as lowered) or final (after the passes).")
    ] = Stage.final,
    analyze: AnalyzeOpt = False,
    fmt: FormatOpt = Format.text,
) -> None:
    """Draw the IR graph (shared ops in blue, per-row ops in orange) as SVG, DOT or text."""
    from vpipe.atomic import atomic_write_text
    from vpipe.build import build_dir
    from vpipe.driver import compile_recipe
    from vpipe.ir.draw import to_dot, to_svg
    from vpipe.ir.printer import print_graph

    try:
        result = compile_recipe(recipe, _build_options("default", [], [], False, False, None, False, analyze, None))
    except DiagnosticError as exc:
        raise fail(exc.diagnostics, fmt) from None
    g = result.input_graph if stage is Stage.input else result.graph
    text = {"svg": to_svg, "dot": to_dot, "ir": print_graph}[graph_format.value](g)
    if output is not None and str(output) == "-":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    target = output or build_dir(result.recipe) / f"graph-{stage.value}.{graph_format.value}"
    atomic_write_text(target, text)
    if fmt is Format.json:
        sys.stdout.write(dumps({"wrote": str(target), "ops": len(g)}) + "\n")
    else:
        typer.echo(f"wrote {target} ({len(g)} ops)")


from vpipe.cli import info, review, verify  # noqa: E402, F401  (register passes, explain, models, doctor, sample; report, eval, preview; verify)

__all__ = ["EXIT_ROWS_FAILED", "app"]
