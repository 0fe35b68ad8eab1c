"""The `vpipe` application object and its global options; `vpipe.cli.app` and
`vpipe.cli.info` register their commands on it."""

from __future__ import annotations

import warnings
from typing import Annotated, Optional

import typer

from vpipe.version import __version__

# Third-party imports (pyworld, resemblyzer) warn about their own use of pkg_resources; that is
# not the user's business. vpipe's own problems are diagnostics, never Python warnings.
warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
warnings.filterwarnings("ignore", category=DeprecationWarning)

app = typer.Typer(
    name="vpipe",
    help="Compile a recipe (recorded video + script template + rows) into personalized videos.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"vpipe {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = None,
) -> None:
    """vpipe: personalized talking-head videos, compiled."""
