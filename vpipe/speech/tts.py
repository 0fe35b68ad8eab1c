"""Speech synthesis engines behind one interface.

An engine speaks prepared text and says, for every whitespace token, which samples it
occupies. piper (neural, the embedded default) and espeak-ng (formant fallback) run in
the GPL worker process; cloud or voice-cloning engines (ElevenLabs, XTTS, OpenVoice) plug
in through the `vpipe.tts` entry-point group with the same interface.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import ClassVar, Protocol

import numpy as np

from vpipe.speech.piper_client import decode_audio, worker
from vpipe.speech.voices import resolve_piper
from vpipe.speech.wordtiming import PhoneSpan, Token, WordSpan, attribute, phone_spans, tokens


@dataclass(frozen=True)
class EngineOutput:
    audio: np.ndarray  # float32 mono
    rate: int
    words: list[WordSpan]  # one per whitespace token of the text
    phonemes: list[PhoneSpan] = field(default_factory=list)  # every phoneme, in order (engines that report them)
    offset: int = 0  # the sample of the whole utterance where `audio` starts (partial decoding)


class TtsEngine(Protocol):
    name: ClassVar[str]
    supports_ipa: ClassVar[bool]  # understands [[ ipa ]] blocks

    @property
    def voice_id(self) -> str: ...

    def synthesize(self, text: str, speed: float = 1.0) -> EngineOutput: ...


_IPA_CACHE: dict[tuple[str, str], str] = {}


def phonemize(words: list[str], voice: str = "en-us") -> list[str]:
    """espeak-ng IPA of each word said on its own (memoised per process)."""
    missing = sorted({w for w in words if (voice, w) not in _IPA_CACHE})
    if missing:
        reply = worker().request({"op": "phonemize", "voice": voice, "texts": missing})
        for w, ipa in zip(missing, reply["ipa"], strict=True):
            _IPA_CACHE[(voice, w)] = ipa
    return [_IPA_CACHE[(voice, w)] for w in words]


class PiperEngine:
    name: ClassVar[str] = "piper"
    supports_ipa: ClassVar[bool] = True
    keeps_prepared: ClassVar[bool] = True  # takes `store`: where its prepared voice is kept between processes

    def __init__(self, voice: str, base: Path | None = None, store: Path | None = None) -> None:
        self.files = resolve_piper(voice, base)
        self.store = store
        self._espeak_voice: str | None = None
        self._rate = 0

    @property
    def voice_id(self) -> str:
        return self.files.name

    def _load(self) -> str:
        if self._espeak_voice is None:
            reply = worker().request({"op": "load", **self._voice_fields()})
            self._espeak_voice = str(reply["espeak_voice"])
            self._rate = int(reply["sample_rate"])
        return self._espeak_voice

    def _voice_fields(self) -> dict[str, str]:
        fields = {"model": str(self.files.model), "config": str(self.files.config)}
        return fields | ({"store": str(self.store)} if self.store is not None else {})

    def sample_rate(self) -> int:
        self._load()
        return self._rate

    def synthesize(
        self,
        text: str,
        speed: float = 1.0,
        phoneme_scales: list[list[float]] | None = None,
        decode: tuple[int, int, float] | None = None,
    ) -> EngineOutput:
        """`phoneme_scales`: per sentence, a duration factor for every phoneme (as `phonemes`
        of a `durations` call lists them): lengthens or shortens chosen words only.
        `decode` = (first, last, pad seconds): render only the audio from phoneme `first` to
        `last` (flat indices, as `phonemes` lists them) with `pad` around it; the result's
        `offset` says where it starts. Word and phoneme timings still cover the whole text."""
        return self._run("synthesize", text, speed, phoneme_scales, decode)

    def durations(self, text: str, speed: float = 1.0, phoneme_scales: list[list[float]] | None = None) -> EngineOutput:
        """Word timings without the audio (the model's duration predictor only, ~20 ms):
        what length control needs before the one real synthesis."""
        return self._run("durations", text, speed, phoneme_scales)

    def _run(
        self,
        op: str,
        text: str,
        speed: float,
        phoneme_scales: list[list[float]] | None,
        decode: tuple[int, int, float] | None = None,
    ) -> EngineOutput:
        espeak_voice = self._load()
        request: dict[str, object] = {
            "op": op,
            **self._voice_fields(),
            "text": text,
            "length_scale": 1.0 / speed,
        }
        if phoneme_scales:
            request["phoneme_scales"] = phoneme_scales
        if decode is not None:
            request["decode"] = [int(decode[0]), int(decode[1]), round(decode[2] * self.sample_rate())]
        reply = worker().request(request)
        spans = phone_spans([(p, int(n)) for p, n in reply["phonemes"]])
        audio = (
            decode_audio(reply["audio"]) if "audio" in reply else np.zeros(spans[-1].end if spans else 0, np.float32)
        )
        toks = tokens(text)
        plain = [t.text for t in toks if not t.text.startswith("[[")]
        ipa_of = dict(zip(plain, phonemize(plain, espeak_voice), strict=True))
        token_ipa = [t.text[2:-2].strip() if t.text.startswith("[[") else ipa_of[t.text] for t in toks]
        return EngineOutput(
            audio, int(reply["sample_rate"]), attribute(spans, toks, token_ipa), spans, int(reply.get("offset", 0))
        )


class EspeakEngine:
    """espeak-ng formant synthesis: robotic, but always available offline. Word times come
    from espeak's own word events; lexicon phones are not supported (respellings are)."""

    name: ClassVar[str] = "espeak"
    supports_ipa: ClassVar[bool] = False

    def __init__(self, voice: str = "en-us", base: Path | None = None) -> None:
        self.voice = voice

    @property
    def voice_id(self) -> str:
        return f"espeak:{self.voice}"

    def synthesize(self, text: str, speed: float = 1.0) -> EngineOutput:
        reply = worker().request({"op": "espeak", "voice": self.voice, "text": text, "rate": int(165 * speed)})
        audio = decode_audio(reply["audio"])
        rate = int(reply["sample_rate"])
        toks = tokens(text)
        events = sorted((int(pos), int(ms)) for pos, _, ms in reply["words"])
        words: list[WordSpan] = []
        for tok in toks:
            starts = [ms for pos, ms in events if tok.start <= pos < tok.end]
            if not starts:
                words.append(WordSpan(tok, None, None, ()))
                continue
            start = int(starts[0] * rate / 1000)
            later = [ms for pos, ms in events if pos >= tok.end]
            end = int(later[0] * rate / 1000) if later else len(audio)
            words.append(WordSpan(tok, start, end, (PhoneSpan(tok.text, start, end),)))
        return EngineOutput(audio, rate, words)


BUILTIN_ENGINES: dict[str, type] = {"piper": PiperEngine, "espeak": EspeakEngine}


def engine_class(name: str) -> type:
    if name in BUILTIN_ENGINES:
        return BUILTIN_ENGINES[name]
    for ep in entry_points(group="vpipe.tts"):
        if ep.name == name:
            cls: type = ep.load()
            return cls
    raise LookupError(f"unknown speech engine '{name}'")


__all__ = ["EngineOutput", "EspeakEngine", "PiperEngine", "Token", "TtsEngine", "engine_class", "phonemize"]
