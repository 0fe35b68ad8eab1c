"""The plan `vpipe build` shows and writes: what will run, once or per row, with which
kernels, what it will change, and what it should cost."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vpipe.build import BuildResult, build_dir
from vpipe.diagnostics.diagnostic import DiagnosticError, Severity, display_path
from vpipe.ir.printer import print_graph
from vpipe.ir.types import Scope
from vpipe.text import tokenize


def plan_summary(build: BuildResult, cache_dir: Path | None = None) -> dict[str, Any]:
    recipe, graph, facts = build.recipe, build.graph, build.facts
    src = recipe.source
    source = _source_facts(build)
    shared = [op for op in graph if op.scope is Scope.SHARED]
    per_row = [op for op in graph if op.scope is Scope.PER_ROW]
    rows = recipe.rows.rows
    bad_rows = [r.index for r in rows if any(d.is_error for d in r.problems)]

    def total(ops: list[Any], attr: str) -> float:
        return sum(getattr(op.estimate, attr) for op in ops if op.estimate is not None)

    est = _calibrated(build, cache_dir, total(shared, "seconds"), total(per_row, "seconds"))
    measured = est.measured
    renders = len(rows) - len(bad_rows)
    peak_ram = max((op.estimate.ram_mb for op in graph if op.estimate), default=0.0)
    peak_vram = max((op.estimate.vram_mb for op in graph if op.estimate), default=0.0)
    transcript = facts.get("transcript") or src.transcript
    slots = []
    for name, slot in (facts.get("slots") or {}).items():
        entry = {"name": name, "say": slot["say"]}
        if "word_index" in slot:
            entry["word_index"] = slot["word_index"]
        if "start" in slot:
            entry.update(start=slot["start"], end=slot["end"])
            if src.media:
                entry.update(
                    first_frame=int(slot["start"] * src.media.fps), last_frame=int(slot["end"] * src.media.fps)
                )
        slots.append(entry)
    return {
        "recipe": display_path(recipe.file),
        "name": recipe.name,
        "source": source,
        "transcript": transcript,
        "transcript_recognised": src.kind == "video" and not src.transcript,
        "slots": slots,
        "rows": {"total": len(rows), "with_errors": bad_rows, "file": recipe.rows.file},
        "frames": {"changed_per_row": facts.get("frames_changed"), "total": facts.get("frames_total")},
        "unet_evaluations": facts.get("unet_evaluations"),
        "gops": facts.get("gops_source"),  # spliced on the source's own GOPs, or normalised and why
        "passes": {"changed": build.changed, "disabled": build.disabled, "hoisted": facts.get("hoisted", 0)},
        "ops": {"shared": len(shared), "per_row": len(per_row)},
        "kernels": {f"%{op.results[0].name} = {op.kind}": op.kernel for op in graph},
        "missing_kernels": facts.get("missing_kernels", []),
        "estimate": {
            "startup_seconds": round(est.startup, 3),
            "shared_seconds": round(est.shared, 3),
            "warmup_seconds": round(est.warmup, 3),
            "per_row_seconds": round(est.row, 3),
            "total_seconds": round(est.startup + est.shared + (est.warmup if renders else 0.0) + est.row * renders, 3),
            "peak_ram_mb": round(peak_ram, 1),
            "peak_vram_mb": round(peak_vram, 1),
            "from": est.sentence,
            "calibration": {k: measured[k] for k in _CALIBRATION_SHOWN if k in measured}
            if measured is not None
            else None,
        },
        "target": {
            "device": recipe.target.device,
            "precision": recipe.target.precision,
            "preset": recipe.target.preset,
        },
        "remarks": [d.to_json() for d in build.diagnostics if d.severity is not Severity.ERROR],
    }


def _shared_in_cache(build: BuildResult, override: Path | None) -> bool:
    """Whether every stored value of the shared analysis is in the cache (from the keys alone:
    nothing is loaded), so the run will only read it."""
    from vpipe.build import cache_dir, target_of
    from vpipe.runtime.cache import Cache
    from vpipe.runtime.executor import Executor, MissingKernel

    root = cache_dir(build.recipe, override)
    if not root.is_dir():
        return False
    try:
        executor = Executor(build.graph, Cache(root), target_of(build.recipe))
        keys = executor.shared_keys().keys
    except (MissingKernel, DiagnosticError, OSError):
        return _analysed(build)
    cache = executor.cache
    assert cache is not None
    return all(
        cache.has(keys[op.results[0].name])
        for i, op in executor.shared_ops
        if executor.kernels[i].cache and not executor.kernels[i].value_keyed
    )


def _source_facts(build: BuildResult) -> dict[str, Any]:
    """What the plan says about the source: its kind, path and probed format."""
    src = build.recipe.source
    source: dict[str, Any] = {"kind": src.kind, "path": display_path(src.path)}
    if src.media:
        m = src.media
        source.update(
            width=m.width,
            height=m.height,
            fps=m.fps,
            frames=m.frames,
            duration=m.duration,
            variable_frame_rate=m.vfr,
            audio=bool(m.has_audio),
            audio_rate=m.audio_rate,
            audio_channels=m.audio_channels,
        )
    if src.image_size:
        source.update(width=src.image_size[0], height=src.image_size[1])
    return source


_CALIBRATION_SHOWN = (
    "basis",
    "k",
    "load",
    "contention",
    "pace",
    "pace_age_seconds",
    "per_row_cpu_seconds",
    "warmup_cpu_seconds",
    "startup_cpu_seconds",
    "relative_pace",
)


@dataclass(frozen=True)
class RunEstimate:
    """The parts of a run's time: `vpipe run`'s own start-up (imports, reading and compiling
    the recipe), the shared analysis, the first row's model loading, each row."""

    startup: float
    shared: float
    warmup: float
    row: float
    sentence: str
    measured: dict[str, Any] | None


