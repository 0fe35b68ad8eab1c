"""verbalize: exact spoken strings for what personalised-video variables hold, and span mapping."""

from __future__ import annotations

import unicodedata

import pytest

from vpipe.speech.verbalize import Change, Verbalized, verbalize

CASES: list[tuple[str, str]] = [
    # edge cases
    ("", ""),
    ("Hi John, welcome to Paris!", "Hi John, welcome to Paris!"),
    ("0", "zero"),
    ("00", "zero zero"),
    # cardinals
    ("2266", "two thousand two hundred sixty-six"),
    ("1,500", "one thousand five hundred"),
    ("1,234,567", "one million two hundred thirty-four thousand five hundred sixty-seven"),
    ("-5", "minus five"),
    ("−12", "minus twelve"),
    ("+5", "plus five"),
    ("3.5", "three point five"),
    ("0.5", "zero point five"),
    (".5", "point five"),
    ("1.50", "one point five zero"),
    ("1,234.56", "one thousand two hundred thirty-four point five six"),
    ("101", "one hundred one"),
    ("1000000", "one million"),
    ("1000000000000000", "one quadrillion"),
    ("1,000,000,000,000,000", "one quadrillion"),
    (
        "999,999,999,999,999",
        "nine hundred ninety-nine trillion nine hundred ninety-nine billion nine hundred ninety-nine million "
        "nine hundred ninety-nine thousand nine hundred ninety-nine",
    ),
    ("1,000,000,000,000,001", "one quadrillion one"),
    ("1,000,000,000,000,000,000", "one quintillion"),
    # identifiers: leading zeros and long unseparated strings are read digit by digit
    ("02134", "zero two one three four"),
    ("007", "zero zero seven"),
    ("84736251", "eight four seven three six two five one"),
    (
        "123456789012345678901234",
        "one two three four five six seven eight nine zero one two three four five six seven eight nine zero "
        "one two three four",
    ),
    ("Room 4B", "Room four B"),
    ("B2B", "B two B"),
    ("iPhone 15", "iPhone fifteen"),
    ("COVID-19", "COVID-nineteen"),
    ("x 1,2,3", "x one,two,three"),
    # ordinals
    ("21st", "twenty-first"),
    ("1st", "first"),
    ("2nd", "second"),
    ("3rd", "third"),
    ("11th", "eleventh"),
    ("12th", "twelfth"),
    ("22nd", "twenty-second"),
    ("101st", "one hundred first"),
    ("1,000th", "one thousandth"),
    # years
    ("in 1999", "in nineteen ninety-nine"),
    ("since 1905", "since nineteen oh five"),
    ("in 1900", "in nineteen hundred"),
    ("in 2005", "in two thousand five"),
    ("in 2024", "in twenty twenty-four"),
    ("class of 2010", "class of twenty ten"),
    ("(1999)", "(nineteen ninety-nine)"),
    ("2005", "two thousand five"),
    ("1999", "one thousand nine hundred ninety-nine"),  # no date context: a quantity
    ("1999-2005", "nineteen ninety-nine to two thousand five"),
    ("2020-21", "twenty twenty to twenty-one"),
    ("1990s", "nineteen nineties"),
    ("2000s", "two thousands"),
    ("'90s", "nineties"),
    ("80s", "eighties"),
    # dates
    ("2024-03-15", "March fifteenth, twenty twenty-four"),
    ("03/15/2024", "March fifteenth, twenty twenty-four"),
    ("3/15/24", "March fifteenth, twenty twenty-four"),
    ("12-25-1999", "December twenty-fifth, nineteen ninety-nine"),
    ("15 March 2024", "the fifteenth of March, twenty twenty-four"),
    ("on 5 May", "on the fifth of May"),
    ("the 15th of March", "the fifteenth of March"),
    ("March 15, 2024", "March fifteenth, twenty twenty-four"),
    ("March 15th", "March fifteenth"),
    ("Jan. 3", "January third"),
    ("Sept 9, 2001", "September ninth, two thousand one"),
    ("May 2024", "May twenty twenty-four"),
    ("3/15", "March fifteenth"),
    ("12/25", "December twenty-fifth"),
    ("March 45", "March forty-five"),
    ("2024-02-30", "two zero two four, zero two, three zero"),  # no such day: digit groups
    # times
    ("9:30", "nine thirty"),
    ("9:30 am", "nine thirty a-m"),
    ("9:30PM", "nine thirty p-m"),
    ("9:05", "nine oh five"),
    ("9:00", "nine o'clock"),
    ("12:00", "twelve o'clock"),
    ("14:05", "fourteen oh five"),
    ("14:00", "fourteen hundred"),
    ("0:15", "zero fifteen"),
    ("9:30:15", "nine thirty and fifteen seconds"),
    ("9am", "nine a-m"),
    ("7 P.M.", "seven p-m"),
    ("at 9 a.m. tomorrow", "at nine a-m tomorrow"),
    ("at 9 a.m. Then we go", "at nine a-m. Then we go"),
    ("Call me at 3pm.", "Call me at three p-m."),
    ("Call me at 3 p.m.", "Call me at three p-m"),
    ("7:30pm EST", "seven thirty p-m E-S-T"),
    ("25:00", "twenty-five:zero zero"),
    # money
    ("$25", "twenty-five dollars"),
    ("$1", "one dollar"),
    ("$1.50", "one dollar and fifty cents"),
    ("$1.00", "one dollar"),
    ("$0.99", "ninety-nine cents"),
    ("$0.01", "one cent"),
    ("$1,000,000", "one million dollars"),
    ("-$5", "minus five dollars"),
    ("€10", "ten euros"),
    ("€10.50", "ten euros and fifty cents"),
    ("10€", "ten euros"),
    ("£3.20", "three pounds and twenty pence"),
    ("£1.01", "one pound and one penny"),
    ("¥500", "five hundred yen"),
    ("USD 40", "forty U-S dollars"),
    ("40 USD", "forty U-S dollars"),
    ("US$40", "forty U-S dollars"),
    ("C$5", "five Canadian dollars"),
    ("₹100", "one hundred rupees"),
    ("$2.5M", "two point five million dollars"),
    ("$3k", "three thousand dollars"),
    ("$1bn", "one billion dollars"),
    ("€2.5 million", "two point five million euros"),
    ("$10-20", "ten to twenty dollars"),
    ("$10-$20", "ten to twenty dollars"),
    ("$1.50-$2.50", "one dollar and fifty cents to two dollars and fifty cents"),
    ("$1.5", "one point five dollars"),
    # percentages, degrees
    ("15%", "fifteen percent"),
    ("3.5%", "three point five percent"),
    ("-2%", "minus two percent"),
    ("10-20%", "ten to twenty percent"),
    ("10%-20%", "ten to twenty percent"),
    ("72°F", "seventy-two degrees Fahrenheit"),
    ("1°", "one degree"),
    # phone numbers and digit groups
    ("(555) 123-4567", "five five five, one two three, four five six seven"),
    ("555-123-4567", "five five five, one two three, four five six seven"),
    ("555.123.4567", "five five five, one two three, four five six seven"),
    ("+1 555 123 4567", "plus one, five five five, one two three, four five six seven"),
    ("1-800-555-1234", "one, eight zero zero, five five five, one two three four"),
    ("+44 20 7946 0958", "plus four four, two zero, seven nine four six, zero nine five eight"),
    ("5551234567", "five five five, one two three, four five six seven"),
    ("555-1234", "five five five, one two three four"),
    ("02134-1234", "zero two one three four, one two three four"),
    # e-mail, web
    ("ana.lee@acme.io", "ana dot lee at acme dot i-o"),
    ("Ana.Lee@Acme.IO", "ana dot lee at acme dot i-o"),
    ("john_doe99@mail.co.uk", "john underscore doe ninety-nine at mail dot co dot u-k"),
    ("info@ibm.com", "info at i-b-m dot com"),
    ("acme.com", "acme dot com"),
    ("Visit acme.com.", "Visit acme dot com."),
    ("https://www.acme.com/pricing", "w-w-w dot acme dot com slash pricing"),
    ("www.bbc.co.uk/news", "w-w-w dot b-b-c dot co dot u-k slash news"),
    ("acme.com/a-b_c", "acme dot com slash a dash b underscore c"),
    ("stanford.edu", "stanford dot e-d-u"),
    ("file.txt", "file.txt"),
    ("Node.js", "Node.js"),
    ("@vpipe", "at vpipe"),
    ("#vpipe", "hashtag vpipe"),
    # abbreviations
    ("Dr. Smith", "Doctor Smith"),
    ("Hi Dr. Lee", "Hi Doctor Lee"),
    ("Dr Lee", "Doctor Lee"),
    ("the Dr. said", "the Doctor said"),
    ("Elm Dr.", "Elm Drive"),
    ("Elm Dr, Springfield", "Elm Drive, Springfield"),
    ("123 Main St.", "one hundred twenty-three Main Street"),
    ("I live on Main St. Then", "I live on Main Street. Then"),
    ("St. Louis", "Saint Louis"),
    ("In St. Louis", "In Saint Louis"),
    ("Mr. Lee", "Mister Lee"),
    ("Mrs. Lee", "Missus Lee"),
    ("Ms. Lee", "Miz Lee"),
    ("MR SMITH", "Mister SMITH"),
    ("Prof. Xu", "Professor Xu"),
    ("John Smith Jr.", "John Smith Junior"),
    ("John Smith, Jr., welcome", "John Smith, Junior, welcome"),
    ("Smith Sr", "Smith Senior"),
    ("Apt 4B", "Apartment four B"),
    ("5th Ave", "fifth Avenue"),
    ("Mt. Everest", "Mount Everest"),
    ("Acme Ltd. rocks", "Acme Limited rocks"),
    ("cats vs. dogs", "cats versus dogs"),
    ("e.g. this", "for example this"),
    ("No. 5", "number five"),
    ("Ave Maria", "Ave Maria"),
    ("No way", "No way"),
    # ampersand
    ("AT&T", "A-T and T"),
    ("AT&T's", "A-T and T's"),
    ("Q&A", "Q and A"),
    ("Smith & Co", "Smith and Co"),
    ("rock&roll", "rock and roll"),
    # acronyms (rule: known initialisms, or 2-4 capitals without a vowel, are spelled)
    ("IBM", "I-B-M"),
    ("USA", "U-S-A"),
    ("NASA", "NASA"),
    ("NATO", "NATO"),
    ("BBC", "B-B-C"),
    ("HTML and CSS", "H-T-M-L and C-S-S"),
    ("the CEO of IBM", "the C-E-O of I-B-M"),
    ("CEOs", "C-E-O's"),
    ("IBM's", "I-B-M's"),
    ("the US", "the U-S"),
    ("CONTACT US", "CONTACT US"),
    ("JOHN SMITH", "JOHN SMITH"),
    ("HI ANA", "HI ANA"),
    ("HMM", "HMM"),
    ("OK", "okay"),
    ("NASDAQ", "NASDAQ"),
    ("MP3", "M-P three"),
    ("3GB", "three G-B"),
    ("PhD", "PhD"),
    # numbers with signs, ranges, fractions
    ("#1", "number one"),
    ("#12", "number twelve"),
    ("order #12345", "order number one two three four five"),
    ("№5", "number five"),
    ("10-20", "ten to twenty"),
    ("10–20", "ten to twenty"),
    ("100-1000", "one hundred to one thousand"),
    ("5 - 3", "five - three"),
    ("1/2", "one half"),
    ("3/4", "three quarters"),
    ("1/4", "one quarter"),
    ("2/3", "two thirds"),
    ("1/3", "one third"),
    ("5/8", "five eighths"),
    ("1/10", "one tenth"),
    ("4/5", "four fifths"),
    ("10/10", "ten out of ten"),
    ("7/3", "seven over three"),
    ("95/100", "ninety-five out of one hundred"),
    ("15/20", "fifteen out of twenty"),
    ("13/16", "thirteen sixteenths"),
    ("24/7", "twenty-four seven"),
    ("1 1/2", "one and one half"),
    ("½", "one half"),
    ("2½", "two and one half"),
    ("¾", "three quarters"),
    ("v1.2.3", "v one point two point three"),
    ("192.168.0.1", "one hundred ninety-two dot one hundred sixty-eight dot zero dot one"),
    # Unicode names pass through
    ("Zoë José Łukasz Nguyễn Siobhán Øyvind Ñuñez François", "Zoë José Łukasz Nguyễn Siobhán Øyvind Ñuñez François"),
    ("Hi Дмитрий 3", "Hi Дмитрий three"),
    ("Zoë2", "Zoë two"),
]


