"""Checks across the recipe's parts, once each part is loaded: the lip-sync backend fits the
source and has its weights, the template's variables are slots and columns, the template
follows the transcript, the output path is writable, and every row renders (its problems
attached to the row, so it fails alone).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from vpipe.diagnostics.diagnostic import Diagnostic, DiagnosticBag, Span, display_path
from vpipe.frontend import rows as rows_io
from vpipe.frontend.csvrows import StreamedRows, id_digest
from vpipe.frontend.recipe import LipsyncSpec, OutputSpec, Recipe, SlotSpec, SourceSpec
from vpipe.frontend.yamlmap import SourceMap
from vpipe.kernel_api import backends
from vpipe.lexicon import Lexicon, LexiconError, parse_row_column
from vpipe.outputs import CONTAINER_CODECS, ODD_SIZE_444_CODECS, OUTPUT_EXTENSIONS, confine
from vpipe.templates import TemplateProgram, TemplateRenderError
from vpipe.text import control_character, words_of

BUILTIN_VARIABLES = frozenset({"row_index", "row_id"})


def check_lipsync_source(bag: DiagnosticBag, lipsync: LipsyncSpec, kind: str, smap: SourceMap) -> None:
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


def check_weights(bag: DiagnosticBag, lipsync: LipsyncSpec, smap: SourceMap) -> None:
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


def check_template_variables(
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
        elif rowset.uniform and var not in columns and (other := _other_delimiter(rowset, var)) is not None:
            shown = other.replace("\t", "\\t")
            bag.error(
                "VP040",
                f"{rowset.file} is separated by '{shown}': its header is read as one column '{rowset.columns[0]}'",
                rowset.header_span,
                help=f"set rows: {{csv: {Path(rowset.file).name}, delimiter: '{shown}'}}",
            )
            break
        elif rowset.uniform and var not in columns:
            guess = difflib.get_close_matches(var, sorted(rowset.columns), n=1, cutoff=0.6)
            bag.error(
                "VP041",
                f"template uses '{var}', which is not a column of {rowset.file}",
                span,
                help=f"did you mean '{guess[0]}'?" if guess else None,
                notes=(f"columns are: {', '.join(rowset.columns)}",),
            )


def _other_delimiter(rowset: rows_io.RowSet, var: str) -> str | None:
    """The usual delimiter (';', tab, '|') that splits a one-column header into names, `var` among them."""
    if len(rowset.columns) != 1:
        return None
    for other in (";", "\t", "|"):
        if var in [part.strip() for part in rowset.columns[0].split(other)]:
            return other
    return None


def check_transcript(
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
    if exc.kind == "path":
        problems.append(
            Diagnostic(
                "VP036",
                f"row {row.index}: {exc}",
                row.span,
                help="row values in output.path must be plain names; `{{ value | slug }}` makes any value safe",
            )
        )
        return
    problems.append(Diagnostic("VP035", f"row {row.index}: cannot render the {what}: {exc}", row.span))


def row_variables(row: rows_io.Row) -> dict[str, Any]:
    return {**row.values, "row_index": row.index, "row_id": row.id}


def lexicon_help() -> str:
    return "write ARPAbet phones in capitals ('Z OW IY') or a lower-case respelling ('zoh ee'); `vpipe explain VP050` lists the phones"


def check_output_path(bag: DiagnosticBag, output: OutputSpec, codec_given: bool, smap: SourceMap) -> None:
    """The output path's fixed extension is one vpipe writes (VP036) and holds the codec (VP037)."""
    path_template = output.path_template
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
                smap.value("/output/codec") if codec_given else smap.value("/output/path"),
                help=f"for {extension} use codec {' or '.join(CONTAINER_CODECS[extension])}",
            )


def check_output_size(
    bag: DiagnosticBag, source: SourceSpec, lipsync: LipsyncSpec, output: OutputSpec, smap: SourceMap
) -> None:
    """An odd-sized picture that is re-rendered cannot be H.264/HEVC 4:2:0: it is written 4:4:4
    (every pixel kept), which browsers and most phones do not play — said before anything runs
    (VP059). A row whose picture is copied keeps the source's own stream."""
    size = (source.media.width, source.media.height) if source.media else source.image_size
    if size is None or not (size[0] % 2 or size[1] % 2) or output.codec not in ODD_SIZE_444_CODECS:
        return
    if source.kind == "video" and lipsync.model == "none":
        return
    bag.warning(
        "VP059",
        f"the source is {size[0]}×{size[1]}: {output.codec} 4:2:0 needs an even size, so rows are written "
        f"{output.codec} 4:4:4, which browsers and most phones do not play",
        smap.value("/output/codec"),  # the output section, or the source's line when there is none
        help="crop or scale the recording to an even size (ffmpeg -vf crop=trunc(iw/2)*2:trunc(ih/2)*2), "
        "or write vp9 into .webm (output: {codec: vp9, path: out/{{ row_id }}.webm}), which keeps 4:2:0",
    )


