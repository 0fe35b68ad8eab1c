"""Loading a recipe: file → validated, typed `Recipe` plus every diagnostic found.

Each part of the recipe (source, slots, template, voice, lip-sync, target, output, QC,
rows) is read by its own function here, with the schema's defaults for what the recipe
leaves out (`schema.with_defaults`: the schema is their one home) and the backend registry
for what a backend needs; the checks across the parts are `vpipe.frontend.checks`.
Recipe-level errors (schema, missing files, template syntax) stop the load with a
`DiagnosticError` carrying all of them. Row-level problems (an empty value, a path that
escapes the output directory) are attached to their rows: those rows fail, others render.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import stat
from dataclasses import replace
from pathlib import Path
from typing import Any

from jinja2 import TemplateSyntaxError

from vpipe.catalog import hardware_presets
from vpipe.diagnostics.diagnostic import Diagnostic, DiagnosticBag, DiagnosticError, Span, display_path
from vpipe.frontend import checks
from vpipe.frontend import rows as rows_io
from vpipe.frontend.recipe import (
    AlignerSpec,
    FaceSelect,
    LipsyncSpec,
    OutputSpec,
    QcSpec,
    Recipe,
    SlotSpec,
    SourceSpec,
    TargetSpec,
    VoiceSpec,
)
from vpipe.frontend.schema import defaults, validate, with_defaults
from vpipe.frontend.yamlmap import SourceMap, load_yaml
from vpipe.kernel_api import backends
from vpipe.lexicon import Lexicon, parse_mapping
from vpipe.outputs import output_root
from vpipe.probe import MediaInfo, ProbeError, probe_image, probe_video
from vpipe.templates import TemplateProgram


def _template_span(smap: SourceMap, pointer: str, template_line: int = 1) -> Span:
    """Span of line `template_line` of a template written at `pointer` in the recipe."""
    span = smap.value(pointer)
    if template_line <= 1 or not span.has_position:
        return span
    # Block scalars (`|`) start on the line after the indicator; flow scalars fold lines.
    line = span.line + template_line
    return Span(span.file, line, 1, line, 10_000, pointer)


def _resolve_path(base: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else (base / p)


def not_a_file(path: Path) -> str | None:
    """What `path` is when it exists but is not a regular file (None when it is one, or is absent)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    if stat.S_ISFIFO(mode):
        return "is a named pipe (FIFO), not a file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a file"
    return "is not a regular file"


def _check_file(bag: DiagnosticBag, base: Path, value: str, pointer: str, smap: SourceMap, what: str) -> Path:
    path = _resolve_path(base, value)
    kind = not_a_file(path)
    if kind is not None:
        bag.error("VP027", f"{what} '{value}' {kind}", smap.value(pointer), help="give the path of a file")
    elif not path.is_file():
        near = [p.name for p in path.parent.glob("*")] if path.parent.is_dir() else []
        guess = difflib.get_close_matches(path.name, near, n=1, cutoff=0.6)
        bag.error(
            "VP020",
            f"{what} '{value}' does not exist",
            smap.value(pointer),
            help=f"did you mean '{guess[0]}'?"
            if guess
            else f"paths are relative to the recipe's folder ({display_path(base)})",
        )
    return path


def _probe_source(
    bag: DiagnosticBag, kind: str, path: Path, audio: Path | None, smap: SourceMap, has_slots: bool
) -> tuple[MediaInfo | None, tuple[int, int] | None]:
    if not path.is_file():
        return None, None
    pointer = f"/source/{kind}"
    try:
        if kind == "image":
            return None, probe_image(path)
        media = probe_video(path)
    except ProbeError as exc:
        bag.error(
            "VP021",
            f"source {kind} '{path.name}' {exc}",
            smap.value(pointer),
            help="use an MP4/MOV/MKV video or a JPEG/PNG image" if kind == "video" else "use a JPEG or PNG image",
        )
        return None, None
    if not media.has_audio and audio is None and has_slots:
        bag.error(
            "VP022",
            f"source video '{path.name}' has no audio track, so there are no spoken words to replace",
            smap.value(pointer),
            help="record the video with sound, or give source.audio with the speech to dub onto it",
        )
    if media.frames < 2:
        bag.error("VP021", f"source video '{path.name}' has {media.frames} frame(s)", smap.value(pointer))
    return media, None


MAX_RECIPE_BYTES = 1 << 20  # a recipe is a page of YAML; rows and lexicons have their own files


