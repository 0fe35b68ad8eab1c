"""speech.synthesize / speech.narrate: the row's words, spoken in their sentence."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from vpipe.data.alignment import Segment, Spans
from vpipe.data.rowdata import Script
from vpipe.data.speech import SlotSpeech, Speech, SpeechWord
from vpipe.diagnostics.diagnostic import Diagnostic, DiagnosticError
from vpipe.ir.graph import Estimate, Op
from vpipe.kernel_api.backends import Backend, backend
from vpipe.kernel_api.context import RunContext
from vpipe.kernel_api.registry import Kernel, kernel
from vpipe.lexicon import Lexicon
from vpipe.speech.g2p import G2PError, timed_ipa_to_arpabet
from vpipe.speech.piper_client import WorkerError
from vpipe.speech.prepare import PreparedText, Unspeakable, prepare
from vpipe.speech.tts import EngineOutput, engine_class
from vpipe.speech.voices import resolve_piper
from vpipe.speech.wordtiming import sentence_scales


def _piper_files(voice: str, base: Path | None) -> tuple[str, Path]:
    files = resolve_piper(voice, base)  # UnknownVoice is a LookupError
    return files.name, files.model


# The engines a recipe's `voice.engine` names (their code: vpipe.speech.tts); both run in the
# GPL worker process.
PIPER = backend(
    Backend(
        "piper",
        "tts",
        auto=10,
        summary="neural (VITS, ONNX), offline; per-phoneme length control",
        catalog="piper:en_US-joe-medium",
        devices=("cpu", "cuda"),
        default_voice="en_US-joe-medium",
        resolve_voice=_piper_files,
    )
)
ESPEAK = backend(
    Backend(
        "espeak",
        "tts",
        summary="formant synthesis (espeak-ng), the fallback engine",
        catalog="espeak",
        default_voice="en-us",
    )
)

LENGTH_CONTROL_TOLERANCE = 0.03  # re-synthesize only when the slot is off by more than 3 %
DECODE_PAD = 0.1  # seconds of the sentence decoded around the slot words (the cut keeps 30 ms)


def engine_for(op: Op, rt: RunContext) -> Any:
    name, voice = str(op.attr("engine")), str(op.attr("voice"))
    cls = engine_class(name)
    # an engine that prepares its voice keeps the prepared form beside the cache, for the next process
    extra = {"store": rt.store_dir} if getattr(cls, "keeps_prepared", False) and rt.store_dir else {}
    return rt.resource(f"tts:{name}:{voice}", lambda: cls(voice, Path.cwd(), **extra))


def _fail(rt: RunContext, code: str, message: str, help: str | None = None) -> DiagnosticError:
    return DiagnosticError(Diagnostic(code, message, rt.row_span(), help=help))


def _prepare(script: Script, lexicon: Lexicon, engine: Any, rt: RunContext, whole: bool) -> PreparedText:
    spans = [(s.name, s.start, s.end) for s in script.spans]
    if whole:
        spans = spans or [("", 0, len(script.text))]
    try:
        return prepare(script.text, spans, lexicon, engine.supports_ipa, whole=whole)
    except Unspeakable as exc:
        row = rt.row.index if rt.row else "?"
        what = f"'{exc.slot}'" if exc.slot else "the script"
        raise _fail(
            rt,
            "VP305",
            f"row {row}: {what} cannot be spoken: {exc}",
            help="give a Latin-script spelling of the value, or a pronunciation in the lexicon",
        ) from None


def speak(engine: Any, text: str, speed: float, rt: RunContext) -> EngineOutput:
    try:
        return engine.synthesize(text, speed)
    except WorkerError as exc:
        raise _fail(rt, "VP307", f"speech synthesis failed: {exc}") from None


def build_speech(out: EngineOutput, prepared: PreparedText, engine: Any) -> Speech:
    rate = out.rate
    words: list[SpeechWord] = []
    index_of_token: dict[int, int] = {}
    for k, w in enumerate(out.words):
        if w.start is None or w.end is None:
            continue
        symbols = [(p.phoneme, p.start / rate, p.end / rate) for p in w.phonemes]
        try:
            phones = tuple(Segment(p, a, b) for p, a, b in timed_ipa_to_arpabet(symbols, w.token.text))
        except G2PError:
            phones = ()
        index_of_token[k] = len(words)
        words.append(SpeechWord(w.token.text, w.token.start, w.token.end, w.start / rate, w.end / rate, phones))
    slots: list[SlotSpeech] = []
    for s in prepared.slots:
        inside = [
            index_of_token[k]
            for k, w in enumerate(out.words)
            if k in index_of_token and w.token.start < s.end and w.token.end > s.start
        ]
        if not inside:
            raise ValueError(f"the synthesizer produced no audible word for slot '{s.name}'")
        slots.append(SlotSpeech(s.name, prepared.text[s.start : s.end], s.value, min(inside), max(inside)))
    return Speech(
        out.audio, rate, prepared.text, tuple(words), tuple(slots), engine.name, engine.voice_id, out.offset / rate
    )


def slot_duration(speech: Speech, name: str) -> float:
    s = speech.slot(name)
    return speech.words[s.last_word].end - speech.words[s.first_word].start


def slot_ratios(speech: Speech, spans: Spans, policy: str, max_stretch: float) -> dict[str, float]:
    """Per slot, how much longer the new words should be said to take the recorded words'
    time, limited to what the policy lets the synthesizer do (fit: up to 2×; speech.fit
    time-scales any rest and warns)."""
    out: dict[str, float] = {}
    for s in speech.slots:
        loc = spans.get(s.name)
        natural, target = slot_duration(speech, s.name), loc.end - loc.start
        ratio = target / natural if natural > 0 and target > 0 else 1.0
        if policy == "elastic":
            ratio = 1.0
        elif policy == "auto":
            ratio = min(max(ratio, 1 - max_stretch), 1 + max_stretch)
        else:
            ratio = min(max(ratio, 0.5), 2.0)
        out[s.name] = ratio
    return out


def slot_phoneme_factors(out: EngineOutput, speech: Speech, ratios: dict[str, float]) -> dict[int, float]:
    """Flat phoneme index → duration factor: every phoneme from a slot's first word to its
    last (stress marks and the spaces between its words included)."""
    factors: dict[int, float] = {}
    timed = [w for w in out.words if w.start is not None]
    for s in speech.slots:
        first, last = timed[s.first_word].phonemes, timed[s.last_word].phonemes
        if first and last and abs(ratios[s.name] - 1.0) > LENGTH_CONTROL_TOLERANCE:
            for k in range(first[0].index, last[-1].index + 1):
                factors[k] = ratios[s.name]
    return factors


def slot_phoneme_range(out: EngineOutput, speech: Speech) -> tuple[int, int] | None:
    """First and last flat phoneme index of all slot words: the only audio a row needs."""
    timed = [w for w in out.words if w.start is not None]
    indices = [p.index for s in speech.slots for w in timed[s.first_word : s.last_word + 1] for p in w.phonemes]
    return (min(indices), max(indices)) if indices and min(indices) >= 0 else None


def length_scale_for(speech: Speech, spans: Spans, policy: str, max_stretch: float) -> float:
    """One speed for the whole text (engines without per-phoneme control): the geometric
    mean of the slot ratios."""
    ratios = list(slot_ratios(speech, spans, policy, max_stretch).values())
    return math.exp(sum(math.log(r) for r in ratios) / len(ratios)) if ratios else 1.0


@kernel("speech.synthesize", backend="tts")
class Synthesize(Kernel):
    version = "5"

    def estimate(self, op: Op, context: dict[str, Any]) -> Estimate:
        return Estimate(seconds=0.25, ram_mb=250)

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> Speech:
        script, lexicon, spans = inputs
        wanted = {s.name for s in spans.slots}
        if not wanted:  # every slot says the recorded word (keep-recorded): nothing to synthesize
            return Speech(
                np.zeros(0, np.float32), 22050, script.text, (), (), str(op.attr("engine")), str(op.attr("voice"))
            )
        # the slots that keep the recording stay in the text (context), but are not cut or timed
        script = replace(script, spans=tuple(s for s in script.spans if s.name in wanted))
        engine = engine_for(op, rt)
        speed = float(op.attr("speed"))
        policy, max_stretch = str(op.attr("policy")), float(op.attr("max_stretch"))
        prepared = _prepare(script, lexicon, engine, rt, whole=False)
        timing = getattr(engine, "durations", None)
        if timing is None:  # an engine without a duration pass: synthesize, then steer once
            speech = build_speech(speak(engine, prepared.text, speed, rt), prepared, engine)
            ratio = length_scale_for(speech, spans, policy, max_stretch)
            if abs(ratio - 1.0) <= LENGTH_CONTROL_TOLERANCE:
                return speech
            steered = build_speech(speak(engine, prepared.text, speed / ratio, rt), prepared, engine)
            return steered if _error(steered, spans) < _error(speech, spans) else speech
        # The synthesizer's own length control keeps the voice natural: its duration pass says
        # how long the slot words come out, the one synthesis lengthens or shortens just those
        # words' phonemes towards the recorded words (the context keeps its timing), and WSOLA
        # in speech.fit removes only the residual of rounding to frames.
        timed = timing(prepared.text, speed)
        natural = build_speech(timed, prepared, engine)
        ratios = slot_ratios(natural, spans, policy, max_stretch)
        factors = slot_phoneme_factors(timed, natural, ratios)
        scales = sentence_scales(timed.phonemes, factors) if factors else None
        if scales:  # durations round up to whole frames: correct the factors once (another ~20 ms pass)
            got = build_speech(engine.durations(prepared.text, speed, scales), prepared, engine)
            corrected = {}
            for name, ratio in ratios.items():
                achieved = slot_duration(got, name) / max(slot_duration(natural, name), 1e-6)
                corrected[name] = ratio * ratio / achieved if achieved > 0 else ratio
            factors = slot_phoneme_factors(timed, natural, corrected)
            scales = sentence_scales(timed.phonemes, factors) if factors else None
        needed = slot_phoneme_range(timed, natural)  # decode only the slot words (most of the cost)
        decode = (*needed, DECODE_PAD) if needed else None
        try:
            out = engine.synthesize(prepared.text, speed, scales, decode)
        except WorkerError as exc:
            raise _fail(rt, "VP307", f"speech synthesis failed: {exc}") from None
        return build_speech(out, prepared, engine)


def _error(speech: Speech, spans: Spans) -> float:
    return sum(
        abs(
            math.log(
                max(slot_duration(speech, s.name), 1e-3) / max(spans.get(s.name).end - spans.get(s.name).start, 1e-3)
            )
        )
        for s in speech.slots
    )


@kernel("speech.narrate", backend="tts")
class Narrate(Kernel):
    version = "2"

    def estimate(self, op: Op, context: dict[str, Any]) -> Estimate:
        return Estimate(seconds=0.5, ram_mb=250)

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> Speech:
        script, lexicon = inputs
        engine = engine_for(op, rt)
        prepared = _prepare(script, lexicon, engine, rt, whole=True)
        prepared = PreparedText(prepared.text, tuple(s for s in prepared.slots if s.name), prepared.ipa)
        return build_speech(speak(engine, prepared.text, float(op.attr("speed")), rt), prepared, engine)
