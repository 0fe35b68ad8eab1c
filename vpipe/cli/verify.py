"""`vpipe verify OUT.mp4`: validate an output's provenance (embedded C2PA manifest and JSON
sidecar) and print what is synthesized in it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from vpipe.cli.output import EXIT_INPUT, EXIT_OK, EXIT_ROWS_FAILED, Format
from vpipe.cli.root import app
from vpipe.diagnostics.render import for_terminal


@app.command()
def verify(
    files: Annotated[list[Path], typer.Argument(help="Output videos written by vpipe run.", show_default=False)],
    trust: Annotated[
        Optional[Path],
        typer.Option("--trust", metavar="FILE", help="PEM file of the CA certificates to trust (default: $VPIPE_C2PA_TRUST)."),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="Text or JSON.")] = Format.text,
) -> None:
    """Validate each file's provenance: the embedded C2PA manifest (signature, trust, the source
    ingredient) and the JSON sidecar, and list the synthesized spans. Exit 1 if one fails."""
    import os

    from vpipe.provenance import verify as check

    trust = trust or (Path(os.environ["VPIPE_C2PA_TRUST"]) if os.environ.get("VPIPE_C2PA_TRUST") else None)
    try:
        anchors = trust.read_bytes() if trust else None
    except OSError as exc:
        typer.echo(f"vpipe verify: cannot read --trust {trust}: {exc.strerror}", err=True)
        raise typer.Exit(EXIT_INPUT) from None
    results = []
    for file in files:
        if not file.is_file():
            typer.echo(f"vpipe verify: {for_terminal(str(file))}: not a file", err=True)
            raise typer.Exit(EXIT_INPUT)
        results.append(check(file, anchors))
    if fmt is Format.json:
        sys.stdout.write(json.dumps([r.to_json() for r in results], indent=2, ensure_ascii=False) + "\n")
    else:
        for r in results:
            sys.stdout.write(_describe(r) + "\n")
    raise typer.Exit(EXIT_OK if all(r.ok for r in results) else EXIT_ROWS_FAILED)


def _describe(r) -> str:  # type: ignore[no-untyped-def]
    lines = [f"{for_terminal(str(r.path))}: {'ok' if r.ok else 'FAILED'}"]
    if r.state is not None:
        signer = r.signer or {}
        lines.append(
            f"  c2pa: {r.state}"
            + (f" (signed by {signer.get('common_name')}, issuer {signer.get('issuer')})" if signer else "")
            + (f"; failures: {', '.join(r.failures)}" if r.failures else "")
        )
        if r.ingredient:
            lines.append(f"  source (parent ingredient): {for_terminal(r.ingredient)}")
    else:
        lines.append("  c2pa: no embedded manifest")
    if r.sidecar is not None:
        lines.append(
            f"  sidecar: {'matches the file' if r.sidecar_matches else 'does NOT match the file (sha256 differs)'}"
        )
    spans = r.synthesized if r.synthesized is not None else (r.sidecar or {}).get("synthesized", [])
    for s in spans or []:
        words = f" '{for_terminal(s['said'])}' (was '{for_terminal(s['replaced'])}')" if s.get("said") else ""
        lines.append(
            f"  synthetic {s['track']:<5} {s['start']:7.3f}-{s['end']:7.3f} s{words} by {for_terminal(s['by'])}"
        )
    if r.problem:
        lines.append(f"  problem: {for_terminal(r.problem)}")
    return "\n".join(lines)
