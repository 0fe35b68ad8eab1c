"""Speaker profile of the source (shared) and voice matching of each row's new words."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from vpipe.data.speech import SlotAudio
from vpipe.ir.graph import Estimate, Op
from vpipe.kernels.registry import Kernel, kernel

MIN_SILENCE = 0.05  # seconds; shorter pauses are coarticulation, not room tone


@kernel("speech.profile", backend="world")
class SpeakerProfileKernel(Kernel):
    version = "1"

    def estimate(self, op: Op, context: dict[str, Any]) -> Estimate:
        return Estimate(seconds=0.5, ram_mb=80)

    def run(self, op: Op, inputs: list[Any], rt: Any) -> Any:
        from vpipe.speech.profile import measure_profile

        audio, alignment = inputs
        speech = [(w.start, w.end) for w in alignment.words]
        silences = [(p.start, p.end) for p in alignment.phones if p.label == "SIL" and p.end - p.start >= MIN_SILENCE]
        return measure_profile(audio.samples, audio.rate, speech, silences)


@kernel("speech.match_voice", backend="world")
class MatchVoice(Kernel):
    version = "1"

    def estimate(self, op: Op, context: dict[str, Any]) -> Estimate:
        return Estimate(seconds=0.15, ram_mb=60)

    def run(self, op: Op, inputs: list[Any], rt: Any) -> SlotAudio:
        from vpipe.speech.voice_match import match_voice

        slot_audio, profile = inputs
        clips = []
        for clip in slot_audio.clips:
            result = match_voice(clip.audio, clip.rate, profile)
            audio = np.asarray(result.audio, np.float32)[: len(clip.audio)]
            if len(audio) < len(clip.audio):  # voice matching must not change the timing
                audio = np.pad(audio, (0, len(clip.audio) - len(audio)))
            clips.append(replace(clip, audio=audio))
        return SlotAudio(tuple(clips), slot_audio.policy)
