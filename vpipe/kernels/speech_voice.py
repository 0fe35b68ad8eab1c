"""Speaker profile of the source (shared) and voice matching of each row's new words."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from vpipe.data.speech import SlotAudio, SlotTargets
from vpipe.diagnostics.diagnostic import Diagnostic, DiagnosticError
from vpipe.ir.graph import Estimate, Op
from vpipe.kernel_api.context import RunContext
from vpipe.kernel_api.registry import Kernel, kernel

MIN_SILENCE = 0.05  # seconds; shorter pauses are coarticulation, not room tone


@kernel("speech.profile", backend="world")
class SpeakerProfileKernel(Kernel):
    version = "2"

    def estimate(self, op: Op, context: dict[str, Any]) -> Estimate:
        return Estimate(seconds=0.3, ram_mb=120)

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> Any:
        from vpipe.speech.profile import measure_profile

        audio, alignment = inputs
        speech = [(w.start, w.end) for w in alignment.words]
        silences = [(p.start, p.end) for p in alignment.phones if p.label == "SIL" and p.end - p.start >= MIN_SILENCE]
        return measure_profile(audio.samples, audio.rate, speech, silences)


@kernel("speech.slot_targets", backend="builtin")
class SlotTargetsKernel(Kernel):
    """The recorded word's pitch and loudness: a word is said higher or quieter than the
    speaker's average by its place in the sentence, and the new word takes its place.
    The same for every row, so hoist-shared makes it run once."""

    version = "1"

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> SlotTargets:
        from vpipe.speech.pitch import local_f0
        from vpipe.speech.splice import surrounding_loudness

        audio, spans = inputs
        mono = audio.mono()
        return SlotTargets(
            {s.name: float(local_f0(mono, audio.rate, s.start, s.end)) for s in spans.slots},
            {s.name: float(surrounding_loudness(mono, audio.rate, s.start, s.end)) for s in spans.slots},
        )


CALIBRATION_WORDS = 60  # of the transcript: ~20 s of speech is plenty for a median and an envelope


@kernel("speech.voice_stats", backend="tts")
class VoiceStatsKernel(Kernel):
    """The synthetic voice speaks the source's transcript once; its pitch statistics and
    long-term envelope are what every row's words are moved from. The same words as the
    speaker's profile, so the envelope difference is the voices', not the texts'."""

    version = "1"

    def estimate(self, op: Op, context: dict[str, Any]) -> Estimate:
        return Estimate(seconds=1.0, ram_mb=250)

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> Any:
        from vpipe.kernels.speech_tts import engine_for, speak
        from vpipe.speech.prepare import Unspeakable, prepare
        from vpipe.speech.voice_match import voice_stats

        transcript, lexicon = inputs
        text = " ".join(str(transcript).split()[:CALIBRATION_WORDS])
        engine = engine_for(op, rt)
        try:
            prepared = prepare(text, [("", 0, len(text))], lexicon, engine.supports_ipa, whole=True)
        except Unspeakable as exc:
            raise DiagnosticError(
                Diagnostic("VP305", f"the transcript cannot be spoken by the voice: {exc}", rt.op_span)
            ) from None
        out = speak(engine, prepared.text, float(op.attr("speed")), rt)
        return voice_stats(out.audio, out.rate)


@kernel("speech.units", backend="world")
class UnitLibraryKernel(Kernel):
    """The source cut into the speaker's phones, analysed once (shared, cached)."""

    version = "1"

    def estimate(self, op: Op, context: dict[str, Any]) -> Estimate:
        return Estimate(seconds=1.0, ram_mb=200)

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> Any:
        from vpipe.speech.units import build_library

        audio, alignment = inputs
        return build_library(audio.mono(), audio.rate, alignment.phones)


@kernel("speech.match_voice", backend="world")
class MatchVoice(Kernel):
    version = "5"  # 5: the speaker's own units (optional operand)

    def estimate(self, op: Op, context: dict[str, Any]) -> Estimate:
        return Estimate(seconds=0.08, ram_mb=80)

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> SlotAudio:
        from vpipe.speech.voice_match import match_voice

        slot_audio, profile, targets, voice = inputs[:4]
        library = inputs[4] if len(inputs) > 4 else None
        clips = []
        for clip in slot_audio.clips:
            lufs = targets.loudness.get(clip.name, float("nan"))
            hook = None
            if library is not None:
                from vpipe.speech.units import envelope_hook, select

                choices = select(library, clip.phones, targets.f0.get(clip.name) or 0.0)
                hook = envelope_hook(library, choices, clip.lead, replaced=(clip.source_start, clip.source_end))
            result = match_voice(
                clip.audio,
                clip.rate,
                profile,
                target_f0=targets.f0.get(clip.name) or None,
                target_lufs=lufs if np.isfinite(lufs) else None,
                voice=voice,
                units=hook,
                room=hook is None,  # the speaker's own frames carry the room already
            )
            matched = np.asarray(result.audio, np.float32)[: len(clip.audio)]
            if len(matched) < len(clip.audio):  # voice matching must not change the timing
                matched = np.pad(matched, (0, len(clip.audio) - len(matched)))
            clips.append(replace(clip, audio=matched))
        return replace(slot_audio, clips=tuple(clips))
