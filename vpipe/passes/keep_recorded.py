"""keep-recorded: a row whose value is the recorded word keeps the recording there.

A recipe records "Hi John" and a row's first_name is "John": re-synthesizing the word and
re-animating the mouth would only make it worse than the recording. This pass puts one
cheap per-row op between the slots found in the source and the row's speech and lip-sync:
`slots.changed(%script, %spans)` keeps only the slots whose rendered words differ from the
recorded ones (case and punctuation aside). Synthesis, fitting, voice matching, the audio
splice and lip-sync then see only those: a kept slot is not synthesized (a row that keeps
every slot synthesizes nothing), its audio is the recording's, its mouth is not re-animated
(no edit, no window), and a row with no change at all writes the recording's own stream.

The new op is keyed by the script (itself keyed by its text), so rows with the same words
share the keys of all that follows, as before; `dedupe` copies the file of a row identical
to an earlier one. The source's own analysis (slot targets, windows) still reads every slot.

Before:
    %script = template.render(%row) {"template": "hi {{ name }}"} : Script per_row
    %spans = slots.locate(%alignment) {"slots": {"name": {"say": "john", "words": ["john"]}}} : Spans shared
    %speech = speech.synthesize(%script, %lexicon, %spans) {"engine": "piper"} : Speech per_row
    %slot_audio = speech.fit(%speech, %spans) : SlotAudio per_row
    %slot_targets = speech.slot_targets(%audio, %spans) : SlotTargets shared
    %track = audio.splice(%audio, %slot_audio, %spans) : Track per_row
    %frames = lipsync.apply(%video, %landmarks, %track, %spans) {"backend": "retime"} : Frames per_row

After:
    %script = template.render(%row) {"template": "hi {{ name }}"} : Script per_row
    %spans = slots.locate(%alignment) {"slots": {"name": {"say": "john", "words": ["john"]}}} : Spans shared
    %changed = slots.changed(%script, %spans) : Spans per_row
    %speech = speech.synthesize(%script, %lexicon, %changed) {"engine": "piper"} : Speech per_row
    %slot_audio = speech.fit(%speech, %changed) : SlotAudio per_row
    %slot_targets = speech.slot_targets(%audio, %spans) : SlotTargets shared
    %track = audio.splice(%audio, %slot_audio, %changed) : Track per_row
    %frames = lipsync.apply(%video, %landmarks, %track, %changed) {"backend": "retime"} : Frames per_row
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from vpipe.ir.graph import Graph, Op, Value
from vpipe.ir.types import Scope
from vpipe.passes.base import PassContext
from vpipe.passes.registry import register

# the per-row ops that act on the slots a row changes (shared analysis keeps every slot)
ROW_USERS = ("speech.synthesize", "speech.fit", "audio.splice", "lipsync.apply")


@register
@dataclass(frozen=True)
class KeepRecorded:
    name: ClassVar[str] = "keep-recorded"
    summary: ClassVar[str] = "a row whose value is the recorded word keeps the recording (nothing re-synthesized)"

    def run(self, graph: Graph, ctx: PassContext) -> Graph:
        locate = graph.first("slots.locate")
        script = graph.first("template.render")
        if locate is None or script is None or graph.first("slots.changed") is not None:
            return graph
        spans = locate.results[0]
        users = [op for op in graph.users.get(spans.name, []) if op.kind in ROW_USERS and op.scope is Scope.PER_ROW]
        if not users:
            return graph
        name = graph.fresh_name("changed")
        changed = Op(
            "slots.changed",
            (script.results[0].name, spans.name),
            (Value(name, spans.type, Scope.PER_ROW),),
            {},
            locate.loc,
        )
        first = min(graph.ops.index(op) for op in users)
        if graph.ops.index(script) > first:
            return graph  # the row's script comes after the slots' first use: not a graph lowering writes
        ops: list[Op] = []
        for k, op in enumerate(graph.ops):
            if k == first:
                ops.append(changed)
            if op in users:
                op = replace(op, operands=tuple(name if o == spans.name else o for o in op.operands))
            ops.append(op)
        return Graph(graph.name, tuple(ops))
