"""Rules for everything built from digits: phone numbers, dates, times, money, percentages,
ordinals, fractions, ranges, years and plain numbers.

Order matters and is fixed by `RULES`: the more specific reading of a digit string is tried
before the generic one ("2024-03-15" is a date before it is a range, "555-123-4567" a phone
number before anything else, and "2266" falls through to a plain cardinal at the end).
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata

from vpipe.speech.numbers import cardinal, digits, fraction, number, ordinal, plural_word, year
from vpipe.speech.rule import INT, NUM, Rule, sentence_period

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_MONTH_ABBR = {m[:3]: m for m in MONTHS if m != "May"} | {"Sept": "September"}
_MONTH = (
    r"(?P<month>"
    + "|".join(MONTHS)
    + "|(?:"
    + "|".join(sorted(_MONTH_ABBR, key=len, reverse=True))
    + r")\.?)(?![A-Za-z])"
)

# "a/b" with one of these denominators is a fraction ("1/2", "3/4"); otherwise a valid month/day
# is a date ("3/15", "12/25"); then inch fractions ("13/16"); anything else is a score or ratio
# ("95/100" → "ninety-five out of one hundred").
_FRACTION_DENOMINATORS = frozenset({2, 3, 4, 5, 6, 8, 10})
_INCH_DENOMINATORS = frozenset({16, 32, 64})


def _month_name(text: str) -> str:
    text = text.rstrip(".")
    return text if text in MONTHS else _MONTH_ABBR[text]


def _valid_day(month: int, day: int, year_: int = 2000) -> bool:
    """Whether the date exists; 2000 (a leap year) stands in when the text gives no year."""
    try:
        _dt.date(year_, month, day)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------- phone numbers and digit groups
def _say_groups(groups: list[str], plus: bool = False) -> str:
    """Digit groups read digit by digit, with a comma (a pause) between groups, as people do."""
    words = ", ".join(digits(g) for g in groups if g)
    return f"plus {words}" if plus else words


def _phone_nanp(m: re.Match[str]) -> str:
    cc = m["cc"] or ""
    groups = [cc.lstrip("+"), m["a1"] or m["a2"], m["b"], m["c"]]
    return _say_groups(groups, plus=cc.startswith("+"))


def _phone_intl(m: re.Match[str]) -> str | None:
    groups = [m["cc"], *re.findall(r"[0-9]+", m["rest"])]
    return _say_groups(groups, plus=True) if 8 <= sum(map(len, groups)) <= 15 else None


def _digit_groups(m: re.Match[str]) -> str | None:
    groups = m.group(0).split("-")
    if len(groups) == 2 and len(groups[0]) == 3:  # "555-1234", unless it reads as a range
        a, b = int(groups[0]), int(groups[1])
        if groups[0][0] in "01" or a % 100 == 0 or b % 100 == 0:
            return None
    return _say_groups(groups)


# ---------------------------------------------------------------------------------------- dates
def _date_words(month: int, day: int, year_: str | None) -> str:
    words = f"{MONTHS[month - 1]} {ordinal(day)}"
    return f"{words}, {year(int(year_))}" if year_ else words


def _iso_date(m: re.Match[str]) -> str | None:
    y, mo, d = int(m["y"]), int(m["m"]), int(m["d"])
    return _date_words(mo, d, m["y"]) if _valid_day(mo, d, y) else None


def _us_date(m: re.Match[str]) -> str | None:
    y = m["y"]
    if len(y) == 2:
        if m["sep"] == "-":
            return None
        y = ("20" if int(y) < 50 else "19") + y  # two-digit years: 00–49 → 2000s, 50–99 → 1900s
    mo, d = int(m["m"]), int(m["d"])
    return _date_words(mo, d, y) if _valid_day(mo, d, int(y)) else None


def _month_first(m: re.Match[str]) -> str | None:
    name = _month_name(m["month"])
    if m["only_year"]:
        return f"{name} {year(int(m['only_year']))}"
    month, day = MONTHS.index(name) + 1, int(m["day"])
    if not _valid_day(month, day, int(m["y"]) if m["y"] else 2000):
        return None
    return _date_words(month, day, m["y"])


def _day_first(m: re.Match[str]) -> str | None:
    name = _month_name(m["month"])
    month, day = MONTHS.index(name) + 1, int(m["day"])
    if not _valid_day(month, day, int(m["y"]) if m["y"] else 2000):
        return None
    the = "" if re.search(r"\bthe\s+$", m.string[: m.start()], re.IGNORECASE) else "the "
    words = f"{the}{ordinal(day)} of {name}"
    return f"{words}, {year(int(m['y']))}" if m["y"] else words


# ---------------------------------------------------------------------------------------- times
# "a.m." swallows its final period; in "3pm." the period ends the sentence and is left alone.
_AMPM = r"(?:\s?(?P<ap>[AaPp])(?:\.\s?[Mm]\.?|\s?[Mm])(?![A-Za-z]))"


def _ampm(m: re.Match[str]) -> str:
    return (" a-m" if m["ap"] in "Aa" else " p-m") + sentence_period(m)


def _clock(m: re.Match[str]) -> str | None:
    h, mi = int(m["h"]), int(m["mi"])
    if h > 23 or mi > 59 or (m["ap"] and not 1 <= h <= 12) or (m["s"] and int(m["s"]) > 59):
        return None
    hour = cardinal(h)
    if mi == 0:
        if m["ap"]:
            words = hour
        elif h == 0 or h > 12:
            words = f"{hour} hundred"  # 24-hour style: "fourteen hundred"
        else:
            words = f"{hour} o'clock"
    elif mi < 10:
        words = f"{hour} oh {cardinal(mi)}"
    else:
        words = f"{hour} {cardinal(mi)}"
    if m["s"]:
        s = int(m["s"])
        words += f" and {cardinal(s)} second{'s' if s != 1 else ''}"
    return words + (_ampm(m) if m["ap"] else "")


def _hour_ampm(m: re.Match[str]) -> str | None:
    h = int(m["h"])
    return cardinal(h) + _ampm(m) if 1 <= h <= 12 else None


# ---------------------------------------------------------------------------------------- money
# symbol or ISO code → (singular, plural, minor singular, minor plural); None: no minor unit spoken
_CURRENCIES: dict[str, tuple[str, str, str | None, str | None]] = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "US$": ("U-S dollar", "U-S dollars", "cent", "cents"),
    "USD": ("U-S dollar", "U-S dollars", "cent", "cents"),
    "C$": ("Canadian dollar", "Canadian dollars", "cent", "cents"),
    "CAD": ("Canadian dollar", "Canadian dollars", "cent", "cents"),
    "A$": ("Australian dollar", "Australian dollars", "cent", "cents"),
    "AUD": ("Australian dollar", "Australian dollars", "cent", "cents"),
    "€": ("euro", "euros", "cent", "cents"),
    "EUR": ("euro", "euros", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "GBP": ("pound", "pounds", "penny", "pence"),
    "¥": ("yen", "yen", None, None),
    "JPY": ("yen", "yen", None, None),
    "CNY": ("yuan", "yuan", None, None),
    "₹": ("rupee", "rupees", "paisa", "paise"),
    "INR": ("rupee", "rupees", "paisa", "paise"),
    "CHF": ("Swiss franc", "Swiss francs", "centime", "centimes"),
    "MXN": ("Mexican peso", "Mexican pesos", "centavo", "centavos"),
}
_CODES = "|".join(k for k in _CURRENCIES if k.isalpha())
_MULTIPLIERS = {
    "k": "thousand",
    "K": "thousand",
    "m": "million",
    "M": "million",
    "mn": "million",
    "b": "billion",
    "B": "billion",
    "bn": "billion",
    "T": "trillion",
}
_MULT = r"(?:\s?(?:thousand|million|billion|trillion)(?![A-Za-z])|(?:bn|mn|[kKmMbBT])(?![A-Za-z]))"


def _money(amount: str, mult: str | None, cur: str) -> str:
    """ "1.50" dollars → "one dollar and fifty cents"; "2.5" + "M" → "two point five million dollars"."""
    one, many, minor_one, minor_many = _CURRENCIES[cur]
    if mult:
        mult = mult.strip()
        return f"{number(amount)} {_MULTIPLIERS.get(mult, mult)} {many}"
    whole, _, frac = amount.replace(",", "").partition(".")
    units = int(whole or "0")
    if frac and (len(frac) != 2 or minor_one is None):
        return f"{number(amount)} {many}"
    cents = int(frac or "0")
    parts = []
    if units or not cents:
        parts.append(f"{cardinal(units)} {one if units == 1 else many}")
    if cents:
        parts.append(f"{cardinal(cents)} {minor_one if cents == 1 else minor_many}")
    return " and ".join(parts)


def _say_money(m: re.Match[str]) -> str:
    cur = m["cur"].strip()
    neg = "minus " if m["neg"] else ""
    if not m["b"]:
        return neg + _money(m["a"], m["ma"], cur)
    # "$10-20" → "ten to twenty dollars"; a full reading on the left only when it has cents or
    # its own multiplier ("$1.50-$2.50", "$500K-1M").
    simple = not m["ma"] and "." not in m["a"]
    left = number(m["a"]) if simple else _money(m["a"], m["ma"], cur)
    return f"{neg}{left} to {_money(m['b'], m['mb'], cur)}"


# ----------------------------------------------------------------------- percent, degrees, misc
def _percent(m: re.Match[str]) -> str:
    sign = m["sign"] or ""
    if m["b"]:
        return f"{number(sign + m['a'])} to {number(m['b'])} percent"
    return f"{number(sign + m['a'])} percent"


def _degrees(m: re.Match[str]) -> str:
    value = (m["sign"] or "") + m["a"]
    unit = "degree" if value.lstrip("+") == "1" else "degrees"
    scale = {"F": " Fahrenheit", "C": " Celsius", "K": " kelvin"}.get(m["u"] or "", "")
    return f"{number(value)} {unit}{scale}"


def _decade(m: re.Match[str]) -> str:
    if m["full"]:
        return plural_word(year(int(m["full"])))
    return plural_word(cardinal(int(m["short"])))


def _number_sign(m: re.Match[str]) -> str:
    n = m["n"]
    if (len(n) >= 4 and n.isdigit()) or _has_leading_zero(n):
        return f"number {digits(n)}"  # "order #12345": an identifier, read digit by digit
    return f"number {number(n)}"


def _fraction_words(whole: str | None, num: int, den: int) -> str:
    words = fraction(num, den)
    return f"{cardinal(int(whole))} and {words}" if whole else words


def _ascii_fraction(m: re.Match[str]) -> str | None:
    n, d = int(m["n"]), int(m["d"])
    if d == 0:
        return None
    if not m["w"]:
        if (n, d) == (24, 7):
            return "twenty-four seven"
        leading_zero = m["n"].startswith("0") or m["d"].startswith("0")
        if (leading_zero or d not in _FRACTION_DENOMINATORS) and 1 <= n <= 12 and _valid_day(n, d):
            return _date_words(n, d, None)  # "3/15" → "March fifteenth"
        if n > d:
            return f"{cardinal(n)} over {cardinal(d)}"
        if n == d or d not in _FRACTION_DENOMINATORS | _INCH_DENOMINATORS:
            return f"{cardinal(n)} out of {cardinal(d)}"  # "10/10", "95/100"
    return _fraction_words(m["w"], n, d)


def _vulgar_parts(char: str) -> tuple[int, int]:
    """'¾' → (3, 4), from its compatibility decomposition "<fraction> 0033 2044 0034"."""
    hexes = unicodedata.decomposition(char).split()[1:]
    cut = hexes.index("2044")
    num = "".join(chr(int(h, 16)) for h in hexes[:cut])
    den = "".join(chr(int(h, 16)) for h in hexes[cut + 1 :])
    return int(num), int(den)


_VULGAR = "".join(
    chr(c)
    for c in [*range(0xBC, 0xBF), *range(0x2150, 0x2160), 0x2189]
    if unicodedata.decomposition(chr(c)).startswith("<fraction>")
)


def _vulgar_fraction(m: re.Match[str]) -> str:
    return _fraction_words(m["w"], *_vulgar_parts(m["f"]))


def _dotted(m: re.Match[str]) -> str:
    """ "1.2.3" → "one point two point three" (a version); four parts ≤ 255 are an IP address."""
    parts = m.group(0).split(".")
    sep = " dot " if len(parts) == 4 and all(int(p) <= 255 for p in parts) else " point "
    return sep.join(cardinal(int(p)) for p in parts)


def _has_leading_zero(text: str) -> bool:
    return len(text) > 1 and text.startswith("0") and not text.startswith("0.")


def _is_year(text: str) -> bool:
    return len(text) == 4 and text.isdigit() and 1000 <= int(text) <= 2099


def _range(m: re.Match[str]) -> str | None:
    a, b = m["a"], m["b"]
    if _has_leading_zero(a) or _has_leading_zero(b):
        return None
    if _is_year(a) and _is_year(b) and int(a) < int(b):
        return f"{year(int(a))} to {year(int(b))}"  # "1999-2005"
    if _is_year(a) and len(b) == 2 and b.isdigit() and int(a[2:]) < int(b):
        return f"{year(int(a))} to {cardinal(int(b))}"  # "2020-21" → "twenty twenty to twenty-one"
    return f"{number(a)} to {number(b)}"


_YEAR_CONTEXT = re.compile(
    r"(?:\b(?:in|since|from|by|until|till|before|after|during|year|circa|ca\.|around|born|founded|"
    r"established|est\.|(?:class|summer|winter|spring|fall|autumn|end|start|beginning) of|"
    r"early|late|mid|copyright)\s+|©\s*|\(c\)\s*|\()$",
    re.IGNORECASE,
)


def _year_in_context(m: re.Match[str]) -> str | None:
    return year(int(m["y"])) if _YEAR_CONTEXT.search(m.string[: m.start()]) else None


def _number(m: re.Match[str]) -> str:
    sign = {"-": "minus ", "−": "minus ", "+": "plus "}.get(m["sign"] or "", "")
    n = m["n"]
    whole, _, frac = n.partition(".")
    if "," not in n and not frac:
        if not sign and 1 <= int(whole) <= 31 and re.search(_MONTH + r"\s+$", m.string[: m.start()]):
            return ordinal(int(whole))  # a day after a month in the text around it: "March {{ day }}"
        if _has_leading_zero(whole):
            return sign + digits(whole)  # zip codes, "007"
        if len(whole) == 10 and whole[0] in "23456789" and len(whole.rstrip("0")) > 3:
            return _say_groups([whole[:3], whole[3:6], whole[6:]])  # a US phone number without dashes
        if len(whole) >= 8 and len(whole.rstrip("0")) > 3:
            return sign + digits(whole)  # long, non-round digit strings are identifiers
    return sign + number(n)


_NOT_MID_NUMBER = r"(?<![0-9])"
_SIGN = r"(?P<sign>(?<![^\s(\[{\"'“‘/=:])[-−+])?"
_RANGE_DASH = r"(?:[-–]|\s–\s)"

RULES: tuple[Rule, ...] = (
    Rule(
        "phone",
        re.compile(
            r"(?<![0-9+])(?:(?P<cc>\+?1)[\s.-]?)?(?:\((?P<a1>[0-9]{3})\)\s?|(?P<a2>[0-9]{3})[\s.-])"
            r"(?P<b>[0-9]{3})[\s.-](?P<c>[0-9]{4})(?![0-9])"
        ),
        _phone_nanp,
    ),
    Rule(
        "phone",
        re.compile(r"(?<![0-9])\+(?P<cc>[0-9]{1,3})(?P<rest>(?:[\s.-]?(?:\([0-9]{1,4}\)|[0-9]{1,5})){2,6})(?![0-9])"),
        _phone_intl,
    ),
    Rule("date", re.compile(r"(?<![0-9])(?P<y>[0-9]{4})-(?P<m>[0-9]{2})-(?P<d>[0-9]{2})(?![0-9])"), _iso_date),
    Rule(
        "date",
        re.compile(
            r"(?<![0-9/.-])(?P<m>[0-9]{1,2})(?P<sep>[/-])(?P<d>[0-9]{1,2})(?P=sep)(?P<y>[0-9]{4}|[0-9]{2})(?![0-9/])"
        ),
        _us_date,
    ),
    Rule(
        "digits",
        re.compile(r"(?<![0-9.,-])(?:[0-9]{5}-[0-9]{4}|[0-9]{3}-[0-9]{4}|[0-9]+(?:-[0-9]+){2,})(?![0-9]|-[0-9])"),
        _digit_groups,
    ),
    Rule(
        "date",
        re.compile(
            r"(?<![A-Za-z])" + _MONTH + r"\s+(?:(?P<only_year>[0-9]{4})(?![0-9])|(?P<day>[0-9]{1,2})"
            r"(?:st|nd|rd|th)?(?![0-9A-Za-z])(?:,?\s+(?P<y>[0-9]{4})(?![0-9]))?)"
        ),
        _month_first,
    ),
    Rule(
        "date",
        re.compile(
            r"(?<![0-9A-Za-z.])(?P<day>[0-9]{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?"
            + _MONTH
            + r"(?:,?\s+(?P<y>[0-9]{4})(?![0-9]))?"
        ),
        _day_first,
    ),
    Rule(
        "time",
        re.compile(
            r"(?<![0-9:.,])(?P<h>[0-9]{1,2}):(?P<mi>[0-9]{2})(?::(?P<s>[0-9]{2}))?(?![0-9]|:[0-9])" + _AMPM + "?"
        ),
        _clock,
    ),
    Rule("time", re.compile(r"(?<![0-9:.,])(?P<h>[0-9]{1,2})" + _AMPM), _hour_ampm),
    Rule(
        "money",
        re.compile(
            r"(?<![0-9A-Za-z])(?P<neg>[-−])?(?P<cur>US\$|C\$|A\$|[$€£¥₹]|(?:" + _CODES + r")\s?)"
            r"(?P<a>"
            + NUM
            + r")(?P<ma>"
            + _MULT
            + r")?(?:"
            + _RANGE_DASH
            + r"(?P=cur)?(?P<b>"
            + NUM
            + r")(?P<mb>"
            + _MULT
            + r")?)?(?![0-9])"
        ),
        _say_money,
    ),
    Rule(
        "money",
        re.compile(
            r"(?<![0-9A-Za-z.])(?P<neg>[-−])?(?P<a>" + NUM + r")(?P<ma>" + _MULT + r")?(?P<b>)(?P<mb>)"
            r"\s?(?P<cur>€|(?:" + _CODES + r")(?![A-Za-z]))"
        ),
        _say_money,
    ),
    Rule(
        "percent",
        re.compile(
            r"(?<![0-9A-Za-z.])(?P<sign>[-−+])?(?P<a>" + NUM + r")(?:%?" + _RANGE_DASH + r"(?P<b>" + NUM + r"))?\s?%"
        ),
        _percent,
    ),
    Rule(
        "degrees",
        re.compile(r"(?<![0-9A-Za-z.])(?P<sign>[-−+])?(?P<a>" + NUM + r")\s?°\s?(?P<u>[FCK](?![A-Za-z]))?"),
        _degrees,
    ),
    Rule(
        "decade",
        re.compile(
            r"(?<![0-9A-Za-z])(?:(?P<full>1[0-9]{2}0|20[0-9]0)|['’]?(?P<short>[1-9]0))(?:s|'s|’s)(?![A-Za-z0-9])"
        ),
        _decade,
    ),
    Rule(
        "ordinal",
        re.compile(r"(?<![0-9A-Za-z.])(?P<n>" + INT + r")(?:st|nd|rd|th|ST|ND|RD|TH)(?![A-Za-z0-9])"),
        lambda m: ordinal(int(m["n"].replace(",", ""))),
    ),
    Rule("number-sign", re.compile(r"(?<![\w&#.])(?:#|№|(?:No|NO|no)\.)\s?(?P<n>" + NUM + r")(?![0-9])"), _number_sign),
    Rule(
        "fraction",
        re.compile(r"(?<![0-9/.,])(?:(?P<w>[0-9]+)(?:\s+|-))?(?P<n>[0-9]+)[/⁄](?P<d>[0-9]+)(?![0-9]|[/⁄.,][0-9])"),
        _ascii_fraction,
    ),
    Rule("fraction", re.compile(r"(?<![0-9.,])(?:(?P<w>[0-9]+)\s?)?(?P<f>[" + _VULGAR + r"])"), _vulgar_fraction),
    Rule("dotted", re.compile(r"(?<![0-9.])[0-9]+(?:\.[0-9]+){2,}(?![0-9]|\.[0-9])"), _dotted),
    Rule(
        "range",
        re.compile(
            r"(?<![0-9A-Za-z.,-])(?P<a>" + NUM + r")(?:[-–]|\s–\s)(?P<b>" + NUM + r")(?![0-9]|[.,][0-9]|[-–][0-9])"
        ),
        _range,
    ),
    Rule("year", re.compile(r"(?<![0-9A-Za-z.])(?P<y>1[1-9][0-9]{2}|20[0-9]{2})(?![0-9]|[.,][0-9])"), _year_in_context),
    Rule("number", re.compile(_SIGN + _NOT_MID_NUMBER + r"(?P<n>" + NUM + r")(?![0-9])"), _number),
)
