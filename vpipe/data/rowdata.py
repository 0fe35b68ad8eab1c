"""Run-time values of the per-row front: the row itself and its rendered script."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vpipe.data.codec import cacheable


@cacheable("RowValue")
@dataclass(frozen=True)
class RowValue:
    index: int  # 1-based
    id: str
    values: dict[str, Any]
    file: str  # where the row is written, for diagnostics
    line: int

    def variables(self) -> dict[str, Any]:
        return {**self.values, "row_index": self.index, "row_id": self.id}


@cacheable("ScriptSpan")
@dataclass(frozen=True)
class ScriptSpan:
    name: str
    start: int
    end: int


@cacheable("Script")
@dataclass(frozen=True)
class Script:
    text: str
    spans: tuple[ScriptSpan, ...]

    def slot_text(self, name: str) -> str:
        for s in self.spans:
            if s.name == name:
                return self.text[s.start : s.end]
        raise KeyError(name)
