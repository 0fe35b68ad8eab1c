"""own-gops: splice rows on the source's own GOPs when its keyframes are already close.

splice-gops normalises the source once so that rows can be spliced GOP by GOP. A source
whose keyframes already come every few frames, as closed GOPs of a stream the splice can
join (`vpipe/media/source_gops.py` lists the rules and measures them), needs none of that:
rows copy its own packets, bit-exact, and re-encode only the GOPs with changed frames under
parameter sets of their own. The shared normalisation disappears, and every copied frame is
the recording itself instead of a second encode of it.

The source is inspected at compile time (`media.gop_layout`, evaluated through the cache:
demuxing only). A source that qualifies has its `media.normalize` replaced; one that does
not keeps it, and a remark (VP232) says which rule it broke. With analysis off the source
is not inspected and stays normalised (same remark).

Before:
    %video = media.open() {"kind": "video", "path": "clip.mp4"} : Video<w=524, h=524> shared
    %gops = media.normalize(%video) {"crf": 12, "gop": 12, "preset": "veryfast"} : Video<w=524, h=524> shared
    %frames = lipsync.apply(%gops, %landmarks, %track, %spans, %inventory) {"backend": "retrieve"} : Frames per_row
    %file = media.splice(%frames, %track, %row, %gops) {"codec": "h264", "crf": 12} : File per_row

After (the source has closed 25-frame GOPs):
    %video = media.open() {"kind": "video", "path": "clip.mp4"} : Video<w=524, h=524> shared
    %layout = media.gop_layout(%video) {"max_gop": 25} : GopLayout shared
    %gops = media.own_gops(%video, %layout) {"crf": 12, "preset": "veryfast"} : Video<w=524, h=524> shared
    %frames = lipsync.apply(%gops, %landmarks, %track, %spans, %inventory) {"backend": "retrieve"} : Frames per_row
    %file = media.splice(%frames, %track, %row, %gops) {"codec": "h264", "crf": 12} : File per_row
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from vpipe.ir.graph import Graph, Op, Value
from vpipe.ir.types import Scope, Type
from vpipe.media.source_gops import MAX_GOP_FRAMES
from vpipe.passes.base import PassContext
from vpipe.passes.registry import register


@register
@dataclass(frozen=True)
class OwnGops:
    name: ClassVar[str] = "own-gops"
    summary: ClassVar[str] = "splice rows on the source's own GOPs when they are short and closed (no normalisation)"

    max_gop: int = MAX_GOP_FRAMES  # the longest GOP spliced as it is (frames)

    def run(self, graph: Graph, ctx: PassContext) -> Graph:
        normalize = graph.first("media.normalize")
        if normalize is None:
            return graph
        video = normalize.operands[0]
        name = graph.fresh_name("layout")
        inspect = Op(
            "media.gop_layout",
            (video,),
            (Value(name, Type("GopLayout"), Scope.SHARED),),
            {"max_gop": self.max_gop},
            normalize.loc,
        )
        ops = []
        for op in graph.ops:
            if op is normalize:
                ops.append(inspect)
            ops.append(op)
        candidate = Graph(graph.name, tuple(ops))
        layout = ctx.evaluate(candidate, name)
        if layout is None or not layout.eligible:
            why = layout.reason if layout is not None else "the source is not inspected with analysis off"
            ctx.diagnostics.remark("VP232", f"the source is normalised: {why}", ctx.span(normalize))
            ctx.facts["gops_source"] = {"own": False, "why": why}
            return graph
        own = Op(
            "media.own_gops",
            (video, name),
            normalize.results,
            {"crf": normalize.attr("crf"), "preset": normalize.attr("preset")},
            normalize.loc,
        )
        ctx.facts["gop"] = layout.longest_gop
        ctx.facts["gops_source"] = {"own": True, "gops": layout.gops, "longest_gop": layout.longest_gop}
        return Graph(graph.name, tuple(own if op is normalize else op for op in candidate.ops))
