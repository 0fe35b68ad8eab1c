"""splice-gops: write each row by re-encoding only the GOPs that contain changed frames.

Most recordings have a single keyframe, so writing one changed word used to re-encode the
whole video for every row. This pass normalises the source once (shared, cached) to H.264
with a fixed closed GOP, has the lip-sync kernel draw its frames from that stream, and
lowers the row's write to a splice: changed GOPs re-encoded with the normalised stream's
exact encoder settings, every other GOP's packets copied (re-timestamped after an elastic
slot). The per-row video cost is then set by the slots, not by the length of the source.

It applies when the output is H.264 and the frames come from a lip-sync kernel (rows that
change no pixel copy the original stream untouched without it); otherwise it leaves the
graph as it is with a remark (VP231).

Before:
    %video = media.open() {"kind": "video", "path": "clip.mp4"} : Video<w=524, h=524> shared
    %frames = lipsync.apply(%video, %landmarks, %track, %spans, %inventory) {"backend": "retrieve"} : Frames per_row
    %file = media.write(%frames, %track, %row) {"codec": "h264", "crf": 12, "path": "out/{{ row_id }}.mp4"} : File per_row

After:
    %video = media.open() {"kind": "video", "path": "clip.mp4"} : Video<w=524, h=524> shared
    %gops = media.normalize(%video) {"crf": 12, "gop": 12, "preset": "veryfast"} : Video<w=524, h=524> shared
    %frames = lipsync.apply(%gops, %landmarks, %track, %spans, %inventory) {"backend": "retrieve"} : Frames per_row
    %file = media.splice(%frames, %track, %row, %gops) {"codec": "h264", "crf": 12, "path": "out/{{ row_id }}.mp4"} : File per_row
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from vpipe.ir.graph import Graph, Op, Value
from vpipe.passes.base import PassContext
from vpipe.passes.registry import register


@register
@dataclass(frozen=True)
class SpliceGops:
    name: ClassVar[str] = "splice-gops"
    summary: ClassVar[str] = "normalise the source once; per row re-encode only the GOPs with changed frames"

    gop: int = 12  # frames per GOP of the normalised source (measured: benchmarks/gop_length.py)

    def run(self, graph: Graph, ctx: PassContext) -> Graph:
        write = graph.first("media.write")
        if write is None:
            return graph
        frames_op = graph.producer(write.operands[0])
        if frames_op.kind != "lipsync.apply":
            return graph  # no pixel is re-rendered: rows copy the source's own stream
        video_name = frames_op.operands[0]
        video = graph.value(video_name)
        w, h = video.type.param("w"), video.type.param("h")
        why = None
        if str(write.attr("codec")) != "h264":
            why = f"the output codec is {write.attr('codec')}, not h264"
        elif (w is not None and w % 2) or (h is not None and h % 2):
            why = f"the source is {w}×{h}; H.264 yuv420p needs an even size"
        if why is not None:
            ctx.diagnostics.remark(
                "VP231", f"splice-gops not applied: {why}; rows re-encode the whole video", ctx.span(write)
            )
            return graph
        name = graph.fresh_name("gops")
        normalize = Op(
            "media.normalize",
            (video_name,),
            (Value(name, video.type, video.scope),),
            {"gop": self.gop, "crf": int(write.attr("crf")), "preset": str(write.attr("preset"))},
            graph.producer(video_name).loc,
        )
        ops: list[Op] = []
        for op in graph.ops:
            if op is frames_op:
                op = replace(op, operands=(name, *op.operands[1:]))
            elif op is write:
                op = replace(op, kind="media.splice", operands=(*op.operands, name), kernel=None, estimate=None)
            ops.append(op)
            if op.results and op.results[0].name == video_name:
                ops.append(normalize)
        ctx.facts["gop"] = self.gop
        return Graph(graph.name, tuple(ops))
