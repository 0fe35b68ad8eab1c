"""Frontend driver: recipe file → validated, typed `Recipe` plus every diagnostic found.

Recipe-level errors (schema, missing files, template syntax) stop the load with a
`DiagnosticError` carrying all of them. Row-level problems (an empty value, a path that
escapes the output directory) are attached to their rows: those rows fail, others render.
"""

from __future__ import annotations

import difflib
from dataclasses import replace
from pathlib import Path
from typing import Any

from jinja2 import TemplateSyntaxError

from vpipe.catalog import hardware_presets
from vpipe.diagnostics.diagnostic import Diagnostic, DiagnosticBag, DiagnosticError, Severity, Span, display_path
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
from vpipe.frontend.schema import validate
from vpipe.frontend.yamlmap import SourceMap, load_yaml
from vpipe.kernel_api import backends
from vpipe.lexicon import Lexicon, LexiconError, parse_mapping, parse_row_column
from vpipe.outputs import CONTAINER_CODECS, OUTPUT_EXTENSIONS, confine, output_root
from vpipe.probe import MediaInfo, ProbeError, probe_image, probe_video
from vpipe.templates import TemplateProgram, TemplateRenderError
from vpipe.text import words_of

BUILTIN_VARIABLES = frozenset({"row_index", "row_id"})


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


def _check_file(bag: DiagnosticBag, base: Path, value: str, pointer: str, smap: SourceMap, what: str) -> Path:
    path = _resolve_path(base, value)
    if not path.is_file():
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


def load_recipe(path: str | Path) -> tuple[Recipe, list[Diagnostic]]:
    file = Path(path)
    shown = display_path(file)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DiagnosticError(Diagnostic("VP001", f"recipe file '{shown}' does not exist", Span(shown))) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DiagnosticError(Diagnostic("VP001", f"cannot read recipe '{shown}': {exc}", Span(shown))) from None
    data, smap = load_yaml(text, shown)
    schema_errors = validate(data, smap)
    if any(d.is_error for d in schema_errors):
        raise DiagnosticError(schema_errors)
    return _build(file.resolve(), data, smap)


def _aligner(bag: DiagnosticBag, base: Path, spec: dict[str, Any], smap: SourceMap) -> AlignerSpec:
    folders: dict[str, Path | None] = {}
    for key in ("align_model", "asr_model"):
        folders[key] = _resolve_path(base, spec[key]) if key in spec else None
        if folders[key] is not None and not folders[key].is_dir():  # type: ignore[union-attr]
            bag.error(
                "VP020",
                f"model folder '{spec[key]}' does not exist",
                smap.value(f"/source/aligner/{key}"),
                help="vpipe downloads no models: give the folder the model was saved to",
            )
    return AlignerSpec(
        spec.get("engine") or _default_backend("align"),
        folders["align_model"],
        folders["asr_model"],
        spec.get("language", "en"),
    )


