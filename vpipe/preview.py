"""`vpipe preview`: one row's rendered script and new audio, in seconds, without video.

Runs only the ops the row's audio track depends on (the script, the speech, the voice
matching, the splice), through the same cache as `vpipe run`, so the shared analysis is
done once and reused by the run that follows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vpipe.atomic import atomic_path
from vpipe.diagnostics.diagnostic import Diagnostic, DiagnosticError
from vpipe.driver import BuildResult, build_dir, cache_dir, target_of
from vpipe.ir.graph import Graph
from vpipe.runtime.cache import Cache
from vpipe.runtime.executor import Executor


@dataclass
class Preview:
    row: int
    id: str
    script: str
    audio: Path | None
    slots: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "id": self.id,
            "script": self.script,
            "audio": str(self.audio) if self.audio else None,
            "slots": self.slots,
            "seconds": round(self.seconds, 3),
            "diagnostics": [d.to_json() for d in self.diagnostics],
        }


def _track_value(graph: Graph) -> str:
    for op in graph.ops:
        if op.results[0].type.name == "Track":
            return op.results[0].name
    raise DiagnosticError(Diagnostic("VP111", "this recipe has no audio track to preview", None))


def preview_row(build: BuildResult, index: int, cache: Path | None = None) -> Preview:
    """Script and audio (a WAV in the build folder) of row `index` (1-based)."""
    import soundfile

    from vpipe.frontend.rows import Row
    from vpipe.runtime.run import row_value

    start = time.perf_counter()
    recipe = build.recipe
    rows: dict[int, Row] = {r.index: r for r in recipe.rows.rows}
    if index not in rows:
        raise DiagnosticError(
            Diagnostic("VP014", f"--row {index}: the recipe has rows 1 to {len(rows)}", None)
            if rows
            else Diagnostic("VP014", "the recipe has no rows", None)
        )
    row = rows[index]
    errors = [d for d in row.problems if d.is_error]
    if errors:
        raise DiagnosticError(errors)
    track = _track_value(build.graph)
    sub = Graph(build.graph.name, tuple(build.graph.upstream({track})))
    bdir = build_dir(recipe)
    executor = Executor(sub, Cache(cache_dir(recipe, cache)), target_of(recipe), bdir / "work", bdir / "logs")
    shared = executor.run_shared()
    outcome = executor.run_row(shared, row_value(row))
    if outcome.status == "failed":
        raise DiagnosticError(outcome.diagnostics)
    value = executor.last_values.get(track)
    audio_path = None
    slots: list[dict[str, Any]] = []
    if value is not None:
        audio_path = bdir / "preview" / f"row-{index}.wav"
        with atomic_path(audio_path) as tmp:  # a reader never sees half a WAV
            soundfile.write(str(tmp), value.audio.samples, value.audio.rate, format="WAV")
        slots = [
            {"slot": e.slot, "said": e.said, "start": round(e.output_start, 3), "end": round(e.output_end, 3)}
            for e in value.edits
        ]
    return Preview(
        index,
        row.id,
        outcome.script or "",
        audio_path,
        slots,
        time.perf_counter() - start,
        [*shared.diagnostics, *outcome.diagnostics],
    )