MAX_NAME_BYTES = 200  # NAME_MAX is 255; the temporary file's name adds up to ~40 to the output's


def check_rows(recipe: Recipe, inputs: tuple[Path, ...] = ()) -> tuple[Sequence[rows_io.Row], list[Diagnostic]]:
    """Render every row's script and output path once, attaching per-row problems (and the
    row's output file). Returns the rows and the template-level problems rendering revealed
    (reported once). No output may be, or lie inside, one of the recipe's `inputs`."""
    resolved_inputs = {p.resolve(): p for p in inputs}
    rows = recipe.rows.rows  # streamed rows (csvrows): only the problems found and the outputs' digests are kept
    checked: list[rows_io.Row] = []
    kept: dict[int, tuple[Diagnostic, ...]] = {}
    no_output: set[int] = set()
    template_level: list[Diagnostic] = []
    outputs: dict[bytes, int] = {}  # output file's digest → the row writing it (frontend.csvrows: the bound)
    folders: dict[Path, Path] = {}  # resolved output folders, shared by the rows
    for row in rows:
        problems = list(row.problems)
        if any(d.is_error for d in problems):  # a row that could not be read is not rendered
            checked.append(row)
            kept[row.index] = row.problems
            no_output.add(row.index)
            continue
        values = row_variables(row)
        lexicon = recipe.voice.lexicon
        if recipe.voice.lexicon_column:
            cell = row.values.get(recipe.voice.lexicon_column)
            if cell:
                try:
                    lexicon = lexicon.merged(parse_row_column(str(cell)))
                except LexiconError as exc:
                    problems.append(Diagnostic("VP050", f"row {row.index}: {exc}", row.span, help=lexicon_help()))
        _script_problems(recipe, row, values, problems, template_level, lexicon)
        output = _output_problems(recipe, row, values, outputs, problems, template_level, resolved_inputs, folders)
        if problems:
            kept[row.index] = tuple(problems)
        if output is None:
            no_output.add(row.index)
        if not isinstance(rows, StreamedRows):
            checked.append(replace(row, problems=tuple(problems), output=output))
    if isinstance(rows, StreamedRows):  # each row's output file is found again as it is read
        return rows.finished(partial(_with_output, recipe, frozenset(no_output), folders), kept), template_level
    return tuple(checked), template_level


def _with_output(recipe: Recipe, no_output: frozenset[int], folders: dict[Path, Path], row: rows_io.Row) -> rows_io.Row:
    """A streamed row with the output file `check_rows` found for it (none where it found none)."""
    if row.index in no_output:
        return row
    target = confine(recipe.output_program.render(row_variables(row)).text, recipe.dir, recipe.output.root, folders)
    return replace(row, output=target)


