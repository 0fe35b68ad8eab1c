"""Rules for written forms made of letters: e-mail addresses, web addresses, handles, hashtags,
abbreviations in names and addresses, ampersands and all-caps initialisms.

Acronym rule (deliberately conservative, because CSV values are often typed in capitals and a
name spelled out letter by letter is far worse than an initialism read as a word): an all-caps
word of 2–4 ASCII letters is spelled out ("IBM" → "I-B-M") when it is a known initialism
(`INITIALISMS`: USA, IBM, CEO, FBI, …) or when it has no vowel letter (A E I O U Y) and is not an
interjection ("BBC", "HTML", "PDF", but not "HMM"). Everything else is left for the voice to read
as a word: "NASA", "NATO", "JOHN", "ANA". "US" is spelled only after "the" ("the US" vs
"CONTACT US"), and "OK" becomes "okay".
"""

from __future__ import annotations

import re

from vpipe.speech.rule import Rule, sentence_period, small_number, spell

INITIALISMS = frozenset(
    {
        "USA",
        "UK",
        "EU",
        "UN",
        "UAE",
        "AI",
        "API",
        "ATM",
        "CEO",
        "CFO",
        "COO",
        "CIO",
        "CTO",
        "CMO",
        "CPA",
        "EOD",
        "ETA",
        "DIY",
        "FAQ",
        "FBI",
        "CIA",
        "NSA",
        "IRS",
        "DUI",
        "DNA",
        "RNA",
        "HIV",
        "ABC",
        "NBA",
        "NCAA",
        "NY",
        "NYC",
        "NYU",
        "NYPD",
        "NYSE",
        "YMCA",
        "MIT",
        "UCLA",
        "USC",
        "HBO",
        "ESPN",
        "AOL",
        "GE",
        "IBM",
        "UPS",
        "USPS",
        "GOP",
        "EPA",
        "FDA",
        "IQ",
        "UI",
        "UX",
        "OS",
        "IOS",
        "USB",
        "SUV",
        "SEO",
        "IPO",
        "ROI",
        "KPI",
        "OEM",
        "MBA",
        "PTA",
        "ACLU",
        "AARP",
        "UFO",
        "IOU",
        "LA",
        "ID",
        "DOB",
        "EV",
        "AC",
        "AV",
        "PE",
        "IPA",
        "USD",
        "EUR",
        "EST",
        "EDT",
        "UTC",
        "CET",
        "CEST",
        "BST",
        "AEST",
    }
)
# Vowel-less capitals that are words, not initialisms.
_INTERJECTIONS = frozenset({"HMM", "HMMM", "MMM", "SHH", "PSST", "BRR", "GRR", "TSK", "PFFT", "ZZZ", "NTH"})
_VOWELS = frozenset("AEIOUYaeiouy")

# Top-level domains recognised without "http(s)://" in front; with a scheme, any is accepted.
TLDS = frozenset(
    {
        "com",
        "org",
        "net",
        "edu",
        "gov",
        "mil",
        "int",
        "io",
        "ai",
        "co",
        "us",
        "uk",
        "ca",
        "de",
        "fr",
        "es",
        "it",
        "nl",
        "be",
        "ch",
        "at",
        "au",
        "nz",
        "ie",
        "in",
        "jp",
        "eu",
        "me",
        "tv",
        "ly",
        "gg",
        "app",
        "dev",
        "info",
        "biz",
        "xyz",
        "shop",
        "store",
        "online",
        "site",
        "tech",
        "cloud",
        "blog",
        "news",
        "live",
        "studio",
        "design",
        "agency",
        "media",
        "email",
        "health",
    }
)
_SPELLED_TLDS = frozenset({"edu", "xyz"})  # said as letters although they hold a vowel
_SAID_TWO_LETTER = frozenset({"co", "me"})  # two-letter labels said as words: "co dot uk"

_SYMBOL_WORDS = {
    ".": "dot",
    "-": "dash",
    "_": "underscore",
    "+": "plus",
    "/": "slash",
    ":": "colon",
    "?": "question mark",
    "=": "equals",
    "&": "and",
    "#": "hash",
    "%": "percent",
    "~": "tilde",
    "@": "at",
}


def _needs_spelling(word: str) -> bool:
    return not any(c in _VOWELS for c in word)


