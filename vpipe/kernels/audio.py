"""audio.splice and audio.narrate: the row's audio track (see vpipe.speech.splice)."""

from __future__ import annotations

from typing import Any

import numpy as np

from vpipe.data.audio import Audio
from vpipe.data.media import TimelineEdit, Track
from vpipe.ir.graph import Estimate, Op
from vpipe.kernel_api.context import RunContext
from vpipe.kernel_api.registry import Kernel, kernel
from vpipe.speech.splice import splice


@kernel("audio.splice", backend="crossfade")
class Splice(Kernel):
    version = "5"
    # Not stored: the row's track is the whole recording's length (~43 MB at two minutes);
    # storing it cost ~0.1 s CPU and 43 MB of disk per row, making it again (from the cached
    # recording and slot clips) a few tens of ms, and only a row that re-renders needs it.
    cache = False

    def estimate(self, op: Op, context: dict[str, Any]) -> Estimate:
        return Estimate(seconds=0.02, ram_mb=30)

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> Track:
        audio, slot_audio, spans = inputs
        return splice(
            audio,
            list(slot_audio.clips),
            {s.name: " ".join(s.words) for s in spans.slots},
            {s.name: (s.before, s.after) for s in spans.slots},
            shift_multiple=int(op.attr("shift_multiple", 1)) if op is not None else 1,
        )


@kernel("audio.narrate", backend="builtin")
class Narration(Kernel):
    version = "1"

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> Track:
        (speech,) = inputs
        lead = 0.3  # a breath of silence at both ends
        pad = np.zeros(int(lead * speech.rate), np.float32)
        mono = np.concatenate([pad, speech.audio, pad])
        phones = tuple(p for w in speech.words for p in w.phones)
        start = len(pad) / speech.rate
        narration = TimelineEdit("", 0.0, 0.0, start, start + len(speech.audio) / speech.rate, speech.text, "", phones)
        return Track(Audio.from_mono(mono, speech.rate, channels=1), (narration,))
