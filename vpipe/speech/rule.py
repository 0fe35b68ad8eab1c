"""The shape of one verbalization rule, and the small helpers several rules share.

A rule is a regular expression plus a function that says the match aloud, or declines (returns
None) so that a later rule can try. Rules live in `rules_numeric` (numbers, money, dates, times,
phone numbers) and `rules_words` (addresses, abbreviations, acronyms); `verbalize` tries them in
order at each position. Keeping the type here lets both rule modules share it without importing
the engine.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from vpipe.speech.numbers import cardinal, digits


@dataclass(frozen=True)
class Rule:
    """`speak(match)` returns the words for `match`, or None to let later rules try.

    The pattern is matched with `pattern.match(text, pos)` on the whole text, so lookbehinds see
    what comes before `pos` and `match.string` gives a rule its context.
    """

    name: str
    pattern: re.Pattern[str]
    speak: Callable[[re.Match[str]], str | None]


# A written number: "1,500" (commas only in complete groups of three), "2266", "3.5", ".5".
INT = r"(?:[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])|[0-9]+)"
NUM = r"(?:" + INT + r"(?:\.[0-9]+)?|\.[0-9]+)"

# Letters in spelled-out initialisms are joined by hyphens, not spaces: espeak-ng reads a lone
# "A" before another word as the article (schwa: "A T and T" → "uh tee and tee"), while "A-T"
# is read letter by letter. `vpipe.text` splits on hyphens, so each letter is still a word.
LETTER_JOINER = "-"


def spell(letters: str) -> str:
    """ "IBM" → "I-B-M": letters to be said one by one."""
    return LETTER_JOINER.join(letters)


def sentence_period(m: re.Match[str]) -> str:
    """ "." when a match swallowed a period that probably also ends the sentence, else "".

    An abbreviation's period ("St.", "a.m.") doubles as a full stop when the next word starts a
    new sentence ("on Main St. Then…"). At the very end of the text we drop it: callers
    verbalize a slot value on its own, and a period there would put a full stop mid-sentence.
    """
    if not m.group(0).endswith("."):
        return ""
    return "." if re.match(r"\s+[A-Z]", m.string[m.end() :]) else ""


def small_number(run: str) -> str:
    """Digits inside an address or handle: "7" → "seven", "99" → "ninety-nine", "2024" → digits."""
    if len(run) <= 2 and not run.startswith("0"):
        return cardinal(int(run))
    return digits(run)
