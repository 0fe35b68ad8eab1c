"""The diagnostic record every layer of vpipe reports problems with.

A diagnostic says *what* is wrong (code + message), *where* (a span in a recipe,
CSV or other input file) and *what to do* (help). The compiler never raises a bare
exception at a user: it raises `DiagnosticError` carrying one or more of these.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    REMARK = "remark"


@dataclass(frozen=True)
class Span:
    """A range in an input file. Lines and columns are 1-based; `end_*` is inclusive of
    the last character's column + 1 (half-open), as editors expect."""

    file: str
    line: int = 0
    col: int = 0
    end_line: int = 0
    end_col: int = 0
    pointer: str = ""  # JSON pointer into the recipe document, when one applies

    @property
    def has_position(self) -> bool:
        return self.line > 0

    def label(self) -> str:
        if not self.has_position:
            return self.file
        return f"{self.file}:{self.line}:{self.col}"

    def with_file(self, file: str) -> Span:
        return replace(self, file=file)


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    span: Span | None = None
    severity: Severity = Severity.ERROR
    help: str | None = None
    notes: tuple[str, ...] = ()
    label: str | None = None  # short text shown under the caret line

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
        }
        if self.span is not None:
            out["file"] = self.span.file
            if self.span.has_position:
                out.update(
                    line=self.span.line,
                    col=self.span.col,
                    end_line=self.span.end_line,
                    end_col=self.span.end_col,
                )
            if self.span.pointer:
                out["pointer"] = self.span.pointer
        if self.help:
            out["help"] = self.help
        if self.notes:
            out["notes"] = list(self.notes)
        return out


@dataclass
class DiagnosticBag:
    """Collects diagnostics while a stage keeps going, so one run reports every problem
    it can find instead of stopping at the first."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, diagnostic: Diagnostic) -> None:
        self.items.append(diagnostic)

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.items.extend(diagnostics)

    def error(self, code: str, message: str, span: Span | None = None, **kw: object) -> None:
        self.add(Diagnostic(code, message, span, Severity.ERROR, **kw))  # type: ignore[arg-type]

    def warning(self, code: str, message: str, span: Span | None = None, **kw: object) -> None:
        self.add(Diagnostic(code, message, span, Severity.WARNING, **kw))  # type: ignore[arg-type]

    def remark(self, code: str, message: str, span: Span | None = None, **kw: object) -> None:
        self.add(Diagnostic(code, message, span, Severity.REMARK, **kw))  # type: ignore[arg-type]

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.items)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def raise_if_errors(self) -> None:
        if self.has_errors:
            raise DiagnosticError(self.items)


class DiagnosticError(Exception):
    """Raised when a stage cannot continue. Carries every diagnostic found so far."""

    def __init__(self, diagnostics: Diagnostic | Iterable[Diagnostic]) -> None:
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        first = self.diagnostics[0] if self.diagnostics else None
        super().__init__(f"{first.code} {first.message}" if first else "error")


def error(code: str, message: str, span: Span | None = None, **kw: object) -> DiagnosticError:
    """Shorthand: `raise error("VP301", "...", span, help="...")`."""
    return DiagnosticError(Diagnostic(code, message, span, Severity.ERROR, **kw))  # type: ignore[arg-type]


def display_path(path: str | Path, base: Path | None = None) -> str:
    """Paths in diagnostics are shown relative to the working directory when possible,
    so the rendered `file:line:col` can be clicked in a terminal."""
    p = Path(path)
    base = base or Path.cwd()
    try:
        return str(p.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(p)
