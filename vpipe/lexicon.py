"""Pronunciation lexicon: word → ARPAbet phones or a respelling.

One lexicon is shared by the synthesizer and the aligner, so the new word is said the way
the aligner expects to hear it. Entries come from the recipe (inline or a YAML file) and
from a per-row column ("zoë=Z OW IY; siobhan=shiv awn").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

# The 39 phones of the CMU dictionary, which pocketsphinx's en-us model uses (no stress).
ARPABET = frozenset(
    [
        "AA",
        "AE",
        "AH",
        "AO",
        "AW",
        "AY",
        "B",
        "CH",
        "D",
        "DH",
        "EH",
        "ER",
        "EY",
        "F",
        "G",
        "HH",
        "IH",
        "IY",
        "JH",
        "K",
        "L",
        "M",
        "N",
        "NG",
        "OW",
        "OY",
        "P",
        "R",
        "S",
        "SH",
        "T",
        "TH",
        "UH",
        "UW",
        "V",
        "W",
        "Y",
        "Z",
        "ZH",
    ]
)
_STRESS = re.compile(r"[012]$")


def normalize_word(word: str) -> str:
    """Lexicon keys: NFC, lower case, outer punctuation removed ('Zoë,' → 'zoë')."""
    word = unicodedata.normalize("NFC", word).strip().lower()
    return word.strip('.,;:!?"“”()[]{}')


def parse_phones(text: str) -> tuple[str, ...] | None:
    """'Z OW1 IY0' → ('Z', 'OW', 'IY'); None when `text` is not an ARPAbet string."""
    tokens = text.split()
    if not tokens or any(t != t.upper() for t in tokens):
        return None
    phones = tuple(_STRESS.sub("", t) for t in tokens)
    return phones if all(p in ARPABET for p in phones) else None


def looks_like_phones(text: str) -> bool:
    """Upper-case tokens mean the author meant phones (so a typo is an error, not a respelling)."""
    tokens = text.split()
    return bool(tokens) and all(t == t.upper() and any(c.isalpha() for c in t) for t in tokens)


@dataclass(frozen=True)
class Pronunciation:
    phones: tuple[str, ...] | None = None
    respelling: str | None = None

    def describe(self) -> str:
        return " ".join(self.phones) if self.phones else f"“{self.respelling}”"


class LexiconError(ValueError):
    def __init__(self, word: str, message: str) -> None:
        super().__init__(message)
        self.word = word


def parse_entry(word: str, value: str) -> Pronunciation:
    value = value.strip()
    if not value:
        raise LexiconError(word, f"pronunciation of '{word}' is empty")
    if looks_like_phones(value):
        phones = parse_phones(value)
        if phones is None:
            bad = [t for t in value.split() if _STRESS.sub("", t) not in ARPABET]
            raise LexiconError(word, f"'{' '.join(bad)}' in the pronunciation of '{word}' is not an ARPAbet phone")
        return Pronunciation(phones=phones)
    return Pronunciation(respelling=value)


@dataclass(frozen=True)
class Lexicon:
    entries: Mapping[str, Pronunciation] = field(default_factory=dict)

    def lookup(self, word: str) -> Pronunciation | None:
        return self.entries.get(normalize_word(word))

    def merged(self, other: Lexicon) -> Lexicon:
        """`other` wins: per-row pronunciations override the recipe's."""
        return Lexicon({**self.entries, **other.entries})

    def to_json(self) -> dict[str, dict[str, object]]:
        return {
            w: ({"phones": list(p.phones)} if p.phones else {"respelling": p.respelling})
            for w, p in sorted(self.entries.items())
        }

    @staticmethod
    def from_json(data: Mapping[str, Mapping[str, object]]) -> Lexicon:
        entries = {}
        for w, p in data.items():
            phones = p.get("phones")
            entries[w] = Pronunciation(
                phones=tuple(str(x) for x in phones) if isinstance(phones, list) else None,
                respelling=str(p["respelling"]) if p.get("respelling") is not None else None,
            )
        return Lexicon(entries)


def parse_mapping(mapping: Mapping[str, object]) -> tuple[Lexicon, list[LexiconError]]:
    entries: dict[str, Pronunciation] = {}
    errors: list[LexiconError] = []
    for word, value in mapping.items():
        key = normalize_word(str(word))
        if not isinstance(value, str):
            errors.append(LexiconError(str(word), f"pronunciation of '{word}' must be a string"))
            continue
        try:
            entries[key] = parse_entry(str(word), value)
        except LexiconError as exc:
            errors.append(exc)
    return Lexicon(entries), errors


def parse_row_column(text: str) -> Lexicon:
    """'zoë=Z OW IY; siobhan=shiv awn' → Lexicon. Raises LexiconError."""
    entries: dict[str, Pronunciation] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        if "=" not in part:
            raise LexiconError(part.strip(), f"'{part.strip()}' must be written word=pronunciation")
        word, value = part.split("=", 1)
        entries[normalize_word(word)] = parse_entry(word.strip(), value)
    return Lexicon(entries)