def _build(file: Path, data: dict[str, Any], smap: SourceMap) -> tuple[Recipe, list[Diagnostic]]:
    bag = DiagnosticBag()
    base = file.parent

    # --- source -----------------------------------------------------------------------
    src = data["source"]
    kind = "video" if "video" in src else "image"
    source_path = _check_file(bag, base, src[kind], f"/source/{kind}", smap, f"source {kind}")
    audio = _check_file(bag, base, src["audio"], "/source/audio", smap, "source audio") if "audio" in src else None
    face = FaceSelect(**src.get("face", {}))
    media, image_size = _probe_source(bag, kind, source_path, audio, smap, has_slots=bool(data.get("slots")))
    aligner = _aligner(bag, base, src.get("aligner") or {}, smap)
    source = SourceSpec(kind, source_path, src.get("transcript"), audio, face, media, image_size, aligner)

    # --- slots --------------------------------------------------------------------------
    slots: list[SlotSpec] = []
    for name, spec in (data.get("slots") or {}).items():
        spec = {"say": spec} if isinstance(spec, str) else spec
        slot = SlotSpec(name, spec["say"], spec.get("occurrence"), spec.get("max_chars", 60))
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
    slot_names = frozenset(s.name for s in slots)

    # --- template -------------------------------------------------------------------------
    template: TemplateProgram | None = None
    try:
        template = TemplateProgram(data["template"], slot_names)
    except TemplateSyntaxError as exc:
        bag.error("VP030", f"template syntax error: {exc.message}", _template_span(smap, "/template", exc.lineno or 1))

    # --- voice / lexicon ------------------------------------------------------------------
    v = data.get("voice", {})
    lexicon, lexicon_file = _lexicon(bag, base, v.get("lexicon"), smap)
    engine = v.get("engine") or _default_backend("tts")
    tts = backends.find("tts", engine)
    if "voice" in v and tts is not None and tts.resolve_voice is not None:
        try:
            tts.resolve_voice(v["voice"], base)
        except LookupError as exc:
            bag.error(
                "VP051", str(exc.args[0]), smap.value("/voice/voice"), help="`vpipe models --task tts` lists the voices"
            )
    voice = VoiceSpec(
        engine=engine,
        voice=v.get("voice", tts.default_voice if tts is not None and tts.default_voice else ""),
        match_speaker=v.get("match_speaker", True),
        lexicon=lexicon,
        lexicon_file=lexicon_file,
        lexicon_column=v.get("lexicon_column"),
        duration=v.get("duration", "auto"),
        max_stretch=float(v.get("max_stretch", 0.2)),
        speed=float(v.get("speed", 1.0)),
    )

    # --- lipsync / target / output / qc -----------------------------------------------------
    ls = data.get("lipsync", {})
    weights = _resolve_path(base, ls["weights"]) if "weights" in ls else None
    if weights is not None and not weights.is_dir():
        bag.error("VP020", f"weights directory '{ls['weights']}' does not exist", smap.value("/lipsync/weights"))
    lipsync = LipsyncSpec(
        ls.get("model", "auto"), ls.get("quality", "balanced"), weights, float(ls.get("margin_ms", 120))
    )
    _check_weights(bag, lipsync, smap)
    _check_lipsync_source(bag, lipsync, kind, smap)
    target = _target(data.get("target", "cpu"))
    out = data.get("output", {})
    path_template = out.get("path", "out/{{ row_id }}.mp4")
    output = OutputSpec(
        path_template=path_template,
        root=(base / output_root(path_template)).resolve()
        if not Path(output_root(path_template)).is_absolute()
        else Path(output_root(path_template)).resolve(),
        codec=out.get("codec", "h264"),
        crf=out.get("crf", 12),
        preset=out.get("preset", "veryfast"),
        audio_bitrate_kbps=out.get("audio_bitrate_kbps", 128),
    )
    static_tail = path_template.rsplit("}}", 1)[-1]
    if "." in static_tail and not static_tail.lower().endswith(OUTPUT_EXTENSIONS):
        bag.error(
            "VP036",
            f"output path must end in {', '.join(OUTPUT_EXTENSIONS)}",
            smap.value("/output/path"),
            help='e.g. output: {path: "out/{{ row_id }}.mp4"}',
        )
    elif static_tail.lower().endswith(OUTPUT_EXTENSIONS):
        extension = "." + static_tail.lower().rsplit(".", 1)[-1]
        if output.codec not in CONTAINER_CODECS[extension]:
            bag.error(
                "VP037",
                f"a {extension} file cannot hold {output.codec} video",
                smap.value("/output/codec") if "codec" in out else smap.value("/output/path"),
                help=f"for {extension} use codec {' or '.join(CONTAINER_CODECS[extension])}",
            )
    output_program: TemplateProgram | None = None
    try:
        output_program = TemplateProgram(path_template)
    except TemplateSyntaxError as exc:
        bag.error("VP030", f"output path template syntax error: {exc.message}", smap.value("/output/path"))
    qc = QcSpec(**data.get("qc", {}))

    # --- rows -------------------------------------------------------------------------------
    rowset = None
    try:
        rowset = _read_rows(base, data["rows"], smap)
    except DiagnosticError as exc:
        bag.extend(exc.diagnostics)
    if rowset is not None:
        bag.extend(rowset.problems)

    bag.raise_if_errors()
    assert template is not None and output_program is not None and rowset is not None

    # --- cross checks: template ↔ slots ↔ columns ↔ transcript -------------------------------
    _check_template_variables(bag, template, slots, rowset, kind, smap)
    if kind == "video" and source.transcript:
        _check_transcript(bag, template, slots, source.transcript, smap)
    bag.raise_if_errors()

    recipe = Recipe(
        file=file,
        name=str(data.get("name") or file.stem),
        source=source,
        slots=tuple(slots),
        template=template,
        rows=rowset,
        voice=voice,
        lipsync=lipsync,
        target=target,
        output=output,
        qc=qc,
        smap=smap,
        output_program=output_program,
    )
    checked, template_level = check_rows(recipe)
    if template_level:
        raise DiagnosticError(template_level)
    recipe = replace(recipe, rows=replace(rowset, rows=checked))
    row_diags = [d for r in checked for d in r.problems]
    return recipe, [d for d in bag.items if not d.is_error] + row_diags


