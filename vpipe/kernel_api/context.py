"""What a kernel may use while it runs: the current row, a scratch directory, per-process
resources (loaded models), the target, and a way to report warnings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from vpipe.data.rowdata import RowValue
from vpipe.diagnostics.diagnostic import Diagnostic, Severity, Span

T = TypeVar("T")

# Loaded models and other expensive objects, shared by all rows a process renders.
_RESOURCES: dict[str, Any] = {}


@dataclass
class Target:
    device: str = "cpu"
    precision: str = "fp32"
    vram_gb: float = 0.0


@dataclass
class RunContext:
    work_dir: Path
    row: RowValue | None = None
    target: Target = field(default_factory=Target)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    artifacts: dict[str, Any] = field(default_factory=dict)  # measurements kernels report (QC, remarks)
    op_span: Span | None = None  # recipe location of the op running now (set by the executor)
    store_dir: Path | None = None  # large shared artefacts that outlive the op (a normalised source)
    batch: Any = None  # the RowBatch (kernel_api.batch) of the rows rendered together, if any (batch-rows)

    def resource(self, key: str, factory: Callable[[], T]) -> T:
        """Load once per process: `rt.resource("piper:joe", lambda: load_voice(...))`."""
        if key not in _RESOURCES:
            _RESOURCES[key] = factory()
        value: T = _RESOURCES[key]
        return value

    def warn(self, code: str, message: str, help: str | None = None) -> None:
        """A warning about this row (at its line in the rows file), or about shared work
        (at the recipe line of the op that found it)."""
        span = self.row_span() or self.op_span
        self.diagnostics.append(Diagnostic(code, message, span, Severity.WARNING, help=help))

    def row_span(self) -> Span | None:
        return Span(self.row.file, self.row.line, 1, self.row.line, 2) if self.row else None
