"""Timed words and phones of a stretch of speech, and where the slots are in it."""

from __future__ import annotations

from dataclasses import dataclass

from vpipe.data.codec import cacheable


@cacheable("Segment")
@dataclass(frozen=True)
class Segment:
    label: str  # a word (lower case) or an ARPAbet phone; "SIL" for silence
    start: float  # seconds
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@cacheable("Alignment")
@dataclass(frozen=True)
class Alignment:
    """`words[i]` is the i-th word of `transcript` as `vpipe.text.words_of` splits it, so a
    word index found in the transcript text indexes the timings directly."""

    transcript: str
    words: tuple[Segment, ...]
    phones: tuple[Segment, ...]  # every phone in time order, silences included
    word_phones: tuple[tuple[int, int], ...]  # phones[a:b] belong to words[i]
    duration: float
    engine: str = ""
    scores: tuple[float, ...] = ()  # per-word confidence (see vpipe.speech.align); empty if not measured

    def phones_of(self, first_word: int, count: int = 1) -> tuple[Segment, ...]:
        a = self.word_phones[first_word][0]
        b = self.word_phones[first_word + count - 1][1]
        return self.phones[a:b]


@cacheable("SlotLocation")
@dataclass(frozen=True)
class SlotLocation:
    name: str
    words: tuple[str, ...]  # the recorded words the slot replaces
    word_index: int  # index of the first of them in the transcript
    start: float  # seconds in the source audio
    end: float
    phones: tuple[Segment, ...]
    before: tuple[Segment, ...] = ()  # up to 3 recorded words just before the slot (context)
    after: tuple[Segment, ...] = ()  # ... and just after it


@cacheable("Spans")
@dataclass(frozen=True)
class Spans:
    slots: tuple[SlotLocation, ...]  # in time order

    def get(self, name: str) -> SlotLocation:
        for s in self.slots:
            if s.name == name:
                return s
        raise KeyError(name)