def _default_backend(task: backends.Task) -> str:
    """The engine a recipe gets when it names none: the declared default of the task."""
    chosen = backends.default(task)
    return chosen.name if chosen is not None else ""


def _check_lipsync_source(bag: DiagnosticBag, lipsync: LipsyncSpec, kind: str, smap: SourceMap) -> None:
    """A named lip-sync backend must animate this kind of source, as it declares
    (vpipe.kernel_api.backends)."""
    spec = backends.find("lipsync", lipsync.model)
    if spec is None:  # auto or none
        return
    if not spec.animates(kind):
        fitting = " or ".join(f"'{b.name}'" for b in backends.backends("lipsync") if b.animates(kind))
        needs = "a video source" if "video" in spec.sources else "a still image source"
        why = ": it reuses mouth shapes from the recording" if spec.needs_inventory else ""
        bag.error(
            "VP018",
            f"lipsync model '{spec.name}' needs {needs}{why}",
            smap.value("/lipsync/model"),
            help=f"use {fitting or 'none'} (or 'auto') for a {'still image' if kind == 'image' else 'video'}",
        )


def _lexicon(bag: DiagnosticBag, base: Path, value: Any, smap: SourceMap) -> tuple[Lexicon, Path | None]:
    if value is None:
        return Lexicon(), None
    if isinstance(value, dict):
        lex, errors = parse_mapping(value)
        for e in errors:
            bag.error("VP050", str(e), smap.value(f"/voice/lexicon/{e.word}"), help=_lexicon_help())
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
        bag.error("VP050", "a lexicon file must map words to pronunciations", lsmap.value(""), help=_lexicon_help())
        return Lexicon(), path
    lex, errors = parse_mapping(data)
    for e in errors:
        bag.error("VP050", str(e), lsmap.value(f"/{e.word}"), help=_lexicon_help())
    return lex, path


def _lexicon_help() -> str:
    return "write ARPAbet phones in capitals ('Z OW IY') or a lower-case respelling ('zoh ee'); `vpipe explain VP050` lists the phones"


def _target(value: Any) -> TargetSpec:
    presets = hardware_presets()
    spec = {"preset": value} if isinstance(value, str) else dict(value)
    preset_name = spec.get("preset")
    base = presets.get(preset_name, {}) if preset_name else {}
    device = spec.get("device", base.get("device", "cpu"))
    default_precision = "fp32" if device == "cpu" else "fp16"
    return TargetSpec(
        preset=preset_name,
        device=device,
        vram_gb=float(spec.get("vram_gb", base.get("vram_gb", 0.0))),
        precision=spec.get("precision", base.get("precision", default_precision)),
        workers=int(spec.get("workers", 1)),
    )


def _read_rows(base: Path, value: Any, smap: SourceMap) -> rows_io.RowSet:
    if isinstance(value, list):
        return rows_io.read_inline(value, smap, "/rows")
    spec = {("jsonl" if value.endswith(".jsonl") else "csv"): value} if isinstance(value, str) else value
    pointer = "/rows" if isinstance(value, str) else ("/rows/jsonl" if "jsonl" in spec else "/rows/csv")
    rel = spec.get("csv") or spec.get("jsonl")
    path = _resolve_path(base, rel)
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
    delimiter = spec.get("delimiter", "\t" if rel.endswith(".tsv") else ",")
    return rows_io.read_csv(path, shown, delimiter, spec.get("encoding", "utf-8"), id_column, id_span)


