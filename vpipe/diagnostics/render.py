"""Render diagnostics the way ruff and rustc do: a clickable `file:line:col` header, a
code frame with a caret underline, then `= help:` lines. Also the `--format json` form."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

from vpipe.diagnostics.diagnostic import Diagnostic, Severity, Span

_ANSI = {
    "red": "\x1b[1;31m",
    "yellow": "\x1b[1;33m",
    "cyan": "\x1b[1;36m",
    "blue": "\x1b[1;34m",
    "bold": "\x1b[1m",
    "reset": "\x1b[0m",
}


class SourceCache:
    """Reads each input file once so code frames can quote it. Unreadable files simply
    get no code frame; rendering a diagnostic must never fail."""

    def __init__(self, overrides: dict[str, str] | None = None) -> None:
        self._texts: dict[str, list[str] | None] = {}
        for name, text in (overrides or {}).items():
            self._texts[name] = text.splitlines()

    def lines(self, file: str) -> list[str] | None:
        if file not in self._texts:
            try:  # undecodable bytes are shown replaced: the frame still locates the problem
                self._texts[file] = Path(file).read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                self._texts[file] = None
        return self._texts[file]


def for_terminal(text: str, keep: str = "") -> str:
    """`text` with every control and invisible formatting character written as an escape
    (ESC as \\x1b, U+202E as \\u202e): input quoted in a diagnostic can never move the cursor,
    clear the screen, set the window title or reorder what the terminal shows."""
    if text.isprintable() and not any(unicodedata.category(ch) == "Cf" for ch in text):
        return text
    out = []
    for ch in text:
        if ch in keep or (ch.isprintable() and unicodedata.category(ch) != "Cf"):
            out.append(ch)
        elif ord(ch) < 0x100:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}")
    return "".join(out)


def _paint(text: str, style: str, color: bool) -> str:
    return f"{_ANSI[style]}{text}{_ANSI['reset']}" if color else text


def render_one(d: Diagnostic, sources: SourceCache | None = None, color: bool = False) -> str:
    sources = sources or SourceCache()
    sev = "" if d.severity is Severity.ERROR else f"{d.severity.value}: "
    code_style = {"error": "red", "warning": "yellow", "remark": "cyan"}[d.severity.value]
    where = for_terminal(d.span.label()) if d.span else "vpipe"
    header = f"{_paint(where, 'bold', color)}: {_paint(d.code, code_style, color)} {sev}{for_terminal(d.message)}"
    out = [header]
    frame = _code_frame(d, sources, color, code_style)
    out.extend(frame)
    gutter = " " * (len(str(d.span.line)) + 1) if (d.span and frame) else ""
    for note in d.notes:
        out.append(f"{gutter}{_paint('=', 'blue', color)} note: {for_terminal(note)}")
    if d.help:
        out.append(f"{gutter}{_paint('=', 'blue', color)} help: {for_terminal(d.help)}")
    return "\n".join(out)


def _code_frame(d: Diagnostic, sources: SourceCache, color: bool, style: str) -> list[str]:
    span = d.span
    if span is None or not span.has_position:
        return []
    lines = sources.lines(span.file)
    if not lines:
        return []
    if span.line > len(lines):  # e.g. "unexpected end of file": show the last line
        span = Span(span.file, len(lines), len(lines[-1]) + 1, len(lines), len(lines[-1]) + 2)
    width = len(str(span.line))
    bar = _paint(" " * width + " |", "blue", color)
    out = [bar]
    if span.line >= 2 and lines[span.line - 2].strip():
        prev = span.line - 1
        out.append(_paint(f"{prev:>{width}} |", "blue", color) + f" {for_terminal(lines[prev - 1], keep=chr(9))}")
    text = lines[span.line - 1]
    out.append(_paint(f"{span.line:>{width}} |", "blue", color) + f" {for_terminal(text, keep=chr(9))}")
    start = max(span.col, 1)
    line_end = len(text.rstrip()) + 1
    if span.end_line == span.line and span.end_col > start:
        end = min(span.end_col, max(line_end, start + 1))
    else:  # multi-line spans underline to the end of their first line
        end = max(line_end, start + 1)
    carets = "^" * max(end - start, 1)
    label = f" {d.label}" if d.label else ""
    out.append(bar + " " + " " * (start - 1) + _paint(carets + label, style, color))
    out.append(bar)
    return out


def render_text(diagnostics: Iterable[Diagnostic], sources: SourceCache | None = None, color: bool = False) -> str:
    sources = sources or SourceCache()
    blocks = [render_one(d, sources, color) for d in diagnostics]
    return "\n\n".join(blocks)


def render_json(diagnostics: Sequence[Diagnostic]) -> str:
    return json.dumps([d.to_json() for d in diagnostics], indent=2, ensure_ascii=False)


def summary_line(diagnostics: Sequence[Diagnostic]) -> str:
    errors = sum(1 for d in diagnostics if d.severity is Severity.ERROR)
    warnings = sum(1 for d in diagnostics if d.severity is Severity.WARNING)
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return "found " + " and ".join(parts) if parts else "no problems found"
