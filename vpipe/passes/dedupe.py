"""dedupe: rows whose content is the same render once; the others get a copy.

Two rows that say the same words in the same voice (same rendered slot text, voice, lexicon
and voice matching) already share one synthesis: the script is keyed by its text, and every
op after it by its operands' keys. What still depended on the row itself is its output
file (its path and the row id in its metadata). This pass marks the row's write as
deduplicable: the runtime keys the written video by its *content* (the keys of the frames
and the track, the encoder settings — not the row), and a row whose content was rendered
before, in this run or an earlier one, gets that file copied under its own name with its
own metadata, and its QC report, instead of re-running lip-sync, encoding and QC. Editing
one CSV row changes that row's keys only, so only it renders again.

A run with contact sheets keeps rendering every row (each sheet is named after its row).

Before:
    %file = media.splice(%frames, %track, %row, %gops) {"codec": "h264", "path": "out/{{ row_id }}.mp4"} : File per_row
    %report = qc.measure(%file, %track, %frames, %profile) {"thresholds": {}} : Report per_row

After:
    %file = media.splice(%frames, %track, %row, %gops) {"codec": "h264", "dedupe": true, "path": "out/{{ row_id }}.mp4"} : File per_row
    %report = qc.measure(%file, %track, %frames, %profile) {"thresholds": {}} : Report per_row
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from vpipe.ir.graph import Graph, Op
from vpipe.passes.base import PassContext
from vpipe.passes.registry import register

WRITES = ("media.write", "media.splice")


@register
@dataclass(frozen=True)
class Dedupe:
    name: ClassVar[str] = "dedupe"
    summary: ClassVar[str] = "rows with the same content render once; the others get a copy"

    def run(self, graph: Graph, ctx: PassContext) -> Graph:
        if any(op.kind == "qc.measure" and op.attr("contact_sheets") for op in graph.ops):
            return graph
        updates: dict[int, Op] = {}
        for index, op in enumerate(graph.ops):
            if op.kind in WRITES and not op.attr("dedupe"):
                updates[index] = op.with_attrs(dedupe=True)
        return graph.replace_ops(updates)