def load_recipe(path: str | Path) -> tuple[Recipe, list[Diagnostic]]:
    file = Path(path)
    shown = display_path(file)
    kind = not_a_file(file)
    if kind is not None:
        raise DiagnosticError(Diagnostic("VP001", f"recipe '{shown}' {kind}", Span(shown)))
    with contextlib.suppress(OSError):
        size = file.stat().st_size
        if size > MAX_RECIPE_BYTES:
            raise DiagnosticError(
                Diagnostic(
                    "VP001",
                    f"recipe '{shown}' is {size:,} bytes; a recipe may be at most {MAX_RECIPE_BYTES:,} bytes",
                    Span(shown),
                    help="put the rows into a CSV or JSONL file and point rows: at it",
                )
            )
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DiagnosticError(Diagnostic("VP001", f"recipe file '{shown}' does not exist", Span(shown))) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DiagnosticError(Diagnostic("VP001", f"cannot read recipe '{shown}': {exc}", Span(shown))) from None
    data, smap = load_yaml(text, shown)
    data = expand_shorthands(data)
    schema_errors = validate(data, smap)
    if any(d.is_error for d in schema_errors):
        raise DiagnosticError(schema_errors)
    return _build(file.resolve(), data, smap)


VOICE_ENGINES = ("piper", "espeak")