# --------------------------------------------------------------------- e-mail and web addresses
def _say_label(label: str) -> str:
    """One domain label: "acme" → "acme", "io" → "i-o", "bbc" → "b-b-c", "web3" → "web three"."""
    words = []
    for run in re.findall(r"[^\W\d_]+|[0-9]+|.", label.lower()):
        if run.isdigit():
            words.append(small_number(run))
        elif run in _SYMBOL_WORDS:
            words.append(_SYMBOL_WORDS[run])
        elif (
            run in _SPELLED_TLDS
            or (len(run) <= 2 and run not in _SAID_TWO_LETTER)
            or (len(run) <= 4 and (run.upper() in INITIALISMS or _needs_spelling(run)))
        ):
            words.append(spell(run))
        else:
            words.append(run)
    return " ".join(words)


def _say_host(host: str) -> str:
    return " dot ".join(_say_label(label) for label in host.split("."))


def _say_text(text: str) -> str:
    """A user name or URL path: words kept, vowel-less letter runs spelled, symbols named."""
    words = []
    for run in re.findall(r"[^\W\d_]+|[0-9]+|\S", text):
        if run.isdigit():
            words.append(small_number(run))
        elif run in _SYMBOL_WORDS:
            words.append(_SYMBOL_WORDS[run])
        elif run[0].isalpha():
            words.append(spell(run.lower()) if len(run) <= 4 and _needs_spelling(run) else run.lower())
        else:
            words.append(run)
    return " ".join(words)


def _email(m: re.Match[str]) -> str:
    return f"{_say_text(m['local'])} at {_say_host(m['domain'])}"


def _url(m: re.Match[str]) -> str | None:
    host = m["host"]
    if not m["scheme"] and not m["www"] and host.rsplit(".", 1)[-1].lower() not in TLDS:
        return None  # "Mr.Smith", "Node.js", "file.txt"
    words = ["w-w-w dot"] if m["www"] else []  # the scheme is never said aloud
    words.append(_say_host(host))
    if m["port"]:
        words.append(f"colon {small_number(m['port'][1:])}")
    if m["path"] and m["path"] != "/":
        words.append(_say_text(m["path"]))
    return " ".join(words)


# ------------------------------------------------------------------------------- abbreviations
_TITLES = {"Mr": "Mister", "Mrs": "Missus", "Ms": "Miz", "Prof": "Professor"}
_SUFFIXES = {"Jr": "Junior", "Sr": "Senior"}
_PLACES = {
    "Ave": "Avenue",
    "Blvd": "Boulevard",
    "Rd": "Road",
    "Ln": "Lane",
    "Hwy": "Highway",
    "Pkwy": "Parkway",
    "Apt": "Apartment",
    "Ste": "Suite",
}
_BEFORE_NAMES = {"Mt": "Mount", "Ft": "Fort"}
_OTHERS = {"Ltd": "Limited", "Corp": "Corporation", "Vs": "versus", "Etc": "et cetera"}
_DOT_REQUIRED = frozenset({"Prof", "Ste", "Mt", "Ft", "Ltd", "Corp", "Etc"})
# "St"/"Dr": (title reading, place reading)
_TITLE_OR_PLACE = {"St": ("Saint", "Street"), "Dr": ("Doctor", "Drive")}

_NEXT_IS_NAME = re.compile(r"\s+[A-Z]")
_PREV_WORD = re.compile(r"(?P<word>[^\s]+)\s+$")
# "123 Main St.", "5 N Elm Dr": a house number, then one to three capitalised words.
_ADDRESS_BEFORE = re.compile(r"(?:^|\s)[0-9][0-9A-Za-z-]*(?:\s+[A-Z][\w'’-]*\.?){1,3}\s+$")


def _previous_word(before: str) -> tuple[bool, bool]:
    """(the previous word is capitalised or a number, that word starts its sentence)."""
    m = _PREV_WORD.search(before)
    if m is None or not (m["word"][0].isupper() or m["word"][0].isdigit()):
        return False, False
    rest = before[: m.start()].rstrip()
    return True, not rest or rest[-1] in ".!?:"