def _check_template_variables(
    bag: DiagnosticBag,
    template: TemplateProgram,
    slots: list[SlotSpec],
    rowset: rows_io.RowSet,
    kind: str,
    smap: SourceMap,
) -> None:
    slot_names = {s.name for s in slots}
    columns = set(rowset.columns) | BUILTIN_VARIABLES
    span = smap.value("/template")
    for slot in slots:
        if slot.name not in template.variables:
            bag.warning(
                "VP032",
                f"slot '{slot.name}' is not used in the template, so '{slot.say}' will be kept as recorded",
                smap.key(f"/slots/{slot.name}"),
                help=f"add {{{{ {slot.name} }}}} to the template where '{slot.say}' is said",
            )
    for var in sorted(template.variables - BUILTIN_VARIABLES):
        if kind == "video" and var not in slot_names:
            bag.error(
                "VP033",
                f"template variable '{var}' is not a slot: nothing in the recording can be replaced by it",
                span,
                help=f"declare it under slots with the word it replaces, e.g. slots: {{{var}: {{say: WORD}}}}",
            )
        elif rowset.uniform and var not in columns:
            guess = difflib.get_close_matches(var, sorted(rowset.columns), n=1, cutoff=0.6)
            bag.error(
                "VP041",
                f"template uses '{var}', which is not a column of {rowset.file}",
                span,
                help=f"did you mean '{guess[0]}'?" if guess else None,
                notes=(f"columns are: {', '.join(rowset.columns)}",),
            )


def _check_transcript(
    bag: DiagnosticBag, template: TemplateProgram, slots: list[SlotSpec], transcript: str, smap: SourceMap
) -> None:
    """The template, with each slot read as its recorded words, should be a stretch of the
    transcript; if not, the in-context synthesis will not sound like the recording."""
    values: dict[str, Any] = {s.name: s.say for s in slots} | {"row_index": 1, "row_id": "1"}
    try:
        said = words_of(template.render(values).text)
    except TemplateRenderError:
        return  # variables are reported elsewhere
    heard = words_of(transcript)
    n = len(said)
    if n == 0 or any(heard[i : i + n] == said for i in range(len(heard) - n + 1)):
        return
    matcher = difflib.SequenceMatcher(a=said, b=heard, autojunk=False)
    diff = next((op for op in matcher.get_opcodes() if op[0] != "equal"), None)
    detail = ""
    if diff is not None:
        tag, i1, i2, j1, j2 = diff
        ours, theirs = " ".join(said[i1:i2]), " ".join(heard[j1:j2])
        detail = {
            "insert": f": the template leaves out '{theirs}'",
            "delete": f": the template adds '{ours}', which is not said",
            "replace": f": the template says '{ours}' where the recording says '{theirs}'",
        }[tag]
    bag.warning(
        "VP054",
        f"the template does not follow the transcript{detail}",
        smap.value("/template"),
        help="write the template as the recording's words with {{ slot }} in place of each slot word",
    )


def check_rows(recipe: Recipe) -> tuple[tuple[rows_io.Row, ...], list[Diagnostic]]:
    """Render every row's script and output path once, attaching per-row problems.
    Returns the rows and the template-level problems rendering revealed (reported once)."""
    checked: list[rows_io.Row] = []
    template_level: list[Diagnostic] = []
    outputs: dict[Path, int] = {}
    root = recipe.output.root
    tspan = recipe.span("/template")
    ospan = recipe.span("/output/path")
    for row in recipe.rows.rows:
        problems = list(row.problems)
        if any(d.is_error for d in problems):  # a row that could not be read is not rendered
            checked.append(row)
            continue
        values = row_variables(row)
        if recipe.voice.lexicon_column:
            cell = row.values.get(recipe.voice.lexicon_column)
            if cell:
                try:
                    parse_row_column(str(cell))
                except LexiconError as exc:
                    problems.append(Diagnostic("VP050", f"row {row.index}: {exc}", row.span, help=_lexicon_help()))
        try:
            rendered = recipe.template.render(values)
            for span in rendered.spans:
                slot = recipe.slot(span.name)
                text = span.text(rendered.text).strip()
                if not text:
                    problems.append(
                        Diagnostic(
                            "VP047",
                            f"row {row.index}: '{slot.name}' is empty",
                            row.span,
                            help=f'fill it in, or write {{{{ {slot.name} | default("...") }}}} in the template',
                        )
                    )
                elif len(text) > slot.max_chars:
                    problems.append(
                        Diagnostic(
                            "VP048",
                            f"row {row.index}: '{slot.name}' has {len(text)} characters; at most {slot.max_chars} fit a slot",
                            row.span,
                            help=f"shorten the value, or raise slots.{slot.name}.max_chars",
                        )
                    )
        except TemplateRenderError as exc:
            _add_render_problem(exc, row, recipe.rows, tspan, "template", problems, template_level)
        try:
            rel = recipe.output_program.render(values).text
            target = confine(rel, recipe.dir, recipe.output.root)
            if target is None:
                problems.append(
                    Diagnostic(
                        "VP036",
                        f"row {row.index}: output path '{rel}' leaves the output directory '{display_path(root)}'",
                        row.span,
                        help="row values may not contain '..' or absolute paths; use the slug filter",
                    )
                )
            elif not target.stem or target.stem.startswith("."):
                problems.append(
                    Diagnostic(
                        "VP036",
                        f"row {row.index}: output file name is empty in '{rel}'",
                        row.span,
                        help="a value used in output.path is empty; add {{ row_id }} to the path",
                    )
                )
            elif target.suffix.lower() not in OUTPUT_EXTENSIONS:
                problems.append(
                    Diagnostic(
                        "VP036",
                        f"row {row.index}: output path '{rel}' must end in {', '.join(OUTPUT_EXTENSIONS)}",
                        ospan,
                    )
                )
            elif recipe.output.codec not in CONTAINER_CODECS[target.suffix.lower()]:
                problems.append(
                    Diagnostic(
                        "VP037",
                        f"row {row.index}: a {target.suffix.lower()} file cannot hold {recipe.output.codec} video",
                        ospan,
                        help=f"use output.codec {' or '.join(CONTAINER_CODECS[target.suffix.lower()])}",
                    )
                )
            elif target in outputs:
                problems.append(
                    Diagnostic(
                        "VP049",
                        f"row {row.index} writes the same file as row {outputs[target]}: '{rel}'",
                        row.span,
                        help="put a unique column such as {{ row_id }} in output.path",
                    )
                )
            else:
                outputs[target] = row.index
        except TemplateRenderError as exc:
            _add_render_problem(exc, row, recipe.rows, ospan, "output path", problems, template_level)
        checked.append(replace(row, problems=tuple(problems)))
    return tuple(checked), template_level


