"""Speaker profile of the source (shared) and voice matching of each row's new words."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from vpipe.data.mapped import mapped_copy
from vpipe.data.speech import SlotAudio, SlotTargets
from vpipe.diagnostics.diagnostic import Diagnostic, DiagnosticError
from vpipe.ir.graph import Estimate, Op
from vpipe.kernel_api.context import RunContext
from vpipe.kernel_api.registry import Kernel, kernel
from vpipe.text import words_of

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
        lib = build_library(audio.mono(), audio.rate, alignment.phones)
        # The envelopes and aperiodicities (frames × 513 each: 50 MB at two minutes) are read
        # only at the few units a row chooses: mapped from a file, only those pages are
        # resident (the cache stores and maps them again as it does the mouth crops).
        work = getattr(rt, "work_dir", None)
        return replace(lib, log_sp=mapped_copy(lib.log_sp, work), ap=mapped_copy(lib.ap, work))


# The heard-word guard: a row whose own-unit word is not heard as the word falls back. The
# margin (confidence points, new word over recorded word, QC's own check on the slot with
# its context words) is kept above QC's pass mark (> 0): a spliced-AAC row's guard hears what
# QC will decode (since session 6), but a row whose sound is encoded whole (audio only, Opus)
# is heard on its track before the encode (the track exactly, elastic stretch included):
# over 14 rows of the tuning clips (benchmarks/voice_identity.py) the guard's margin and QC's
# on the written file differed by 0.2-4.4 points; on 63 audio-only rows of them (two unit
# renderings each) the track's margin and the file's by -6.2 to +36.1 (vpipe/qc/audio.py).
GUARD_MARGIN = 5.0
# The own-unit renderings tried, most speaker-like first: (name, borrow close sounds, the
# units' rhythm, kNN fill weight of the phones the recording lacks). The first fills at 0.75:
# at 1.0 the interview's 'mentoring' (its AO filled from the speaker's other vowels) was heard,
# but the aligner put its end 0.13 s early in the elastic e2e test (limit 0.063 s); at 0.75,
# 0.042 s. The second borrows nothing but keeps the rhythm and the fill (glasses, the three
# words the first loses: 0.854 / 0.812 / 0.797 against 0.838 / 0.767 / 0.798 with the third;
# filling at 1.0 there lost 'supervision' to the matched word). The third is the cautious one
# (half fill, the synthesizer's timing, same phones).
LEVELS: tuple[tuple[str, bool, bool, float], ...] = (
    ("own units", True, True, 0.75),
    ("own units, same phones only", False, True, 0.75),
    ("own units, same phones, half fill", False, False, 0.5),
)


@kernel("speech.match_voice", backend="world")
class MatchVoice(Kernel):
    """Pitch, timbre and loudness towards the speaker; with the unit library, the speaker's own
    sounds, played from the recording's waveform (TD-PSOLA, `speech.concat`) where the
    recording comes along, tried from the most speaker-like down (LEVELS) and kept only if
    QC's heard check, on the row's sound as QC will decode it from the written file (the
    track as audio.splice will cut it, through the row's spliced AAC packets where the output
    is AAC), still hears the new word over the recorded one (QC then finds that very check:
    vpipe.qc.audio.heard_output); else the matched synthetic word. Each clip says which it
    got (`voice`, in the manifest's duration entry)."""

    version = "10"  # 10: the guard hears a spliced-AAC row's packets decoded as QC decodes the file; 9: the guard hears the row's track as audio.splice cuts it; 8: a middle level; 7: units played from the recording (TD-PSOLA); 6: guard; 5: own units

    def estimate(self, op: Op, context: dict[str, Any]) -> Estimate:
        return Estimate(seconds=0.3, ram_mb=80)

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> SlotAudio:
        slot_audio, profile, targets, voice = inputs[:4]
        library, audio, spans = [*inputs[4:7], None, None, None][:3]
        multiple = int(op.attr("shift_multiple", 1)) if op is not None else 1
        kbps = op.attr("audio_bitrate_kbps") if op is not None else None
        aac = (int(kbps), getattr(rt, "store_dir", None)) if kbps is not None else None
        clips = list(slot_audio.clips)
        for k, clip in enumerate(slot_audio.clips):
            if library is None:
                clips[k] = replace(clip, audio=_matched(clip, profile, targets, voice, None), voice="matched")
                continue
            row = _Row(clips, k, audio, spans, multiple, aac) if audio is not None and spans is not None else None
            clips[k] = _guarded(clip, profile, targets, voice, library, audio, row)
        return replace(slot_audio, clips=tuple(clips))


@dataclass(frozen=True)
class _Row:
    """What the guard needs to cut the row's sound track as audio.splice will: the row's clips
    (those before clip `k` already chosen), the recording, the slots and the splice-aac
    pass's `shift_multiple` (the elastic words' stretch); and to hear it as the written file
    will sound, `aac`: the output's AAC bitrate and the run's store (its shared encodes)."""

    clips: list[Any]
    k: int
    audio: Any
    spans: Any
    multiple: int
    aac: tuple[int, Any] | None = None


def _matched(clip: Any, profile: Any, targets: Any, voice: Any, hook: Any) -> np.ndarray:
    """The clip's audio moved towards the speaker (with `hook`: the speaker's own units), the
    same length as before: voice matching never changes the timing."""
    from vpipe.speech.voice_match import match_voice

    lufs = targets.loudness.get(clip.name, float("nan"))
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
    return np.pad(matched, (0, len(clip.audio) - len(matched)))


def _guarded(clip: Any, profile: Any, targets: Any, voice: Any, library: Any, audio: Any, row: _Row | None) -> Any:
    """The first of LEVELS that is heard as the word, else the matched synthetic word;
    `voice` records which, and why."""
    from vpipe.data.alignment import Segment
    from vpipe.speech.concat import join
    from vpipe.speech.splice import MonoMix
    from vpipe.speech.units import coverage, envelope_hook, retimed, select

    f0 = targets.f0.get(clip.name) or 0.0
    tried = []
    for name, substitute, retime, fill in LEVELS:
        choices = select(library, clip.phones, f0, substitute=substitute)
        replaced = (clip.source_start, clip.source_end)
        hook = envelope_hook(library, choices, clip.lead, fill=fill, replaced=replaced, retime=retime)
        rendered = _matched(clip, profile, targets, voice, hook)
        if audio is not None:  # the units played from the recording itself, the vocoder's word filling the rest
            spans = retimed(library, choices) if retime else [(c.target.start, c.target.end) for c in choices]
            rendered = join(MonoMix(audio), audio.rate, library, choices, spans, rendered, clip.rate, clip.lead)
        candidate = replace(clip, audio=rendered)
        margin = _heard_margin(candidate, row) if row is not None else math.inf
        if margin >= GUARD_MARGIN:
            said = f"{name} ({coverage(choices):.0%} of the word, heard margin {margin:.1f})"
            # the phones where the audio now says them (lip-sync animates these)
            phones = tuple(
                Segment(c.target.label, a, b) for c, (a, b) in zip(choices, retimed(library, choices), strict=True)
            )
            return replace(candidate, voice=said, phones=phones if retime else clip.phones)
        tried.append(f"{name}: heard margin {margin:.1f}")
    why = "; ".join(tried) or "no own units"
    return replace(clip, audio=_matched(clip, profile, targets, voice, None), voice=f"matched ({why})")


def _heard_margin(clip: Any, row: _Row) -> float:
    """QC's heard check (new words' confidence minus the recorded words') on the row's sound
    with `clip` in it: the track cut exactly as audio.splice will cut it (the same splice of
    the whole recording, the same stretch) and, where the row's AAC is spliced, heard as QC
    will decode the written file (`_as_written`), so QC finds this very check for the samples
    it decodes (vpipe.qc.audio.heard_output); else the track itself. Only the window QC
    listens to is read."""
    from vpipe.qc.audio import heard, heard_again
    from vpipe.speech.splice import MonoMix, splice
    from vpipe.speech.tts import phonemize

    span = next((s for s in row.spans.slots if s.name == clip.name), None)
    if span is None or not words_of(clip.text) or words_of(clip.text) == words_of(" ".join(span.words)):
        return math.inf  # nothing to tell apart: QC does not check it either
    clips = [*row.clips[: row.k], clip, *row.clips[row.k + 1 :]]
    slots = row.spans.slots
    track = splice(
        row.audio,
        clips,
        {s.name: " ".join(s.words) for s in slots},
        {s.name: (s.before, s.after) for s in slots},
        shift_multiple=row.multiple,
    )
    edit = next(e for e in track.edits if e.slot == clip.name)
    written = _as_written(track, row)  # an Excerpt has a len(): test None, not truth
    mono = written if written is not None else MonoMix(track.audio)
    # a level whose word came out as an earlier level's (nothing to borrow, the same fill and
    # rhythm) sounds the same there: its check is that one's, not aligned again
    check = heard_again(mono, track.audio.rate, edit, phonemize) or heard(mono, track.audio.rate, edit, phonemize)
    return check.new_confidence - check.old_confidence


def _as_written(track: Any, row: _Row) -> Any:
    """The row's sound as QC will decode it from the written file around the edits (mono), or
    None where the row's AAC is not spliced (then encoded whole, or not AAC): its packets
    spliced as the row's write will splice them (which then finds them made:
    vpipe.media.aac_row.spliced) and decoded as read_excerpt decodes the file."""
    from vpipe.media.aac_row import extradata, row_payloads
    from vpipe.qc.audio import reach
    from vpipe.qc.excerpt_packets import excerpt_of

    if row.aac is None:
        return None
    kbps, store = row.aac
    made = row_payloads(track.audio, row.audio, track.sample_shifts(), kbps, None if store is None else Path(store))
    if made is None:
        return None
    payloads, settings = made
    spans = [reach(e) for e in track.edits]
    return excerpt_of(payloads, settings.rate, settings.layout, extradata(settings), spans).mono()
