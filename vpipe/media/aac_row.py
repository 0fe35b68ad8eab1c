"""A row's AAC packets: spliced from the recording's shared encodes where that is exact,
else the whole track encoded (the only way before; still the way for Opus, resampled or
multichannel-to-stereo-changed sound, and rows with nothing in common with the recording).

The splice is exact by construction (`aac_splice`: joins only where two encodes' packets are
byte-identical); its report says what was re-encoded, so a row's cost can be read off it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from vpipe.data.audio import Audio
from vpipe.media.aac_shared import SharedEncodes
from vpipe.media.aac_splice import AacSettings, copy_runs, packets_of, splice_packets
from vpipe.media.write import audio_packets


def row_packets(
    stream: Any,
    rate: int,
    audio: Audio,
    bitrate_kbps: int,
    recording: Audio | None = None,
    shifts: tuple[int, ...] = (),
    store: Path | None = None,
) -> tuple[list[Any], dict[str, object]]:
    """The packets of `audio` on the output's audio `stream` (at `rate`), and a report.
    `recording`: the sound the row's was made from; `shifts`: the sample offsets at which its
    stretches appear in the row (0 before the first slot, then one per elastic slot)."""
    began = time.process_time()
    packets, report = _packets(stream, rate, audio, bitrate_kbps, recording, shifts, store)
    report["cpu_s"] = round(time.process_time() - began, 4)
    return packets, report


def _packets(
    stream: Any,
    rate: int,
    audio: Audio,
    bitrate_kbps: int,
    recording: Audio | None,
    shifts: tuple[int, ...],
    store: Path | None,
) -> tuple[list[Any], dict[str, object]]:
    why = _cannot_splice(stream, rate, audio, recording)
    if why is not None:
        packets = list(audio_packets(stream, audio, rate))
        return packets, {"mode": "encoded", "why": why, "blocks": len(packets), "reencoded_blocks": len(packets)}
    assert recording is not None
    settings = AacSettings(rate, min(audio.channels, 2), bitrate_kbps)
    context = stream.codec_context
    if not context.is_open:
        context.open()  # as muxing would: its parameters are what the copied packets must match
    if bytes(context.extradata or b"") != bytes(settings.encoder().extradata or b""):
        packets = list(audio_packets(stream, audio, rate))
        return packets, {"mode": "encoded", "why": "encoder parameters differ", "reencoded_blocks": len(packets)}
    row, source = audio.samples, recording.samples  # compared as they are: equal samples, equal clipped
    candidates = sorted(set(shifts) | {0}, key=lambda s: (s != 0, abs(s)))
    run = copy_runs(row, source, candidates)
    shared = SharedEncodes(source, settings, store)
    result = splice_packets(settings, row, run, candidates, shared)
    report: dict[str, object] = {
        "mode": "spliced",
        "blocks": len(result.packets),
        "reencoded_blocks": sum(b - a for a, b in result.spans),
        "spans": [list(s) for s in result.spans],
        "joins": result.joins,
        "phases": result.phases,
        "phases_encoded": shared.made,
    }
    return list(packets_of(result, stream, rate)), report


def _cannot_splice(stream: Any, rate: int, audio: Audio, recording: Audio | None) -> str | None:
    if recording is None:
        return "no recording to splice from"
    if stream.codec_context.name != "aac":
        return f"the output's sound is {stream.codec_context.name}"
    if rate != audio.rate or recording.rate != audio.rate:
        return "the sound is resampled"
    if min(recording.channels, 2) != min(audio.channels, 2):
        return "the row's channels differ from the recording's"
    return None