def _add_render_problem(
    exc: TemplateRenderError,
    row: rows_io.Row,
    rowset: rows_io.RowSet,
    span: Span,
    what: str,
    problems: list[Diagnostic],
    template_level: list[Diagnostic],
) -> None:
    if exc.kind == "security":  # the template itself is unsafe, whatever the row: say it once
        d = Diagnostic(
            "VP034",
            f"the {what} is refused by the sandbox: {exc}",
            span,
            help="templates may read values and apply filters, not reach Python internals",
        )
        if d not in template_level:
            template_level.append(d)
        return
    if exc.kind == "undefined" and exc.variable:
        if rowset.uniform:
            problems.append(
                Diagnostic(
                    "VP041",
                    f"row {row.index}: {what} uses '{exc.variable}', which is not a column of {rowset.file}",
                    span,
                )
            )
        else:
            problems.append(
                Diagnostic(
                    "VP041",
                    f"row {row.index} has no '{exc.variable}'",
                    row.span,
                    help=f"add '{exc.variable}' to this row, or use {{{{ {exc.variable} | default(\"...\") }}}}",
                )
            )
        return
    problems.append(Diagnostic("VP035", f"row {row.index}: cannot render the {what}: {exc}", row.span))


def row_variables(row: rows_io.Row) -> dict[str, Any]:
    return {**row.values, "row_index": row.index, "row_id": row.id}


def errors_only(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.severity is Severity.ERROR]


def _check_weights(bag: DiagnosticBag, lipsync: LipsyncSpec, smap: SourceMap) -> None:
    """A model that reads weights (a backend that declares `needs_weights`, or a catalog model
    whose backend is not installed) must have its published weight files (VP023)."""
    from vpipe.weights import default_root, missing_weights

    spec = backends.find("lipsync", lipsync.model)
    if lipsync.model in backends.LIPSYNC_KEYWORDS or (spec is not None and not spec.needs_weights):
        return
    extra = [lipsync.weights] if lipsync.weights is not None and lipsync.weights.is_dir() else []
    missing = missing_weights(lipsync.model, extra)
    if missing is None:
        return
    model_id, problems = missing
    bag.error(
        "VP023",
        f"lipsync model '{lipsync.model}' needs weights vpipe cannot use: {'; '.join(problems)}",
        smap.value("/lipsync/model"),
        help=f"download the authors' files into {default_root() / model_id} (or set lipsync.weights: DIR, "
        "or $VPIPE_MODELS); `vpipe doctor` lists every model's files",
    )