def expand_shorthands(data: Any) -> Any:
    """`lipsync: wav2lip` is {model: wav2lip}; `voice: piper` is {engine: piper} (another
    string names a voice), as `target: cpu` names a preset. The schema then checks the
    mapping, so a wrong name is reported like one written in full."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    if isinstance(data.get("lipsync"), str):
        data["lipsync"] = {"model": data["lipsync"]}
    if isinstance(data.get("voice"), str):
        v = data["voice"]
        data["voice"] = {"engine": v} if v in VOICE_ENGINES else {"voice": v}
    return data


def _build(file: Path, data: dict[str, Any], smap: SourceMap) -> tuple[Recipe, list[Diagnostic]]:
    bag = DiagnosticBag()
    base = file.parent
    source = _source(bag, base, data, smap)
    slots = _slots(bag, data, source.kind, smap)
    template = _template(bag, data, slots, smap)
    voice = _voice(bag, base, data, smap)
    lipsync = _lipsync(bag, base, data, source.kind, smap)
    output, output_program = _output(bag, base, data, smap)
    checks.check_output_size(bag, source, lipsync, output, smap)
    rowset = _rows(bag, base, data, smap)
    if rowset is not None:
        rowset = checks.map_slot_columns(bag, rowset, slots, smap)
    # the checks across the parts run whatever else failed, when their parts loaded: every
    # stage's errors in one pass
    if template is not None and rowset is not None:
        checks.check_template_variables(bag, template, slots, rowset, source.kind, smap)
    if template is not None and source.kind == "video" and source.transcript:
        checks.check_transcript(bag, template, slots, source.transcript, smap)
    bag.raise_if_errors()
    assert template is not None and output_program is not None and rowset is not None

    recipe = Recipe(
        file=file,
        name=str(data.get("name") or file.stem),
        source=source,
        slots=tuple(slots),
        template=template,
        rows=rowset,
        voice=voice,
        lipsync=lipsync,
        target=_target(data.get("target", defaults()["target"])),
        output=output,
        qc=_qc(data),
        smap=smap,
        output_program=output_program,
    )
    inputs = [file, source.path, *(p for p in (source.audio, voice.lexicon_file, lipsync.weights) if p is not None)]
    if not isinstance(data["rows"], list):
        spec = data["rows"] if isinstance(data["rows"], dict) else {"csv": data["rows"]}
        inputs.append(_resolve_path(base, spec.get("csv") or spec.get("jsonl")))
    checked, template_level = checks.check_rows(recipe, tuple(inputs))
    if template_level:
        raise DiagnosticError(template_level)
    recipe = replace(recipe, rows=replace(rowset, rows=checked))
    row_diags = rows_io.row_problems(checked)
    return recipe, [d for d in bag.items if not d.is_error] + row_diags


# --- the parts of a recipe, in document order ------------------------------------------------
def _source(bag: DiagnosticBag, base: Path, data: dict[str, Any], smap: SourceMap) -> SourceSpec:
    src = data["source"]
    kind = "video" if "video" in src else "image"
    path = _check_file(bag, base, src[kind], f"/source/{kind}", smap, f"source {kind}")
    audio = _check_file(bag, base, src["audio"], "/source/audio", smap, "source audio") if "audio" in src else None
    face = FaceSelect(**with_defaults(src.get("face"), "source", "face"))
    media, image_size = _probe_source(bag, kind, path, audio, smap, has_slots=bool(data.get("slots")))
    aligner = _aligner(bag, base, with_defaults(src.get("aligner"), "source", "aligner"), smap)
    return SourceSpec(kind, path, src.get("transcript"), audio, face, media, image_size, aligner)


def _aligner(bag: DiagnosticBag, base: Path, spec: dict[str, Any], smap: SourceMap) -> AlignerSpec:
    folders: dict[str, Path | None] = {}
    for key in ("align_model", "asr_model"):
        folder = _resolve_path(base, spec[key]) if key in spec else None
        if folder is not None and not folder.is_dir():
            bag.error(
                "VP020",
                f"model folder '{spec[key]}' does not exist",
                smap.value(f"/source/aligner/{key}"),
                help="vpipe downloads no models: give the folder the model was saved to",
            )
        folders[key] = folder
    return AlignerSpec(spec["engine"], folders["align_model"], folders["asr_model"], spec["language"])


def _slots(bag: DiagnosticBag, data: dict[str, Any], kind: str, smap: SourceMap) -> list[SlotSpec]:
    slots: list[SlotSpec] = []
    for name, value in (data.get("slots") or {}).items():
        spec = with_defaults({"say": value} if isinstance(value, str) else value, "slots", "*")
        slot = SlotSpec(name, spec["say"], spec.get("occurrence"), spec["max_chars"], spec.get("column"))
        if not slot.words:
            bag.error("VP015", f"slot '{name}' says no word", smap.value(f"/slots/{name}"))
        slots.append(slot)
    if kind == "video" and not slots:
        bag.error(
            "VP017",
            "a video recipe needs at least one slot: a spoken word to replace",
            smap.key("/slots") if "slots" in data else Span(smap.file, 1, 1, 1, 2),
            help="e.g. slots: {first_name: {say: john}}",
        )
    return slots


def _template(
    bag: DiagnosticBag, data: dict[str, Any], slots: list[SlotSpec], smap: SourceMap
) -> TemplateProgram | None:
    try:
        return TemplateProgram(data["template"], frozenset(s.name for s in slots))
    except TemplateSyntaxError as exc:
        bag.error("VP030", f"template syntax error: {exc.message}", _template_span(smap, "/template", exc.lineno or 1))
        return None


def _voice(bag: DiagnosticBag, base: Path, data: dict[str, Any], smap: SourceMap) -> VoiceSpec:
    v = with_defaults(data.get("voice"), "voice")
    lexicon, lexicon_file = _lexicon(bag, base, v.get("lexicon"), smap)
    tts = backends.find("tts", v["engine"])
    if "voice" in v and tts is not None and tts.resolve_voice is not None:
        try:
            tts.resolve_voice(v["voice"], base)
        except LookupError as exc:
            bag.error(
                "VP051", str(exc.args[0]), smap.value("/voice/voice"), help="`vpipe models --task tts` lists the voices"
            )
    return VoiceSpec(
        engine=v["engine"],
        voice=v.get("voice") or (tts.default_voice if tts is not None and tts.default_voice else ""),
        match_speaker=v["match_speaker"],
        speaker_units=v["speaker_units"],
        lexicon=lexicon,
        lexicon_file=lexicon_file,
        lexicon_column=v.get("lexicon_column"),
        duration=v["duration"],
        max_stretch=float(v["max_stretch"]),
        speed=float(v["speed"]),
    )


def _lipsync(bag: DiagnosticBag, base: Path, data: dict[str, Any], kind: str, smap: SourceMap) -> LipsyncSpec:
    ls = with_defaults(data.get("lipsync"), "lipsync")
    weights = _resolve_path(base, ls["weights"]) if "weights" in ls else None
    if weights is not None and not weights.is_dir():
        bag.error("VP020", f"weights directory '{ls['weights']}' does not exist", smap.value("/lipsync/weights"))
    lipsync = LipsyncSpec(ls["model"], ls["quality"], weights, float(ls["margin_ms"]))
    checks.check_weights(bag, lipsync, smap)
    checks.check_lipsync_source(bag, lipsync, kind, smap)
    return lipsync


def _output(
    bag: DiagnosticBag, base: Path, data: dict[str, Any], smap: SourceMap
) -> tuple[OutputSpec, TemplateProgram | None]:
    out = with_defaults(data.get("output"), "output")
    root = Path(output_root(out["path"]))
    output = OutputSpec(
        path_template=out["path"],
        root=(root if root.is_absolute() else base / root).resolve(),
        codec=out["codec"],
        crf=out["crf"],
        preset=out["preset"],
        audio_bitrate_kbps=out["audio_bitrate_kbps"],
    )
    checks.check_output_path(bag, output, "codec" in (data.get("output") or {}), smap)
    if not root.is_absolute() and not output.root.is_relative_to(base):
        bag.warning(
            "VP039",
            f"output folder '{root}' is outside the recipe's folder ({display_path(output.root)})",
            smap.value("/output/path"),
            help="write outputs beside the recipe (e.g. out/...), or give an absolute path if this is intended",
        )
    try:
        return output, TemplateProgram(out["path"], path=True)
    except TemplateSyntaxError as exc:
        bag.error("VP030", f"output path template syntax error: {exc.message}", smap.value("/output/path"))
        return output, None


def _rows(bag: DiagnosticBag, base: Path, data: dict[str, Any], smap: SourceMap) -> rows_io.RowSet | None:
    try:
        rowset = _read_rows(base, data["rows"], smap)
    except DiagnosticError as exc:
        bag.extend(exc.diagnostics)
        return None
    bag.extend(rowset.problems)
    return rowset


def _lexicon(bag: DiagnosticBag, base: Path, value: Any, smap: SourceMap) -> tuple[Lexicon, Path | None]:
    if value is None:
        return Lexicon(), None
    if isinstance(value, dict):
        lex, errors = parse_mapping(value)
        for e in errors:
            bag.error("VP050", str(e), smap.value(f"/voice/lexicon/{e.word}"), help=checks.lexicon_help())
        return lex, None
    path = _check_file(bag, base, value, "/voice/lexicon", smap, "lexicon file")
    if not path.is_file():
        return Lexicon(), path
    shown = display_path(path)
    try:
        data, lsmap = load_yaml(path.read_text(encoding="utf-8"), shown)
    except DiagnosticError as exc:
        bag.extend(exc.diagnostics)
        return Lexicon(), path
    if data is None:
        return Lexicon(), path
    if not isinstance(data, dict):
        bag.error(
            "VP050", "a lexicon file must map words to pronunciations", lsmap.value(""), help=checks.lexicon_help()
        )
        return Lexicon(), path
    lex, errors = parse_mapping(data)
    for e in errors:
        bag.error("VP050", str(e), lsmap.value(f"/{e.word}"), help=checks.lexicon_help())
    return lex, path


def _qc(data: dict[str, Any]) -> QcSpec:
    """`on_fail: fail` and its older spelling `fail_rows: true` mean the same."""
    spec = with_defaults(data.get("qc"), "qc")
    given = data.get("qc") or {}
    on_fail = "fail" if given.get("fail_rows") and "on_fail" not in given else spec["on_fail"]
    return QcSpec(**{**spec, "on_fail": on_fail, "fail_rows": on_fail == "fail"})


def _target(value: Any) -> TargetSpec:
    """A preset name, or a mapping whose keys override its preset's (the default preset's device
    when it names none; fp16 on a GPU without a preset's precision)."""
    presets = hardware_presets()
    spec = with_defaults({"preset": value} if isinstance(value, str) else value, "target")
    preset_name = spec.get("preset")
    base = presets.get(preset_name, {}) if preset_name else {}
    device = spec.get("device", base.get("device", presets[defaults()["target"]]["device"]))
    default_precision = "fp32" if device == "cpu" else "fp16"
    return TargetSpec(
        preset=preset_name,
        device=device,
        vram_gb=float(spec.get("vram_gb", base.get("vram_gb", 0.0))),
        precision=spec.get("precision", base.get("precision", default_precision)),
        workers=int(spec["workers"]),
    )


