"""Synthesized speech and the new audio of each slot."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vpipe.data.alignment import Segment
from vpipe.data.codec import cacheable


@cacheable("SpeechWord")
@dataclass(frozen=True)
class SpeechWord:
    text: str  # the word as synthesized (after verbalization and respelling)
    char_start: int  # offsets in Speech.text
    char_end: int
    start: float  # seconds in Speech.audio
    end: float
    phones: tuple[Segment, ...]  # ARPAbet phones with times (seconds, in Speech.audio)


@cacheable("SlotSpeech")
@dataclass(frozen=True)
class SlotSpeech:
    name: str
    text: str  # what is spoken for the slot, e.g. "twenty-five dollars"
    value: str  # the row's value as written, e.g. "$25"
    first_word: int  # index into Speech.words
    last_word: int


@cacheable("Speech")
@dataclass(frozen=True)
class Speech:
    """Word and phone times cover the whole text; `audio` may be just the stretch a row
    needs (the slot words with some context), starting at `offset` seconds."""

    audio: np.ndarray  # float32 mono
    rate: int
    text: str
    words: tuple[SpeechWord, ...]
    slots: tuple[SlotSpeech, ...]
    engine: str
    voice: str
    offset: float = 0.0  # seconds of the utterance before audio[0]

    def slot(self, name: str) -> SlotSpeech:
        for s in self.slots:
            if s.name == name:
                return s
        raise KeyError(name)


@cacheable("SlotClip")
@dataclass(frozen=True)
class SlotClip:
    """The new audio of one slot, ready to splice into the source timeline."""

    name: str
    text: str
    audio: np.ndarray  # float32 mono, at `rate`
    rate: int
    lead: float  # seconds of context before the word inside `audio` (crossfade room)
    tail: float  # seconds of context after the word
    source_start: float  # the recorded word's span in the source (seconds)
    source_end: float
    duration: float  # the new word's duration (without lead/tail)
    stretch: float  # applied time scale (1.0 = natural length)
    fitted: bool  # True: the word replaces the recorded word's exact span; False: elastic
    phones: tuple[Segment, ...]  # ARPAbet phones, times relative to the word start
    voice: str = ""  # how the voice was matched (speech.match_voice), for the manifest; "" before


@cacheable("SlotAudio")
@dataclass(frozen=True)
class SlotAudio:
    clips: tuple[SlotClip, ...]  # in source time order
    policy: str  # "fit" or "elastic" as applied

    def clip(self, name: str) -> SlotClip:
        for c in self.clips:
            if c.name == name:
                return c
        raise KeyError(name)


@cacheable("SlotTargets")
@dataclass(frozen=True)
class SlotTargets:
    """What each new word should match in its place: the recorded word's median pitch (0.0
    when unvoiced) and the loudness of the speech within a second around it (LUFS scale)."""

    f0: dict[str, float]
    loudness: dict[str, float]
