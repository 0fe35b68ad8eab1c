"""How the CLI reports: diagnostics to stderr (or JSON to stdout), exit codes.

Exit codes: 0 success, 1 some rows failed while running, 2 the input has errors.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from enum import StrEnum

import typer

from vpipe.diagnostics.diagnostic import Diagnostic, Severity
from vpipe.diagnostics.render import render_json, render_text, summary_line

EXIT_OK, EXIT_ROWS_FAILED, EXIT_INPUT = 0, 1, 2


class Format(StrEnum):
    text = "text"
    json = "json"


def emit(
    diagnostics: Sequence[Diagnostic], fmt: Format = Format.text, remarks: bool = False, summary: bool = True
) -> None:
    shown = [d for d in diagnostics if remarks or d.severity is not Severity.REMARK]
    if fmt is Format.json:
        sys.stdout.write(render_json(shown) + "\n")
        return
    if shown:
        color = sys.stderr.isatty()
        sys.stderr.write(render_text(shown, color=color) + "\n\n")
    if summary and any(d.severity is not Severity.REMARK for d in shown):
        sys.stderr.write(summary_line(shown) + "\n")


def fail(diagnostics: Sequence[Diagnostic], fmt: Format = Format.text) -> typer.Exit:
    emit(diagnostics, fmt)
    return typer.Exit(EXIT_INPUT)
