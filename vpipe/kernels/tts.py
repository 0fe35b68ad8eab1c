"""speech.synthesize / speech.narrate: the row's words, spoken in their sentence."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from vpipe.data.alignment import Segment, Spans
from vpipe.data.rowdata import Script
from vpipe.data.speech import SlotSpeech, Speech, SpeechWord
from vpipe.diagnostics.diagnostic import Diagnostic, DiagnosticError
from vpipe.ir.graph import Estimate, Op
from vpipe.kernels.registry import Kernel, kernel
from vpipe.lexicon import Lexicon
from vpipe.speech.g2p import G2PError, timed_ipa_to_arpabet
from vpipe.speech.piper_client import WorkerError
from vpipe.speech.prepare import PreparedText, Unspeakable, prepare
from vpipe.speech.tts import EngineOutput, engine_class

LENGTH_CONTROL_TOLERANCE = 0.03  # re-synthesize only when the slot is off by more than 3 %


def _engine(op: Op, rt: Any) -> Any:
    name, voice = str(op.attr("engine")), str(op.attr("voice"))
    return rt.resource(f"tts:{name}:{voice}", lambda: engine_class(name)(voice, Path.cwd()))


def _fail(rt: Any, code: str, message: str, help: str | None = None) -> DiagnosticError:
    return DiagnosticError(Diagnostic(code, message, rt.row_span(), help=help))


def _prepare(script: Script, lexicon: Lexicon, engine: Any, rt: Any, whole: bool) -> PreparedText:
    spans = [(s.name, s.start, s.end) for s in script.spans]
    if whole:
        spans = spans or [("", 0, len(script.text))]
    try:
        return prepare(script.text, spans, lexicon, engine.supports_ipa)
    except Unspeakable as exc:
        row = rt.row.index if rt.row else "?"
        what = f"'{exc.slot}'" if exc.slot else "the script"
        raise _fail(
            rt,
            "VP305",
            f"row {row}: {what} cannot be spoken: {exc}",
            help="give a Latin-script spelling of the value, or a pronunciation in the lexicon",
        ) from None


def _speak(engine: Any, text: str, speed: float, rt: Any) -> EngineOutput:
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
    return Speech(out.audio, rate, prepared.text, tuple(words), tuple(slots), engine.name, engine.voice_id)


def slot_duration(speech: Speech, name: str) -> float:
    s = speech.slot(name)
    return speech.words[s.last_word].end - speech.words[s.first_word].start


def length_scale_for(speech: Speech, spans: Spans, policy: str, max_stretch: float) -> float:
    """The speed change that brings the slot words closest to the recorded words' durations
    (geometric mean over slots), limited to what the policy allows."""
    if policy == "elastic" or not speech.slots:
        return 1.0
    ratios = []
    for s in speech.slots:
        target = spans.get(s.name).end - spans.get(s.name).start
        natural = slot_duration(speech, s.name)
        if natural > 0 and target > 0:
            ratios.append(target / natural)
    if not ratios:
        return 1.0
    ratio = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    if policy == "auto":
        ratio = min(max(ratio, 1 - max_stretch), 1 + max_stretch)
    return ratio


@kernel("speech.synthesize", backend="tts")
class Synthesize(Kernel):
    version = "1"

    def estimate(self, op: Op, context: dict[str, Any]) -> Estimate:
        return Estimate(seconds=0.25, ram_mb=250)

    def run(self, op: Op, inputs: list[Any], rt: Any) -> Speech:
        script, lexicon, spans = inputs
        engine = _engine(op, rt)
        speed = float(op.attr("speed", 1.0))
        prepared = _prepare(script, lexicon, engine, rt, whole=False)
        speech = build_speech(_speak(engine, prepared.text, speed, rt), prepared, engine)
        ratio = length_scale_for(speech, spans, str(op.attr("policy", "auto")), float(op.attr("max_stretch", 0.2)))
        if abs(ratio - 1.0) > LENGTH_CONTROL_TOLERANCE and engine.name == "piper":
            # The synthesizer's own length control keeps the voice natural; WSOLA in speech.fit
            # then only removes the few-percent residual.
            steered = build_speech(_speak(engine, prepared.text, speed / ratio, rt), prepared, engine)
            if _error(steered, spans) < _error(speech, spans):
                speech = steered
        return speech


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
    version = "1"

    def estimate(self, op: Op, context: dict[str, Any]) -> Estimate:
        return Estimate(seconds=0.5, ram_mb=250)

    def run(self, op: Op, inputs: list[Any], rt: Any) -> Speech:
        script, lexicon = inputs
        engine = _engine(op, rt)
        prepared = _prepare(script, lexicon, engine, rt, whole=True)
        prepared = PreparedText(prepared.text, tuple(s for s in prepared.slots if s.name), prepared.ipa)
        return build_speech(_speak(engine, prepared.text, float(op.attr("speed", 1.0)), rt), prepared, engine)
