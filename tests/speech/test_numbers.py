"""Number spelling used by verbalize: cardinals, ordinals, years, fractions, digits."""

from __future__ import annotations

import pytest

from vpipe.speech.numbers import MAX_CARDINAL, cardinal, digits, fraction, number, ordinal, plural_word, year


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "zero"),
        (7, "seven"),
        (13, "thirteen"),
        (20, "twenty"),
        (21, "twenty-one"),
        (99, "ninety-nine"),
        (100, "one hundred"),
        (106, "one hundred six"),
        (110, "one hundred ten"),
        (999, "nine hundred ninety-nine"),
        (1000, "one thousand"),
        (1001, "one thousand one"),
        (2266, "two thousand two hundred sixty-six"),
        (10_000, "ten thousand"),
        (100_000, "one hundred thousand"),
        (1_000_010, "one million ten"),
        (10**9, "one billion"),
        (10**12, "one trillion"),
        (10**15, "one quadrillion"),
        (
            10**15 - 1,
            "nine hundred ninety-nine trillion nine hundred ninety-nine billion nine hundred "
            "ninety-nine million nine hundred ninety-nine thousand nine hundred ninety-nine",
        ),
        (-42, "minus forty-two"),
    ],
)
def test_cardinal(n: int, words: str) -> None:
    assert cardinal(n) == words


def test_cardinal_refuses_what_it_cannot_name() -> None:
    assert cardinal(MAX_CARDINAL).startswith("nine hundred ninety-nine quintillion")
    with pytest.raises(ValueError):
        cardinal(MAX_CARDINAL + 1)


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (1, "first"),
        (2, "second"),
        (3, "third"),
        (4, "fourth"),
        (5, "fifth"),
        (8, "eighth"),
        (9, "ninth"),
        (12, "twelfth"),
        (20, "twentieth"),
        (21, "twenty-first"),
        (100, "one hundredth"),
        (1000, "one thousandth"),
        (123, "one hundred twenty-third"),
    ],
)
def test_ordinal(n: int, words: str) -> None:
    assert ordinal(n) == words


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (1999, "nineteen ninety-nine"),
        (1905, "nineteen oh five"),
        (1900, "nineteen hundred"),
        (2000, "two thousand"),
        (2005, "two thousand five"),
        (2010, "twenty ten"),
        (2024, "twenty twenty-four"),
        (1000, "one thousand"),
        (1066, "ten sixty-six"),
        (2100, "twenty-one hundred"),
        (999, "nine hundred ninety-nine"),
    ],
)
def test_year(n: int, words: str) -> None:
    assert year(n) == words


@pytest.mark.parametrize(
    ("num", "den", "words"),
    [
        (1, 2, "one half"),
        (3, 2, "three halves"),
        (1, 4, "one quarter"),
        (3, 4, "three quarters"),
        (2, 3, "two thirds"),
        (1, 8, "one eighth"),
        (5, 16, "five sixteenths"),
        (7, 100, "seven hundredths"),
    ],
)
def test_fraction(num: int, den: int, words: str) -> None:
    assert fraction(num, den) == words


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("1,500", "one thousand five hundred"),
        ("-3.25", "minus three point two five"),
        (".5", "point five"),
        ("+7", "plus seven"),
        ("0.0", "zero point zero"),
    ],
)
def test_number(text: str, words: str) -> None:
    assert number(text) == words


def test_digits_and_plurals() -> None:
    assert digits("0213-4") == "zero two one three four"
    assert plural_word("nineteen ninety") == "nineteen nineties"
    assert plural_word("two thousand") == "two thousands"
    assert plural_word("six") == "sixes"
