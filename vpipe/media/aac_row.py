"""A row's AAC packets: spliced from the recording's shared encodes where that is exact,
else the whole track encoded (the only way before; still the way for Opus, resampled or
multichannel-to-stereo-changed sound, and rows with nothing in common with the recording).

The splice is exact by construction (`aac_splice`: joins only where two encodes' packets are
byte-identical); its report says what was re-encoded, so a row's cost can be read off it.
"""

from __future__ import annotations

import functools
import hashlib
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from vpipe.data.audio import Audio
from vpipe.media.aac_shared import SharedEncodes
from vpipe.media.aac_splice import (
    BLOCK,
    AacSettings,
    SpliceResult,
    changed_ranges,
    copy_runs,
    packets_of,
    splice_packets,
)
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
    result, made, remembered = spliced(settings, audio, recording, shifts, store)
    report: dict[str, object] = {
        "mode": "spliced",
        "blocks": len(result.packets),
        "reencoded_blocks": sum(b - a for a, b in result.spans),
        "spans": [list(s) for s in result.spans],
        "joins": result.joins,
        "phases": result.phases,
        "phases_encoded": made,
        "remembered": remembered,
    }
    return list(packets_of(result, stream, rate)), report


# The splices of this process by what they are made of (the last SPLICES): the voice guard
# splices the row's sound to hear it as QC will, and the row's write finds that splice here
# instead of encoding it again.
SPLICES = 8
_SPLICED: OrderedDict[bytes, SpliceResult] = OrderedDict()


def spliced(
    settings: AacSettings, audio: Audio, recording: Audio, shifts: tuple[int, ...], store: Path | None
) -> tuple[SpliceResult, list[int], bool]:
    """The row's AAC packets spliced from the recording's shared encodes (aac_splice), the
    phases this call had to encode, and whether the splice was remembered from an earlier call
    on the same content (`splice_key`)."""
    row, source = audio.samples, recording.samples  # compared as they are: equal samples, equal clipped
    candidates = sorted(set(shifts) | {0}, key=lambda s: (s != 0, abs(s)))
    run = copy_runs(row, source, candidates)
    shared = SharedEncodes(source, settings, store)
    key = splice_key(settings, row, run, candidates, shared.key)
    result = _SPLICED.get(key)
    if result is not None:
        _SPLICED.move_to_end(key)
        return result, [], True
    result = splice_packets(settings, row, run, candidates, shared)
    _SPLICED[key] = result
    while len(_SPLICED) > SPLICES:
        _SPLICED.popitem(last=False)
    return result, shared.made, False


def splice_key(settings: AacSettings, row: np.ndarray, run: np.ndarray, shifts: list[int], recording: str) -> bytes:
    """Everything splice_packets' result depends on: the settings, the recording's encodes
    (`recording`: their key), the shifts, the copy runs and the row's samples wherever a block
    is not the recording's (each block's support [(j-1)·1024, (j+1)·1024) around every changed
    range). Every other sample of the row equals, float32 bit for bit in the encoded channels,
    the recording's shifted by the block's run (that is what copy_runs checked), so equal keys
    are equal inputs to every encoder the splice feeds."""
    h = hashlib.blake2b(digest_size=20)
    h.update(f"{settings}|{recording}|{shifts}|{row.shape}|{row.dtype.str}".encode())
    h.update(np.ascontiguousarray(run).tobytes())
    for a, b in changed_ranges(run):
        h.update(np.ascontiguousarray(row[max(0, (a - 1) * BLOCK) : (b + 1) * BLOCK]).tobytes())
    return h.digest()


def row_payloads(
    audio: Audio, recording: Audio, shifts: tuple[int, ...], bitrate_kbps: int, store: Path | None
) -> tuple[list[bytes], AacSettings] | None:
    """The AAC packets' payloads (priming block first) `row_packets` will write for `audio`
    on an AAC stream at its own rate, with the settings they are encoded with; None where the
    row's sound cannot be spliced (it is then encoded whole: `_cannot_splice`)."""
    if _cannot_splice("aac", audio.rate, audio, recording) is not None:
        return None
    settings = AacSettings(audio.rate, min(audio.channels, 2), bitrate_kbps)
    result, _, _ = spliced(settings, audio, recording, shifts, store)
    return [payload for payload, _ in result.packets], settings


@functools.cache
def extradata(settings: AacSettings) -> bytes:
    """The AAC stream's decoder configuration for `settings` (what the written file carries:
    `_packets` writes spliced packets only where the stream's equals it)."""
    return bytes(settings.encoder().extradata or b"")


def _cannot_splice(stream: Any, rate: int, audio: Audio, recording: Audio | None) -> str | None:
    """Why the row's sound cannot be spliced, or None (`stream`: the output's audio stream, or
    its codec's name)."""
    codec = stream if isinstance(stream, str) else stream.codec_context.name
    if recording is None:
        return "no recording to splice from"
    if codec != "aac":
        return f"the output's sound is {codec}"
    if rate != audio.rate or recording.rate != audio.rate:
        return "the sound is resampled"
    if min(recording.channels, 2) != min(audio.channels, 2):
        return "the row's channels differ from the recording's"
    return None