def _abbreviation(m: re.Match[str]) -> str | None:
    key = m["a"].capitalize()
    before, after = m.string[: m.start()], m.string[m.end() :]
    has_dot = bool(m["dot"])
    if not has_dot and key in _DOT_REQUIRED:
        return None
    next_name = bool(_NEXT_IS_NAME.match(after))
    prev_name, prev_starts_sentence = _previous_word(before)
    if key in _TITLES:
        return _TITLES[key] if has_dot or next_name else None
    if key in _TITLE_OR_PLACE:
        title, place = _TITLE_OR_PLACE[key]
        if next_name and not _ADDRESS_BEFORE.search(before) and not (prev_name and not prev_starts_sentence):
            return title  # "Dr. Lee", "St. Louis", "Hi Dr Lee" (a capital that starts the sentence is no street)
        if prev_name:
            return place + sentence_period(m)  # "123 Main St.", "Elm Dr, Springfield"
        if not has_dot:
            return None
        return title if key == "Dr" else place
    if key in _SUFFIXES:
        return _SUFFIXES[key] + sentence_period(m) if has_dot or prev_name else None
    if key in _PLACES:
        if has_dot or prev_name or (key in {"Apt", "Ste"} and re.match(r"\s*#?[0-9]", after)):
            return _PLACES[key] + sentence_period(m)
        return None
    if key in _BEFORE_NAMES:
        return _BEFORE_NAMES[key] if next_name else None
    return _OTHERS[key] + sentence_period(m)


_LATIN = {"e.g.": "for example", "i.e.": "that is", "e.g": "for example", "i.e": "that is"}


# ------------------------------------------------------------------------- ampersand, acronyms
def _initials_and(m: re.Match[str]) -> str:
    return f"{spell(m['a'])} and {spell(m['b'])}"  # "AT&T" → "A-T and T"


def _acronym(m: re.Match[str]) -> str | None:
    word, tail = m["w"], "'s" if m["pl"] else ""
    if word == "OK":
        return "okay" + tail
    if word in _INTERJECTIONS:
        return None
    if word == "US":
        return spell(word) + tail if re.search(r"\bthe\s+$", m.string[: m.start()], re.IGNORECASE) else None
    if word in INITIALISMS or _needs_spelling(word):
        return spell(word) + tail
    return None


def _handle(m: re.Match[str]) -> str:
    return f"at {_say_text(m['h'])}"


def _hashtag(m: re.Match[str]) -> str:
    return "hashtag " + m["t"].replace("_", " ")


RULES: tuple[Rule, ...] = (
    Rule(
        "email",
        re.compile(
            r"(?<![\w.@+'-])(?P<local>[\w%+'-]+(?:\.[\w%+'-]+)*)@"
            r"(?P<domain>(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,})(?![\w-])"
        ),
        _email,
    ),
    Rule(
        "url",
        re.compile(
            r"(?<![\w@./-])(?P<scheme>https?://)?(?P<www>www\.)?"
            r"(?P<host>(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,24})(?![\w-])"
            r"(?P<port>:[0-9]{1,5})?(?P<path>/(?:\S*[^\s.,;:!?)\]'\"”’])?)?"
        ),
        _url,
    ),
    Rule("handle", re.compile(r"(?<![\w.@])@(?P<h>[A-Za-z0-9_]+)"), _handle),
    Rule("hashtag", re.compile(r"(?<![\w&#])#(?P<t>[^\W\d_]\w*)"), _hashtag),
    Rule("abbreviation", re.compile(r"(?<![\w.])(?:e\.g|i\.e)\.?(?!\w)"), lambda m: _LATIN[m.group(0)]),
    Rule(
        "abbreviation",
        re.compile(
            r"(?<![\w.])(?P<a>Mrs|Mr|Ms|Dr|St|Jr|Sr|Prof|Ave|Blvd|Rd|Ln|Hwy|Pkwy|Apt|Ste|Mt|Ft|Ltd|Corp|vs|etc|"
            r"MRS|MR|DR|ST|JR|SR)(?P<dot>\.)?(?!\w)"
        ),
        _abbreviation,
    ),
    Rule("ampersand", re.compile(r"(?<![A-Za-z])(?P<a>[A-Z]{1,3})&(?P<b>[A-Z]{1,3})(?![A-Za-z])"), _initials_and),
    Rule("ampersand", re.compile(r"&"), lambda m: "and"),
    Rule(
        "acronym",
        re.compile(r"(?<![^\W\d_])(?<![&.'’])(?P<w>[A-Z]{2,4})(?P<pl>s|'s|’s)?(?![^\W\d_])(?!&|\.[A-Za-z])"),
        _acronym,
    ),
)
