"""Numbers as US English words: "2266" → "two thousand two hundred sixty-six".

Written here rather than taken from `num2words` because the project does not depend on it and
the part we need is small. The forms follow what an American speaker says aloud, since the words
go straight to a TTS voice: no "and" inside cardinals ("two hundred six"), hyphens between
tens and units ("sixty-six"), years in pairs ("nineteen ninety-nine", but "two thousand five").
"""

from __future__ import annotations

_ONES = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
)
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SCALES = ("", "thousand", "million", "billion", "trillion", "quadrillion", "quintillion")
_ORDINAL_IRREGULAR = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}

#: The largest magnitude we name; beyond it callers should read digits one by one.
MAX_CARDINAL = 10 ** (3 * len(_SCALES)) - 1


def _below_thousand(n: int) -> str:
    words: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        words.append(f"{_ONES[hundreds]} hundred")
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        words.append(_TENS[tens] + (f"-{_ONES[ones]}" if ones else ""))
    elif rest or not hundreds:
        words.append(_ONES[rest])
    return " ".join(words)


def cardinal(n: int) -> str:
    """42 → "forty-two"; -7 → "minus seven". Raises ValueError past the quintillions.

    Negative numbers say "minus", the word Americans use for temperatures and balances.
    """
    if n < 0:
        return f"minus {cardinal(-n)}"
    if n > MAX_CARDINAL:
        raise ValueError(f"{n} is too large to name; read its digits instead")
    if n < 1000:
        return _below_thousand(n)
    groups: list[str] = []
    scale = 0
    while n:
        n, chunk = divmod(n, 1000)
        if chunk:
            name = _SCALES[scale]
            groups.append(_below_thousand(chunk) + (f" {name}" if name else ""))
        scale += 1
    return " ".join(reversed(groups))


def ordinal_word(words: str) -> str:
    """Turn the last word of a spelled number into its ordinal: "twenty-one" → "twenty-first"."""
    cut = max(words.rfind(" "), words.rfind("-")) + 1
    head, last = words[:cut], words[cut:]
    if last in _ORDINAL_IRREGULAR:
        last = _ORDINAL_IRREGULAR[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return head + last


def ordinal(n: int) -> str:
    """21 → "twenty-first"; 100 → "one hundredth"."""
    return ordinal_word(cardinal(n))


def plural_word(words: str) -> str:
    """Pluralize the last word of a spelled number: "nineteen ninety" → "nineteen nineties"."""
    if words.endswith("y"):
        return words[:-1] + "ies"
    if words.endswith(("x", "s")):
        return words + "es"
    return words + "s"


def digits(text: str) -> str:
    """Read digits one by one ("02134" → "zero two one three four"), ignoring anything else.

    Used where the value is an identifier rather than a quantity: zip codes, phone numbers,
    numbers with leading zeros, long account numbers.
    """
    return " ".join(_ONES[int(c)] for c in text if "0" <= c <= "9")


def number(text: str) -> str:
    """A written number with optional sign, thousands commas and decimals, as words.

    "1,500" → "one thousand five hundred"; "-3.25" → "minus three point two five";
    ".5" → "point five". Decimals are read digit by digit, the way people read them.
    """
    sign = ""
    if text[:1] in "-−":
        sign, text = "minus ", text[1:]
    elif text[:1] == "+":
        sign, text = "plus ", text[1:]
    whole, _, frac = text.replace(",", "").partition(".")
    if whole and int(whole) > MAX_CARDINAL:
        spoken = digits(whole)
    elif whole:
        spoken = cardinal(int(whole))
    else:
        spoken = ""
    if frac:
        spoken = f"{spoken} point {digits(frac)}".strip()
    return sign + spoken


def year(n: int) -> str:
    """Years the way they are said: 1999 → "nineteen ninety-nine", 1905 → "nineteen oh five",
    1900 → "nineteen hundred", 2005 → "two thousand five", 2024 → "twenty twenty-four".

    Outside 1000–9999 there is no pairing convention, so the cardinal is used.
    """
    if not 1000 <= n <= 9999:
        return cardinal(n)
    hi, lo = divmod(n, 100)
    if hi % 10 == 0 and lo < 10:  # 2000–2009, 1000–1009: "two thousand five"
        return cardinal(n)
    if lo == 0:
        return f"{cardinal(hi)} hundred"
    if lo < 10:
        return f"{cardinal(hi)} oh {cardinal(lo)}"
    return f"{cardinal(hi)} {cardinal(lo)}"


def fraction(num: int, den: int) -> str:
    """1/2 → "one half", 3/4 → "three quarters", 2/3 → "two thirds", 5/8 → "five eighths"."""
    if den == 2:
        unit = "half" if num == 1 else "halves"
    elif den == 4:
        unit = "quarter" if num == 1 else "quarters"
    else:
        unit = ordinal(den)
        if den >= 100 and str(den).rstrip("0") == "1":
            unit = unit.removeprefix("one ")  # "seven hundredths", not "seven one hundredths"
        unit = unit if num == 1 else plural_word(unit)
    return f"{cardinal(num)} {unit}"
