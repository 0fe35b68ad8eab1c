"""segment-lipsync: re-animate only the slot windows, not the whole video.

Each slot's time span (bound by resolve-slots) grows by the coarticulation margin on both
sides; overlapping windows merge. The lip-sync kernel renders only frames inside these
windows (in source time; a row whose new words are longer stretches its own window) and
every other frame passes through untouched. Without slot times (transcript recognised at
run time) the op is left as is and the kernel derives the windows itself.

Option: `segment-lipsync{margin_ms=80}` uses an 80 ms margin instead of the recipe's (the
op's `margin_ms` is set to it, so a kernel deriving its own windows agrees).

Before:
    %frames = lipsync.apply(%video, %landmarks, %track, %spans, %inventory) {"backend": "retrieve", "margin_ms": 120.0} : Frames per_row

After (slot 'skill' at 1.95–2.23 s):
    %frames = lipsync.apply(%video, %landmarks, %track, %spans, %inventory) {"backend": "retrieve", "margin_ms": 120.0, "windows": [[1.83, 2.35]]} : Frames per_row
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from vpipe.ir.dialect import operand_roles
from vpipe.ir.graph import Graph, Op
from vpipe.lipsync.timeline import merge_windows
from vpipe.passes.base import PassContext
from vpipe.passes.registry import register


@register
@dataclass(frozen=True)
class SegmentLipsync:
    name: ClassVar[str] = "segment-lipsync"
    summary: ClassVar[str] = "limit mouth re-animation to slot windows plus a coarticulation margin"

    margin_ms: float | None = None  # replaces every op's margin (the recipe's lipsync.margin_ms) when given

    def run(self, graph: Graph, ctx: PassContext) -> Graph:
        updates: dict[int, Op] = {}
        for index, op in enumerate(graph.ops):
            if op.kind != "lipsync.apply":
                continue
            if self.margin_ms is not None:
                op = updates[index] = op.with_attrs(margin_ms=float(self.margin_ms))
            operands = operand_roles(op)
            spans_op = graph.producer(operands["spans"])
            slots = spans_op.attr("slots") or {}
            times = [(s["start"], s["end"]) for s in slots.values() if "start" in s and "end" in s]
            if len(times) != len(slots) or not times:
                continue
            video = graph.value(operands["video"]).type
            duration = (video.param("frames") or 0) / (video.param("fps") or 1) or None
            margin = float(op.attr("margin_ms")) / 1000.0
            windows = merge_windows(times, margin, duration)
            updates[index] = op.with_attrs(windows=[[round(a, 4), round(b, 4)] for a, b in windows])
            fps = video.param("fps")
            if fps:
                ctx.facts["frames_changed"] = sum(round((b - a) * fps) for a, b in windows)
                ctx.facts["frames_total"] = video.param("frames")
        return graph.replace_ops(updates)
