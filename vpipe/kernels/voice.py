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
    version = "2"

    def estimate(self, op: Op, context: dict[str, Any]) -> Estimate:
        return Estimate(seconds=0.3, ram_mb=120)

    def run(self, op: Op, inputs: list[Any], rt: Any) -> Any:
        from vpipe.speech.profile import measure_profile

        audio, alignment = inputs
        speech = [(w.start, w.end) for w in alignment.words]
        silences = [(p.start, p.end) for p in alignment.phones if p.label == "SIL" and p.end - p.start >= MIN_SILENCE]
        return measure_profile(audio.samples, audio.rate, speech, silences)


@kernel("speech.match_voice", backend="world")
class MatchVoice(Kernel):
    version = "2"

    def estimate(self, op: Op, context: dict[str, Any]) -> Estimate:
        return Estimate(seconds=0.12, ram_mb=80)

    def run(self, op: Op, inputs: list[Any], rt: Any) -> SlotAudio:
        from vpipe.speech.pitch import local_f0
        from vpipe.speech.splice import surrounding_loudness
        from vpipe.speech.voice_match import match_voice

        slot_audio, profile, audio, spans = inputs
        mono = audio.mono()
        context = slot_audio.sentence if len(slot_audio.sentence) else None
        clips = []
        for clip in slot_audio.clips:
            loc = spans.get(clip.name)
            # The recorded word's own pitch and loudness: a word is said higher or quieter than
            # the speaker's average by its place in the sentence, and the new word takes its place.
            target_f0 = local_f0(mono, audio.rate, loc.start, loc.end)
            target_lufs = surrounding_loudness(mono, audio.rate, loc.start, loc.end)
            result = match_voice(
                clip.audio,
                clip.rate,
                profile,
                context,
                target_f0=target_f0 or None,
                target_lufs=target_lufs if np.isfinite(target_lufs) else None,
            )
            matched = np.asarray(result.audio, np.float32)[: len(clip.audio)]
            if len(matched) < len(clip.audio):  # voice matching must not change the timing
                matched = np.pad(matched, (0, len(clip.audio) - len(matched)))
            clips.append(replace(clip, audio=matched))
        return replace(slot_audio, clips=tuple(clips))