def _rebuild(source: str, v: Verbalized) -> str:
    out, pos = [], 0
    for c in v.changes:
        out.append(source[pos : c.start])
        out.append(c.spoken)
        pos = c.end
    out.append(source[pos:])
    return "".join(out)


def _check_changes(source: str, v: Verbalized) -> None:
    """Changes are sorted, disjoint, quote the input exactly, and rebuild the spoken text."""
    last = 0
    for c in v.changes:
        assert last <= c.start < c.end <= len(source)
        assert c.original == source[c.start : c.end]
        last = c.end
    assert _rebuild(source, v) == v.text


@pytest.mark.parametrize(("source", "spoken"), CASES, ids=[c[0] or "empty" for c in CASES])
def test_verbalize(source: str, spoken: str) -> None:
    v = verbalize(source)
    assert v.text == spoken
    _check_changes(source, v)
    if source == spoken:
        assert v.changes == ()


def test_changes_carry_spans_and_kinds() -> None:
    v = verbalize("Hi Ana, pay $25 by 03/15/2024.")
    assert v.changes == (
        Change(12, 15, "$25", "twenty-five dollars", "money"),
        Change(19, 29, "03/15/2024", "March fifteenth, twenty twenty-four", "date"),
    )
    assert v.text == "Hi Ana, pay twenty-five dollars by March fifteenth, twenty twenty-four."


