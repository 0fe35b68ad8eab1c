"""The shared real clips as the end-to-end tests and the benchmarks use them: each with its
(verified) transcript, the recorded words that become the slot, a template that is a stretch
of the transcript, and replacement values (shorter, longer and multi-word ones)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.media import shared_media


@dataclass(frozen=True)
class Clip:
    name: str
    file: str
    transcript: str
    slot_word: str
    template: str
    values: tuple[str, ...]

    @property
    def source(self) -> Path:
        return shared_media(self.file)


INTERVIEW = Clip(
    "interview",
    "interview_man.mp4",
    "my biggest weakness is asking for help when needed i like to do better and i",
    "help",
    "My biggest weakness is asking for {{ value }} when needed.",
    ("feedback", "support", "advice", "guidance", "mentoring", "direction"),
)
GLASSES = Clip(
    "glasses",
    "glasses_woman.mp4",
    "bringing in reforms to tighten that regulation and his",
    "regulation",
    "bringing in reforms to tighten that {{ value }} and his",
    ("legislation", "oversight", "market", "supervision", "framework", "policy"),
)
STUDIO = Clip(
    "studio",
    "studio_woman.mp4",
    "sign at him and he represents the european central bank and in my life as the body of your opponents "
    "essential that my knee",
    "european central bank",
    "he represents the {{ value }} and",
    ("federal reserve", "bank of england", "world bank", "monetary fund", "treasury", "bank of japan"),
)
# The phone-style case: 1080×1920 portrait, 25 fps, 10 s, accented English. Held out: the
# quality work of issue 12 was tuned on the three clips above and never looked at this one's
# figures while tuning; benchmarks report it apart (HELD_OUT).
PORTRAIT = Clip(
    "portrait",
    "portrait_hd.mp4",
    "think it as the legacy of the sunken meadow any of them and then it's a custom mean you don't get that "
    "big fast food blog an idea she's a good idea",
    "legacy",
    "think it as the {{ value }} of the sunken meadow",
    ("heritage", "history", "tradition", "memory", "spirit", "story"),
)
CLIPS = (INTERVIEW, GLASSES, STUDIO)
HELD_OUT = (PORTRAIT,)
