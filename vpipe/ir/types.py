"""IR value types: a name plus optional parameters, printed `Video<fps=25, h=512, w=512>`.

Parameters are facts known at compile time (from probing the source); a type without a
parameter means "not known yet", and is compatible with any value of that parameter.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

# Every type the IR knows, with what a value of it is at run time.
TYPE_DOCS: dict[str, str] = {
    "Video": "a source video file (fps, w, h, frames)",
    "GopLayout": "a source video's GOP layout and whether rows can be spliced on it as it is",
    "Image": "a still source image (w, h)",
    "Audio": "PCM audio (sr, ch)",
    "Text": "plain text (a transcript)",
    "Lexicon": "word → pronunciation entries",
    "Alignment": "word and phone timings of an audio track",
    "Spans": "the time spans of the slots in the source",
    "Profile": "a speaker profile (pitch, spectral envelope, loudness, room tone)",
    "Landmarks": "per-frame face landmarks, pose and presence",
    "Inventory": "a library of the speaker's mouth shapes",
    "Row": "one recipient row",
    "Script": "rendered script text with slot character spans",
    "Speech": "synthesized speech with phone timings",
    "SlotAudio": "the new audio of each slot, with phone timings",
    "SlotTargets": "the recorded slot words' pitch and surrounding loudness",
    "UnitLibrary": "the source speaker's phones as WORLD envelopes and aperiodicities",
    "VoiceStats": "the synthetic voice measured on the source's transcript (pitch, envelope)",
    "Track": "the row's full audio track and its timeline edits",
    "Frames": "re-rendered frames and the output timeline",
    "File": "a written output file",
    "Report": "quality measurements of an output",
    "ModelRef": "loaded model weights (by hash)",
}


class Scope(StrEnum):
    SHARED = "shared"  # computed once per run (once per source)
    PER_ROW = "per_row"  # computed once for every row


@dataclass(frozen=True)
class Type:
    name: str
    params: tuple[tuple[str, Any], ...] = ()

    @staticmethod
    def of(name: str, **params: Any) -> Type:
        return Type(name, tuple(sorted((k, v) for k, v in params.items() if v is not None)))

    def param(self, key: str, default: Any = None) -> Any:
        return dict(self.params).get(key, default)

    def compatible(self, other: Type) -> bool:
        """Same name, and no parameter known on both sides with different values."""
        if self.name != other.name:
            return False
        mine = dict(self.params)
        return all(mine.get(k, v) == v for k, v in other.params)

    def __str__(self) -> str:
        if not self.params:
            return self.name
        inner = ", ".join(f"{k}={json.dumps(v)}" for k, v in self.params)
        return f"{self.name}<{inner}>"