def test_spoken_span_and_source_span_map_words_back() -> None:
    source = "Hi Ana, pay $25 by 03/15/2024."
    v = verbalize(source)
    a, b = v.spoken_span(0)
    assert v.text[a:b] == "twenty-five dollars"
    word = v.text.index("dollars")
    assert v.source_span(word, word + len("dollars")) == (12, 15)  # a word of a rewrite → all of it
    assert source[slice(*v.source_span(0, 2))] == "Hi"  # unchanged text maps one to one
    pay = v.text.index("pay")
    assert v.source_span(pay, pay + 3) == (8, 11)
    by = v.text.index(" by ") + 1
    assert source[slice(*v.source_span(by, by + 2))] == "by"
    assert v.source_span(0, len(v.text)) == (0, len(source))
    assert v.source_span(len(v.text), len(v.text)) == (len(source), len(source))
    march = v.text.index("March")
    assert v.source_span(march, len(v.text) - 1) == (19, 29)
    assert source[slice(*v.source_span(len(v.text) - 1, len(v.text)))] == "."
    with pytest.raises(ValueError):
        v.source_span(3, len(v.text) + 1)


def test_every_spoken_word_maps_inside_the_input() -> None:
    for source, _ in CASES:
        v = verbalize(source)
        for i in range(len(v.text)):
            a, b = v.source_span(i, i + 1)
            assert 0 <= a <= b <= len(source)


