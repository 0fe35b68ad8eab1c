"""splice-aac: each row's AAC track is spliced from the recording's shared encodes.

Without it a spliced row still encodes its whole sound track: the one per-row cost left
that grows with the length of the recording. This pass gives the row's splice the
recording's sound (the audio.splice's source), and the kernel then copies the recording's
AAC packets (encoded once per phase, shared) and encodes only a short span around each slot,
joined where the two encodes' packets are byte-identical (`media/aac_splice.py`).

An elastic slot moves the rest of the row by its change of length; the pass asks
audio.splice to make that a whole number of AAC blocks (`shift_multiple`: an elastic word
is time-stretched by at most ±512 samples), so the rest of the row is the
recording's one shared encode, packet for packet, on every row. (Without it each new shift
modulo 1024 costs one more encode of the whole recording, kept for later rows.)

It applies to a media.splice whose track is an audio.splice of a recording; narrated rows
(no recording under them) are left as they are. A speech.match_voice feeding that splice is
given the same `shift_multiple` and the write's `audio_bitrate_kbps` (AAC outputs): its
heard-word guard cuts the row's track exactly as audio.splice will and hears it as the row's
AAC packets decode, so QC finds the guard's check of the very samples it decodes.

Before:
    %audio = media.audio(%video) : Audio shared
    %matched = speech.match_voice(%slot_audio, %profile, %targets, %voice, %units, %audio, %spans) : SlotAudio per_row
    %track = audio.splice(%audio, %matched, %spans) : Track per_row
    %file = media.splice(%frames, %track, %row, %gops) {"audio_bitrate_kbps": 192, "codec": "h264", "path": "out/{{ row_id }}.mp4"} : File per_row

After:
    %audio = media.audio(%video) : Audio shared
    %matched = speech.match_voice(%slot_audio, %profile, %targets, %voice, %units, %audio, %spans) {"audio_bitrate_kbps": 192, "shift_multiple": 1024} : SlotAudio per_row
    %track = audio.splice(%audio, %matched, %spans) {"shift_multiple": 1024} : Track per_row
    %file = media.splice(%frames, %track, %row, %gops, %audio) {"audio_bitrate_kbps": 192, "codec": "h264", "path": "out/{{ row_id }}.mp4"} : File per_row
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from vpipe.ir.graph import Graph, Op
from vpipe.media.aac_splice import BLOCK
from vpipe.media.write import audio_codec
from vpipe.passes.base import PassContext
from vpipe.passes.registry import register


@register
@dataclass(frozen=True)
class SpliceAac:
    name: ClassVar[str] = "splice-aac"
    summary: ClassVar[str] = "per row encode only the sound around the slots; copy the recording's AAC packets"

    def run(self, graph: Graph, ctx: PassContext) -> Graph:
        write = graph.first("media.splice")
        if write is None or len(write.operands) != 4:
            return graph  # nothing spliced, or already given the recording
        track = graph.producer(write.operands[1])
        if track.kind != "audio.splice":
            return graph  # a narration: no recording under the row's sound
        recording = track.operands[0]
        voice = graph.producer(track.operands[1]) if len(track.operands) > 1 else None
        ops = []
        for op in graph.ops:
            if op is write:
                op = replace(op, operands=(*op.operands, recording), kernel=None, estimate=None)
            elif op is track:
                op = op.with_attrs(shift_multiple=BLOCK)
            elif op is voice and op.kind == "speech.match_voice":
                op = op.with_attrs(shift_multiple=BLOCK, **_aac(write))
            ops.append(op)
        ctx.facts["splice_aac"] = True
        return Graph(graph.name, tuple(ops))


def _aac(write: Op) -> dict[str, int]:
    """What the guard needs to hear the row's AAC packets as they will be written: the
    bitrate, where the row's sound is AAC (not for a WebM's Opus)."""
    codec, _ = audio_codec(Path(str(write.attr("path", ""))))
    if codec != "aac" or write.attr("audio_bitrate_kbps") is None:
        return {}
    return {"audio_bitrate_kbps": int(write.attr("audio_bitrate_kbps"))}
