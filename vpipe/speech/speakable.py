"""Find the characters an English (Latin-script) voice cannot say, before we try to say them.

piper's en_US voices phonemize through espeak-ng's English rules: a Cyrillic name comes out as
letter names ("Дмитрий" → "de em i te er…"), emoji and private-use characters come out as
nothing, and a value with nothing pronounceable yields an empty clip. Catching these per CSV row
gives the user a precise message ("Cyrillic letters ('Дмитрий') cannot be spoken by an English
voice") instead of a wrong or silent video.

Latin letters with any diacritics or ligatures (Zoë, Łukasz, Øyvind, ß, Æ, Ð, Þ, ĳ) are speakable.
The check is meant for text that has been through `verbalize`, which already turns fullwidth
ASCII, "°", "½", "№" and the like into words, so those are not reported here.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Problem", "check_speakable", "describe"]


@dataclass(frozen=True)
class Problem:
    """Characters `start:end` of the checked text (`text`) cannot be spoken, because `reason`."""

    start: int
    end: int
    text: str
    reason: str


# Words that name a script inside Unicode character names → how we name it to a user.
_SCRIPTS = {
    "CYRILLIC": "Cyrillic",
    "GREEK": "Greek",
    "ARABIC": "Arabic",
    "HEBREW": "Hebrew",
    "DEVANAGARI": "Devanagari",
    "BENGALI": "Bengali",
    "GURMUKHI": "Gurmukhi",
    "GUJARATI": "Gujarati",
    "ORIYA": "Odia",
    "TAMIL": "Tamil",
    "TELUGU": "Telugu",
    "KANNADA": "Kannada",
    "MALAYALAM": "Malayalam",
    "SINHALA": "Sinhala",
    "THAI": "Thai",
    "LAO": "Lao",
    "TIBETAN": "Tibetan",
    "MYANMAR": "Myanmar",
    "GEORGIAN": "Georgian",
    "ARMENIAN": "Armenian",
    "ETHIOPIC": "Ethiopic",
    "KHMER": "Khmer",
    "MONGOLIAN": "Mongolian",
    "SYRIAC": "Syriac",
    "THAANA": "Thaana",
    "CHEROKEE": "Cherokee",
    "HANGUL": "Korean Hangul",
    "HIRAGANA": "Japanese hiragana",
    "KATAKANA": "Japanese katakana",
    "CJK": "Chinese",
    "BOPOMOFO": "Bopomofo",
    "YI": "Yi",
    "COPTIC": "Coptic",
    "RUNIC": "Runic",
    "OGHAM": "Ogham",
    "TIFINAGH": "Tifinagh",
    "NKO": "N'Ko",
}
# Symbols espeak-ng reads by name, so they are speakable.
# Scripts whose units a user calls "characters" rather than "letters".
_CHARACTER_SCRIPTS = frozenset({"Chinese", "Japanese hiragana", "Japanese katakana", "Korean Hangul", "Yi"})
_READABLE_SYMBOLS = frozenset("©®™°№℠℗℃℉")
_INHERIT = "inherit"  # marks, joiners and selectors belong to whatever they follow


def _is_emoji(cp: int) -> bool:
    return 0x1F000 <= cp <= 0x1FAFF or 0x2600 <= cp <= 0x27BF or 0x2B00 <= cp <= 0x2BFF


def _script_label(name: str) -> str | None:
    for word in name.replace("-", " ").split():
        if word in _SCRIPTS:
            return _SCRIPTS[word]
    return None


def _letters(script: str) -> str:
    return f"{script} {'characters' if script in _CHARACTER_SCRIPTS else 'letters'}"


def _classify(c: str) -> str | None:
    """A label for a character the voice cannot say ("Cyrillic letters", "emoji", …), None if it
    can, or `_INHERIT` for marks and joiners that share the fate of the character before them."""
    cp, cat = ord(c), unicodedata.category(c)
    name = unicodedata.name(c, "")
    if cat == "Cc":
        return None if c.isspace() else "control characters"
    if cat == "Co":
        return "private-use characters"
    if cat == "Cn":
        return "unassigned code points"
    if cat == "Cs":
        return "broken (lone surrogate) characters"
    if _is_emoji(cp):
        return "emoji"
    if cat == "Cf" or cat[0] == "M" or 0xE0000 <= cp <= 0xE007F:
        # Combining marks of a script ("DEVANAGARI VOWEL SIGN AA") are that script's; the rest
        # (accents, variation selectors, zero-width joiners, tags) go with their base character.
        label = _script_label(name) if cat[0] == "M" else None
        return _letters(label) if label else _INHERIT
    if cat == "So":
        return None if c in _READABLE_SYMBOLS else "symbols"
    if cat[0] not in "LN":
        return None  # punctuation, spaces, math and currency signs: read or skipped harmlessly
    if "LATIN" in name or cp < 0x80 or "FULLWIDTH" in name:
        return None
    if cat[0] == "N" and cat != "Nd":
        return None  # superscripts, vulgar fractions, Roman numerals: verbalize or espeak reads them
    label = _script_label(name)
    if label:
        return f"{label} digits" if cat == "Nd" else _letters(label)
    plain = unicodedata.normalize("NFKC", c)
    if plain != c and plain.isascii() and plain.isalnum():
        return "decorative letters"  # "𝐉𝐨𝐡𝐧" from a fancy-text generator, "K" (KELVIN SIGN)
    if name.startswith("MODIFIER LETTER") or name in {
        "FEMININE ORDINAL INDICATOR",
        "MASCULINE ORDINAL INDICATOR",
        "MICRO SIGN",
    }:
        return None
    first = name.split()[0].title() if name else f"U+{cp:04X}"
    return f"{first} letters"


def _reason(label: str, snippet: str) -> str:
    invisible = label in {
        "control characters",
        "private-use characters",
        "unassigned code points",
        "broken (lone surrogate) characters",
    }
    shown = ", ".join(f"U+{ord(c):04X}" for c in dict.fromkeys(snippet)) if invisible else repr(snippet)
    if label == "private-use characters":
        return f"private-use characters ({shown}) have no standard meaning, so no voice can say them"
    if label == "decorative letters":
        plain = unicodedata.normalize("NFKC", snippet)
        return (
            f"decorative letters ({shown}) cannot be spoken by an English voice; type them as plain letters ({plain!r})"
        )
    return f"{label} ({shown}) cannot be spoken by an English voice"


def check_speakable(text: str, language: str = "en") -> list[Problem]:
    """Every stretch of `text` an English voice cannot say, in order; empty when all is well.

    Neighbouring problem characters of the same kind are reported together, including across
    spaces ("Дмитрий Иванов" is one problem). Text with no letters or digits at all, or empty
    text, is one problem: there is nothing to say. Only English voices are known (`language`
    "en", "en-US", …); other languages raise ValueError rather than give a wrong verdict.
    """
    if not language.lower().replace("_", "-").split("-")[0] == "en":
        raise ValueError(f"check_speakable knows English voices only, not {language!r}")
    spans: list[tuple[int, int, str]] = []  # (start, end, label)
    for i, c in enumerate(text):
        label = _classify(c)
        if label is None:
            continue
        if label == _INHERIT:
            if spans and spans[-1][1] == i:
                spans[-1] = (spans[-1][0], i + 1, spans[-1][2])
            continue
        if spans and spans[-1][2] == label and not text[spans[-1][1] : i].strip():
            spans[-1] = (spans[-1][0], i + 1, label)
        else:
            spans.append((i, i + 1, label))
    problems = [Problem(a, b, text[a:b], _reason(label, text[a:b])) for a, b, label in spans]
    if not problems and not any(c.isalnum() for c in text):
        if not text:
            reason = "the text is empty, so there is nothing to say"
        elif not text.strip():
            reason = "the text is only whitespace, so there is nothing to say"
        else:
            reason = f"{text!r} has no letters or digits, so there is nothing to say"
        problems.append(Problem(0, len(text), text, reason))
    return problems


def describe(problems: Sequence[Problem]) -> str:
    """One line for a diagnostic: the first three reasons, and how many more there are."""
    if not problems:
        return "nothing unspeakable"
    shown = "; ".join(p.reason for p in problems[:3])
    more = len(problems) - 3
    return shown + (f"; and {more} more" if more > 0 else "")