def test_nfc_normalisation_is_a_change_with_original_offsets() -> None:
    source = "Zoe\u0308 e\u0301cole 5"  # decomposed ë and é
    v = verbalize(source)
    assert v.text == "Zoë école five"
    assert v.text == unicodedata.normalize("NFC", v.text)
    assert [(c.start, c.end, c.spoken, c.kind) for c in v.changes] == [
        (2, 4, "ë", "normalize"),
        (5, 7, "é", "normalize"),
        (12, 13, "five", "number"),
    ]
    _check_changes(source, v)


def test_fullwidth_and_invisible_characters_are_folded() -> None:
    v = verbalize("Zo\u200bë ｘ１２")
    assert v.text == "Zoë x twelve"
    _check_changes("Zo\u200bë ｘ１２", v)
    assert verbalize("１２３").text == "one hundred twenty-three"


def test_spacing_is_added_where_a_rewrite_touches_a_word() -> None:
    assert verbalize("50%off").text == "fifty percent off"
    assert verbalize("abc123def").text == "abc one hundred twenty-three def"


@pytest.mark.parametrize(
    ("text", "before", "after", "spoken"),
    [
        ("1999", "We met in ", ".", "nineteen ninety-nine"),
        ("1999", "", "", "one thousand nine hundred ninety-nine"),
        ("St.", "", " Louis", "Saint"),
        ("St.", "123 Main ", "", "Street"),
        ("15", "March ", "", "fifteenth"),
        ("US", "the ", "", "U-S"),
        ("4", "Room ", "B", "four "),
    ],
)
def test_context_informs_but_is_not_rewritten(text: str, before: str, after: str, spoken: str) -> None:
    v = verbalize(text, before=before, after=after)
    assert v.text == spoken
    _check_changes(text, v)


def test_locale() -> None:
    assert verbalize("5", "en").text == "five"
    assert verbalize("5", "en_US").text == "five"
    with pytest.raises(ValueError, match="en-US"):
        verbalize("5", "fr-FR")


def test_result_is_frozen() -> None:
    v = verbalize("5")
    with pytest.raises(AttributeError):
        v.text = "x"  # type: ignore[misc]


def test_random_text_keeps_the_invariants() -> None:
    """Seeded fuzz over the rules' trigger characters: no crash, changes always rebuild the text."""
    import random

    pieces = [
        *"0123456789 ,.-/:$€£%#&@'°½ＸＹ１\u0301\u200bДé😀AaBbMmPpSsTtZz",
        "March ",
        "May ",
        "Dr. ",
        "St. ",
        "in ",
        "the ",
        ".com",
        "@acme.io",
        "AT&T",
        "9:30",
        "$1.50",
        "2024-03-15",
        "a.m.",
        "e\u0301",
        "USA",
        "1/2",
    ]
    rng = random.Random(1234)
    for _ in range(3000):
        source = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        v = verbalize(source)
        _check_changes(source, v)
        for i in range(len(v.text) + 1):
            a, b = v.source_span(i, min(i + 3, len(v.text)))
            assert 0 <= a <= b <= len(source)
