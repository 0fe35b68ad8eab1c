"""Kernels of the compiler's own constant-like ops: rows, texts, lexicon, templates.
They are cheap, so they are not cached on disk."""

from __future__ import annotations

from typing import Any

from vpipe.data.rowdata import RowValue, Script, ScriptSpan
from vpipe.diagnostics.diagnostic import Diagnostic, DiagnosticError, Span
from vpipe.ir.graph import Op, thaw
from vpipe.kernel_api.context import RunContext
from vpipe.kernel_api.registry import Kernel, kernel
from vpipe.lexicon import Lexicon, LexiconError, parse_row_column
from vpipe.templates import TemplateProgram, TemplateRenderError


@kernel("rows.row", backend="builtin")
class RowKernel(Kernel):
    cache = False
    value_keyed = True

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> RowValue:
        row: RowValue = rt.row
        return row


@kernel("text.const", backend="builtin")
class TextConst(Kernel):
    cache = False
    value_keyed = True

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> str:
        return str(op.attr("text"))


@kernel("speech.lexicon", backend="builtin")
class LexiconConst(Kernel):
    cache = False
    value_keyed = True

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> Lexicon:
        return Lexicon.from_json(thaw(op.attr("entries", {})))


_programs: dict[tuple[str, tuple[str, ...]], TemplateProgram] = {}


@kernel("template.render", backend="builtin")
class RenderTemplate(Kernel):
    cache = False
    value_keyed = True

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> Script:
        (row,) = inputs
        key = (str(op.attr("template")), tuple(op.attr("slots", ())))
        program = _programs.get(key)
        if program is None:
            program = _programs[key] = TemplateProgram(key[0], frozenset(key[1]))
        try:
            rendered = program.render(row.variables())
        except TemplateRenderError as exc:
            raise DiagnosticError(
                Diagnostic(
                    "VP035",
                    f"row {row.index}: cannot render the template: {exc}",
                    Span(row.file, row.line, 1, row.line, 2),
                )
            ) from None
        return Script(rendered.text, tuple(ScriptSpan(s.name, s.start, s.end) for s in rendered.spans))


@kernel("speech.row_lexicon", backend="builtin")
class RowLexicon(Kernel):
    cache = False
    value_keyed = True

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> Lexicon:
        lexicon, row = inputs
        cell = row.values.get(str(op.attr("column")))
        if cell is None or not str(cell).strip():
            return lexicon
        try:
            return lexicon.merged(parse_row_column(str(cell)))
        except LexiconError as exc:
            raise DiagnosticError(
                Diagnostic("VP050", f"row {row.index}: {exc}", Span(row.file, row.line, 1, row.line, 2))
            ) from None