def _calibrated(build: BuildResult, cache_dir: Path | None, shared_s: float, row_s: float) -> RunEstimate:
    """The parts from earlier runs in this cache when there are any (else the kernels' own
    estimates of the shared and per-row work, as given), with the sentence saying which."""
    in_cache = _shared_in_cache(build, cache_dir)
    measured = _measured(build, cache_dir, in_cache)
    if measured is None:
        sentence = "the kernels' own estimates (no earlier run of this source and kernels in the cache)"
        return RunEstimate(0.0, shared_s, 0.0, row_s, sentence, None)
    if measured["per_row_seconds"] is not None:
        row_s = measured["per_row_seconds"]
    if in_cache:  # the run loads the shared analysis: a fraction of a second
        shared_s = measured["shared_cached_seconds"] or 0.0
    else:
        shared_s = measured["shared_seconds"] or shared_s
    startup = measured.get("startup_seconds") or 0.0
    sentence = f"measured: median of {measured['rows_measured']} row(s) of earlier runs in this cache"
    if measured["basis"] == "cpu" and measured["pace"] is not None:
        sentence += (
            f" ({measured['per_row_cpu_seconds']:.1f} s of CPU each, × {measured['pace']:.2f}"
            f" as the last run went, {_ago(measured['pace_age_seconds'])} ago)"
        )
    elif measured["basis"] == "cpu":
        sentence += (
            f" ({measured['per_row_cpu_seconds']:.1f} s of CPU each, × {measured['k']:.2f} waiting,"
            f" × {measured['contention']:.2f} for the machine's contention now, load {measured['load']:.1f})"
        )
    if startup:
        sentence += f", {startup:.1f} s starting up"
    if measured["warmup_seconds"]:
        sentence += f", {measured['warmup_seconds']:.1f} s loading models in the first row"
    return RunEstimate(startup, shared_s, measured["warmup_seconds"], row_s, sentence, measured)


def _measured(build: BuildResult, override: Path | None, in_cache: bool) -> dict[str, Any] | None:
    from vpipe.build import cache_dir
    from vpipe.runtime.calibration import calibrated, profile_key

    recipe = build.recipe
    return calibrated(
        cache_dir(recipe, override),
        profile_key(build.graph, recipe.source.path, recipe.target.device),
        shared_cached=in_cache,
    )