def _script_problems(
    recipe: Recipe,
    row: rows_io.Row,
    values: dict[str, Any],
    problems: list[Diagnostic],
    template_level: list[Diagnostic],
    lexicon: Lexicon,
) -> None:
    """An empty slot value (VP047), one too long for its slot (VP048), one the voice cannot
    speak (VP305, the check the synthesizer makes at run time), a template the row cannot
    render."""
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
            elif (problem := control_character(text)) is not None:
                problems.append(
                    Diagnostic(
                        "VP058",
                        f"row {row.index}: '{slot.name}' {problem}",
                        row.span,
                        help="remove it from the value: only printable text can be spoken",
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
            elif unspeakable := _unspeakable(text, lexicon):
                problems.append(
                    Diagnostic(
                        "VP305",
                        f"row {row.index}: '{slot.name}' cannot be spoken: {unspeakable}",
                        row.span,
                        help="give a Latin-script spelling of the value, or a pronunciation in the lexicon",
                    )
                )
    except TemplateRenderError as exc:
        _add_render_problem(exc, row, recipe.rows, recipe.span("/template"), "template", problems, template_level)


def _unspeakable(text: str, lexicon: Lexicon) -> str | None:
    """Why an English voice cannot say `text`, or None; words with a pronunciation in the
    lexicon are spoken from it."""
    from vpipe.speech.speakable import check_speakable, describe

    problems = [p for p in check_speakable(text) if not any(lexicon.lookup(w) for w in p.text.split())]
    return describe(problems) if problems else None


def map_slot_columns(
    bag: DiagnosticBag, rowset: rows_io.RowSet, slots: list[SlotSpec], smap: SourceMap
) -> rows_io.RowSet:
    """A slot with `column:` takes its value from that column (the template keeps the slot's
    name): each row gets the slot's variable, copied from the column."""
    mapped = [s for s in slots if s.column]
    if not mapped:
        return rowset
    for s in mapped:
        if rowset.uniform and s.column not in rowset.columns:
            guess = difflib.get_close_matches(s.column or "", sorted(rowset.columns), n=1, cutoff=0.6)
            bag.error(
                "VP041",
                f"slot '{s.name}' reads column '{s.column}', which is not a column of {rowset.file}",
                smap.value(f"/slots/{s.name}/column"),
                help=f"did you mean '{guess[0]}'?" if guess else None,
                notes=(f"columns are: {', '.join(rowset.columns)}",),
            )
    copy = partial(rows_io.with_columns_copied, tuple((s.name, str(s.column)) for s in mapped))
    rows = rowset.rows.finished(copy) if isinstance(rowset.rows, StreamedRows) else tuple(map(copy, rowset.rows))
    columns = tuple(dict.fromkeys([*rowset.columns, *(s.name for s in mapped)]))
    return replace(rowset, rows=rows, columns=columns)


def _output_problems(
    recipe: Recipe,
    row: rows_io.Row,
    values: dict[str, Any],
    outputs: dict[bytes, int],
    problems: list[Diagnostic],
    template_level: list[Diagnostic],
    inputs: dict[Path, Path],
    folders: dict[Path, Path] | None = None,
) -> Path | None:
    """The row's output path: inside the output folder, a file name that fits, none of the
    recipe's inputs (VP038), a container that holds the codec, and no other row's file
    (VP036, VP037, VP049). Returns the output file when it is fine."""
    try:
        rel = recipe.output_program.render(values).text
    except TemplateRenderError as exc:
        _add_render_problem(exc, row, recipe.rows, recipe.span("/output/path"), "output path", problems, template_level)
        return None
    target = confine(rel, recipe.dir, recipe.output.root, folders)
    problem = _target_problem(recipe, row, rel, target, outputs, inputs)
    if problem is not None:
        problems.append(problem)
        return None
    assert target is not None  # a path outside the output folder is a problem above
    outputs[id_digest(str(target))] = row.index
    return target


def _target_problem(
    recipe: Recipe, row: rows_io.Row, rel: str, target: Path | None, outputs: dict[bytes, int], inputs: dict[Path, Path]
) -> Diagnostic | None:
    """The first thing wrong with the row's confined output file (None: it is fine)."""
    ospan = recipe.span("/output/path")
    if target is None:
        return Diagnostic(
            "VP036",
            f"row {row.index}: output path '{rel}' leaves the output directory '{display_path(recipe.output.root)}'",
            row.span,
            help="row values may not contain '..' or absolute paths; use the slug filter",
        )
    if not target.stem or target.stem.startswith("."):
        return Diagnostic(
            "VP036",
            f"row {row.index}: output file name is empty in '{rel}'",
            row.span,
            help="a value used in output.path is empty; add {{ row_id }} to the path",
        )
    if len(target.name.encode("utf-8")) > MAX_NAME_BYTES or len(str(target).encode("utf-8")) > 4000:
        return Diagnostic(
            "VP036",
            f"row {row.index}: output file name is {len(target.name.encode('utf-8')):,} bytes long; "
            f"at most {MAX_NAME_BYTES} fit",
            row.span,
            help="shorten the value, or use {{ row_id }} in output.path",
        )
    if (clash := _input_at(target, inputs)) is not None:
        return Diagnostic(
            "VP038",
            f"row {row.index}: output '{rel}' would overwrite the recipe's input '{display_path(clash)}'",
            row.span,
            help="outputs may never replace the source, rows, lexicon or weights; "
            "write them into their own folder, e.g. out/{{ row_id }}.mp4",
        )
    suffix = target.suffix.lower()
    if suffix not in OUTPUT_EXTENSIONS:
        return Diagnostic(
            "VP036", f"row {row.index}: output path '{rel}' must end in {', '.join(OUTPUT_EXTENSIONS)}", ospan
        )
    if recipe.output.codec not in CONTAINER_CODECS[suffix]:
        return Diagnostic(
            "VP037",
            f"row {row.index}: a {suffix} file cannot hold {recipe.output.codec} video",
            ospan,
            help=f"use output.codec {' or '.join(CONTAINER_CODECS[suffix])}",
        )
    if (earlier := outputs.get(id_digest(str(target)))) is not None:
        return Diagnostic(
            "VP049",
            f"row {row.index} writes the same file as row {earlier}: '{rel}'",
            row.span,
            help="put a unique column such as {{ row_id }} in output.path",
        )
    return None


def _input_at(target: Path, inputs: dict[Path, Path]) -> Path | None:
    """The input that `target` is (through any link) or lies inside (a weights folder).
    `target` is resolved already (`confine` returns the real path, a link at the file
    followed): resolving it again cost a system call per path component and row."""
    real = os.path.join(str(target), "")
    for resolved, given in inputs.items():
        if real.startswith(os.path.join(str(resolved), "")):
            return given
    return None