def _read_rows(base: Path, value: Any, smap: SourceMap) -> rows_io.RowSet:
    if isinstance(value, list):
        return rows_io.read_inline(value, smap, "/rows")
    spec = {("jsonl" if value.endswith(".jsonl") else "csv"): value} if isinstance(value, str) else value
    pointer = "/rows" if isinstance(value, str) else ("/rows/jsonl" if "jsonl" in spec else "/rows/csv")
    rel = spec.get("csv") or spec.get("jsonl")
    path = _resolve_path(base, rel)
    kind = not_a_file(path)
    if kind is not None:
        raise DiagnosticError(
            Diagnostic("VP027", f"rows file '{rel}' {kind}", smap.value(pointer), help="give the path of a file")
        )
    if not path.is_file():
        raise DiagnosticError(
            Diagnostic(
                "VP020",
                f"rows file '{rel}' does not exist",
                smap.value(pointer),
                help=f"paths are relative to the recipe's folder ({display_path(base)})",
            )
        )
    id_column = spec.get("id") if isinstance(spec, dict) else None
    id_span = smap.value("/rows/id") if id_column else None
    shown = display_path(path)
    if "jsonl" in spec:
        return rows_io.read_jsonl(path, shown, id_column, id_span)
    given = with_defaults(spec, "rows")
    delimiter = spec.get("delimiter", "\t" if rel.endswith(".tsv") else given["delimiter"])
    return rows_io.read_csv(path, shown, delimiter, given["encoding"], id_column, id_span)
