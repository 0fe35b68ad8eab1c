"""Review commands: report (the HTML review of a run) and eval (measure one file against its source)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from vpipe.cli.output import EXIT_INPUT, EXIT_ROWS_FAILED, Format
from vpipe.cli.root import app
from vpipe.runtime.records import MANIFEST, dumps

FormatOpt = Annotated[Format, typer.Option("--format", help="Output as text or JSON.")]


@app.command()
def report(
    run_dir: Annotated[
        Path,
        typer.Argument(
            help="A run folder (out/runs/ID) or an output folder (its latest view over all runs).",
            metavar="RUN_DIR",
            show_default=False,
        ),
    ],
    fmt: FormatOpt = Format.text,
) -> None:
    """Write the HTML review report of a run: RUN_DIR/report/index.html."""
    from vpipe.report import write_report

    if not (run_dir / MANIFEST).is_file():
        message = f"{run_dir}: no {MANIFEST} here; give a run folder (out/runs/ID) or an output folder"
        if fmt is Format.json:
            sys.stdout.write(dumps({"error": message}) + "\n")
        else:
            typer.echo(message, err=True)
        raise typer.Exit(EXIT_INPUT)
    path = write_report(run_dir)
    if fmt is Format.json:
        sys.stdout.write(dumps({"report": str(path)}) + "\n")
    else:
        typer.echo(f"report: {path}")


@app.command(name="eval")
def evaluate(
    output: Annotated[Path, typer.Argument(help="The video to measure.", metavar="OUT.mp4", show_default=False)],
    source: Annotated[
        Optional[Path],
        typer.Option("--source", metavar="SRC.mp4", help="The recording it was made from (default: the recipe's)."),
    ] = None,
    recipe: Annotated[
        Optional[Path],
        typer.Option("--recipe", metavar="RECIPE", help="Take the gates from this recipe's qc: section."),
    ] = None,
    fmt: FormatOpt = Format.text,
) -> None:
    """Measure one file against its source: A/V offset, where it was edited, whether the mouth
    was re-animated and moves there, untouched frames, loudness. Exit 1 when a gate fails."""
    from vpipe.cli.output import fail
    from vpipe.diagnostics.diagnostic import Diagnostic, DiagnosticError, Span
    from vpipe.qc.evaluate import evaluate as measure

    thresholds: dict[str, object] = {}
    try:
        if recipe is not None:
            from vpipe.frontend.load import load_recipe

            loaded, _ = load_recipe(recipe)
            qc = loaded.qc
            thresholds = {
                "min_untouched_psnr_db": qc.min_untouched_psnr_db,
                "max_loudness_delta_db": qc.max_loudness_delta_db,
            }
            source = source or loaded.source.path
        for path, what in ((output, "output"), (source, "source")):
            if path is None:
                raise DiagnosticError(
                    Diagnostic("VP020", "give the source with --source (or a --recipe that names it)", None)
                )
            if not path.is_file():
                raise DiagnosticError(Diagnostic("VP020", f"{what} '{path}' does not exist", Span(str(path))))
        assert source is not None
        try:
            result = measure(output, source, thresholds)
        except Exception as exc:  # an unreadable file is the user's input, not a crash
            raise DiagnosticError(
                Diagnostic("VP301", f"cannot measure '{output}': {type(exc).__name__}: {exc}", Span(str(output)))
            ) from None
    except DiagnosticError as exc:
        raise fail(exc.diagnostics, fmt) from None
    if fmt is Format.json:
        sys.stdout.write(dumps(result.to_json(), indent=2) + "\n")
    else:
        typer.echo(f"{output}: {'passed' if result.passed else 'FAILED'} (against {source})")
        if result.edit:
            typer.echo(
                f"  edit        {result.edit['start']:.2f}–{result.edit['end']:.2f} s (source to {result.edit['source_end']:.2f} s)"
            )
        for key, value in result.metrics.items():
            typer.echo(f"  {key:<22} {'–' if value is None else value}")
        for f in result.failures:
            typer.echo(f"  ✗ {f}")
    raise typer.Exit(EXIT_ROWS_FAILED if result.failures else 0)


@app.command()
def preview(
    recipe: Annotated[Path, typer.Argument(help="The recipe YAML file.", metavar="RECIPE", show_default=False)],
    row: Annotated[int, typer.Option("--row", min=1, metavar="N", help="The row to preview (1-based).")] = 1,
    cache_dir: Annotated[
        Optional[Path], typer.Option("--cache-dir", metavar="DIR", help="Content-addressed cache folder.")
    ] = None,
    fmt: FormatOpt = Format.text,
) -> None:
    """One row's script and new audio in seconds (no video): what `vpipe run` would say."""
    from vpipe.api import compile as compile_build
    from vpipe.cli.output import emit, fail
    from vpipe.diagnostics.diagnostic import DiagnosticError
    from vpipe.preview import preview_row
    from vpipe.speech.piper_client import worker

    speech = worker()
    speech.start()  # the speech worker loads its libraries while the recipe compiles (on another core)
    try:
        build = compile_build(recipe, cache_dir=cache_dir)
        if build.recipe.voice.engine != "piper":
            speech.close()
        result = preview_row(build.result, row, cache_dir)
    except DiagnosticError as exc:
        raise fail(exc.diagnostics, fmt) from None
    if fmt is Format.json:
        sys.stdout.write(dumps(result.to_json(), indent=2) + "\n")
        return
    emit(result.diagnostics, summary=False)
    typer.echo(f"row {result.row} ({result.id}): {result.script}")
    for s in result.slots:
        typer.echo(f"  {s['slot']:<12} “{s['said']}” at {s['start']:.2f}–{s['end']:.2f} s")
    typer.echo(f"audio: {result.audio}  ({result.seconds:.1f} s)")