def _ago(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _analysed(build: BuildResult) -> bool:
    """The build itself ran the shared analysis through the cache: the run will find it there."""
    return bool(build.facts.get("slots")) and any("start" in s for s in build.facts["slots"].values())


def highlight_transcript(transcript: str, slots: list[dict[str, Any]]) -> str:
    """'… asking for [help] when …' — slot words in brackets."""
    marked: dict[int, int] = {}
    for s in slots:
        if "word_index" in s:
            for k in range(len(s["say"].split())):
                marked[s["word_index"] + k] = 1
    out, pos = [], 0
    for i, tok in enumerate(tokenize(transcript)):
        out.append(transcript[pos : tok.start])
        word = transcript[tok.start : tok.end]
        out.append(f"[{word}]" if i in marked else word)
        pos = tok.end
    out.append(transcript[pos:])
    return "".join(out)


def render_plan(plan: dict[str, Any]) -> str:
    src = plan["source"]
    lines = [f"plan for {plan['recipe']} ({plan['name']})"]
    if src["kind"] == "video" and "width" in src:
        vfr = " (variable)" if src.get("variable_frame_rate") else ""
        audio = (
            f", audio {src['audio_rate'] / 1000:g} kHz × {src['audio_channels']}" if src.get("audio") else ", no audio"
        )
        lines.append(
            f"  source      {src['path']}: {src['width']}×{src['height']}, {src['fps']:g} fps{vfr}, "
            f"{src['duration']:.2f} s, {src['frames']} frames{audio}"
        )
    elif "width" in src:
        lines.append(f"  source      {src['path']}: still image {src['width']}×{src['height']}")
    if plan.get("transcript"):
        how = "recognised — confirm it, or set source.transcript" if plan["transcript_recognised"] else "given"
        lines.append(f"  transcript  {highlight_transcript(plan['transcript'], plan['slots'])}  ({how})")
    for s in plan["slots"]:
        when = f"{s['start']:.2f}–{s['end']:.2f} s" if "start" in s else "time resolved at run time"
        frames = f", frames {s['first_frame']}–{s['last_frame']}" if "first_frame" in s else ""
        lines.append(f"  slot        {s['name']} ← “{s['say']}”  {when}{frames}")
    r = plan["rows"]
    bad = (
        f", {len(r['with_errors'])} with errors (rows {', '.join(map(str, r['with_errors'][:10]))})"
        if r["with_errors"]
        else ""
    )
    lines.append(f"  rows        {r['total']} from {r['file']}{bad}")
    f = plan["frames"]
    if f.get("changed_per_row") is not None and f.get("total"):
        pct = 100 * f["changed_per_row"] / f["total"]
        lines.append(
            f"  frames      {f['changed_per_row']} of {f['total']} re-animated per row ({pct:.1f} %); the rest pass through"
        )
    u = plan.get("unet_evaluations")
    if u and u.get("per_row"):
        lines.append(
            f"  neural      {u['model']}: {u['per_row']} U-Net evaluations per row "
            f"(the model over the whole video: {u['whole_video']}, {u['whole_video'] / u['per_row']:.0f}× more)"
        )
    g = plan.get("gops")
    if g:
        how = f"its own GOPs ({g['gops']}, ≤ {g['longest_gop']} frames), copied bit-exact" if g["own"] else None
        lines.append(f"  splice      rows on {how or 'a normalised copy of the source: ' + g['why']}")
    p = plan["passes"]
    lines.append(
        f"  passes      changed the graph: {', '.join(p['changed']) or 'none'}"
        + (f"; disabled: {', '.join(p['disabled'])}" if p["disabled"] else "")
    )
    lines.append(
        f"  ops         {plan['ops']['shared']} shared (once), {plan['ops']['per_row']} per row"
        + (f"; {p['hoisted']} hoisted out of the row loop" if p["hoisted"] else "")
    )
    lines.append("  kernels")
    for op, kern in plan["kernels"].items():
        lines.append(f"    {op:<42} {kern or 'NONE — see warnings'}")
    e = plan["estimate"]
    parts = [f"start-up {e['startup_seconds']:.1f} s"] if e.get("startup_seconds") else []
    parts.append(f"shared {e['shared_seconds']:.2f} s")
    if e.get("warmup_seconds"):
        parts.append(f"models {e['warmup_seconds']:.1f} s")
    lines.append(
        f"  estimate    {' + '.join(parts)} + {e['per_row_seconds']:.2f} s per row "
        f"= {e['total_seconds']:.1f} s for {r['total'] - len(r['with_errors'])} rows on {plan['target']['device']}; "
        f"peak RAM {e['peak_ram_mb']:.0f} MB, VRAM {e['peak_vram_mb']:.0f} MB"
    )
    if e.get("from"):
        lines.append(f"              ({e['from']})")
    return "\n".join(lines)


def write_build(build: BuildResult, plan: dict[str, Any], text: str) -> Path:
    import json

    from vpipe.atomic import atomic_write_text

    out = build_dir(build.recipe)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "input.ir", print_graph(build.input_graph))
    atomic_write_text(out / "final.ir", print_graph(build.graph, hashes=True))
    atomic_write_text(out / "plan.json", json.dumps(plan, indent=2, ensure_ascii=False) + "\n")
    atomic_write_text(out / "plan.txt", text + "\n")
    return out
