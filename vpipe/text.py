"""Words as the aligner and the slot resolver see them: lower case, no punctuation.

"Hi John, welcome to Paris!" → ["hi", "john", "welcome", "to", "paris"]. Apostrophes inside
words stay ("don't"); hyphens split ("well-known" → "well", "known").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)


@dataclass(frozen=True)
class WordToken:
    text: str  # normalized (lower case, NFC, straight apostrophe)
    start: int  # character offsets into the original string
    end: int


def tokenize(text: str) -> list[WordToken]:
    text = unicodedata.normalize("NFC", text)
    return [WordToken(m.group(0).lower().replace("’", "'"), m.start(), m.end()) for m in _WORD.finditer(text)]


def words_of(text: str) -> list[str]:
    return [t.text for t in tokenize(text)]


def find_sequence(haystack: list[str], needle: list[str]) -> list[int]:
    """Start indices of every occurrence of `needle` as consecutive words in `haystack`."""
    n = len(needle)
    if n == 0:
        return []
    return [i for i in range(len(haystack) - n + 1) if haystack[i : i + n] == needle]


def control_character(text: str) -> str | None:
    """What is wrong with `text` when it holds a control or format character (tab and newline
    aside): it cannot be spoken."""
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\t\n":
            return f"contains the control character U+{ord(ch):04X}"
    return None
