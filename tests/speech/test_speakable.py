"""check_speakable: what an English Latin-script voice cannot say, with spans and human reasons."""

from __future__ import annotations

import pytest

from vpipe.speech.speakable import Problem, check_speakable, describe
from vpipe.speech.verbalize import verbalize

SPEAKABLE = [
    "Hi John, welcome to Paris!",
    "Zoë José Łukasz Nguyễn Siobhán Øyvind Ñuñez François",
    "ŁłØøßÆæÐðÞþĳŒœ ﬁne",
    "Zoe\u0308 e\u0301cole",  # decomposed accents
    "Café ©2024 Acme™ 72°",
    "x² ½ Ⅻ",
    "＄５ ｘ",  # fullwidth ASCII: verbalize folds it
    "ok\u200b",  # invisible characters: verbalize drops them
    "Tab\tand\nnewline",
    "5",
    "O'Brien — naïve façade",
    "ʻOkina",  # modifier letter
]


@pytest.mark.parametrize("text", SPEAKABLE)
def test_speakable_text_has_no_problems(text: str) -> None:
    assert check_speakable(text) == []


PROBLEMS: list[tuple[str, list[tuple[int, int, str, str]]]] = [
    (
        "Hi Дмитрий Иванов!",
        [(3, 17, "Дмитрий Иванов", "Cyrillic letters ('Дмитрий Иванов') cannot be spoken by an English voice")],
    ),
    ("王小明", [(0, 3, "王小明", "Chinese characters ('王小明') cannot be spoken by an English voice")]),
    (
        "こんにちは",
        [(0, 5, "こんにちは", "Japanese hiragana characters ('こんにちは') cannot be spoken by an English voice")],
    ),
    (
        "カタカナ",
        [(0, 4, "カタカナ", "Japanese katakana characters ('カタカナ') cannot be spoken by an English voice")],
    ),
    ("김민준", [(0, 3, "김민준", "Korean Hangul characters ('김민준') cannot be spoken by an English voice")]),
    ("محمد", [(0, 4, "محمد", "Arabic letters ('محمد') cannot be spoken by an English voice")]),
    ("שלום", [(0, 4, "שלום", "Hebrew letters ('שלום') cannot be spoken by an English voice")]),
    ("नमस्ते", [(0, 6, "नमस्ते", "Devanagari letters ('नमस्ते') cannot be spoken by an English voice")]),
    ("Γιώργος", [(0, 7, "Γιώργος", "Greek letters ('Γιώργος') cannot be spoken by an English voice")]),
    ("สวัสดี", [(0, 6, "สวัสดี", "Thai letters ('สวัสดี') cannot be spoken by an English voice")]),
    ("١٢٣", [(0, 3, "١٢٣", "Arabic digits ('١٢٣') cannot be spoken by an English voice")]),
    ("Hi 😀", [(3, 4, "😀", "emoji ('😀') cannot be spoken by an English voice")]),
    (
        "👨\u200d👩\u200d👧 family",
        [(0, 5, "👨\u200d👩\u200d👧", "emoji ('👨\\u200d👩\\u200d👧') cannot be spoken by an English voice")],
    ),
    ("🇺🇸", [(0, 2, "🇺🇸", "emoji ('🇺🇸') cannot be spoken by an English voice")]),
    ("👍🏽 ok", [(0, 2, "👍🏽", "emoji ('👍🏽') cannot be spoken by an English voice")]),
    ("❤️", [(0, 2, "❤️", "emoji ('❤️') cannot be spoken by an English voice")]),
    ("I ♥ NY", [(2, 3, "♥", "emoji ('♥') cannot be spoken by an English voice")]),
    ("⌘ key", [(0, 1, "⌘", "symbols ('⌘') cannot be spoken by an English voice")]),
    ("a\x07b", [(1, 2, "\x07", "control characters (U+0007) cannot be spoken by an English voice")]),
    (
        "x\ue000y",
        [(1, 2, "\ue000", "private-use characters (U+E000) have no standard meaning, so no voice can say them")],
    ),
    ("a\u0378", [(1, 2, "\u0378", "unassigned code points (U+0378) cannot be spoken by an English voice")]),
    (
        "𝐉𝐨𝐡𝐧",
        [
            (
                0,
                4,
                "𝐉𝐨𝐡𝐧",
                "decorative letters ('𝐉𝐨𝐡𝐧') cannot be spoken by an English voice; type them as plain letters ('John')",
            )
        ],
    ),
    ("!!!", [(0, 3, "!!!", "'!!!' has no letters or digits, so there is nothing to say")]),
    ("", [(0, 0, "", "the text is empty, so there is nothing to say")]),
    ("   ", [(0, 3, "   ", "the text is only whitespace, so there is nothing to say")]),
]


@pytest.mark.parametrize(("text", "expected"), PROBLEMS, ids=[repr(p[0]) for p in PROBLEMS])
def test_problems(text: str, expected: list[tuple[int, int, str, str]]) -> None:
    problems = check_speakable(text)
    assert [(p.start, p.end, p.text, p.reason) for p in problems] == expected
    for p in problems:
        assert text[p.start : p.end] == p.text


def test_separate_scripts_and_mixed_text_give_separate_problems_in_order() -> None:
    text = "Anna Дмитрий 😀 王 x 😀"
    problems = check_speakable(text)
    assert [(p.start, p.end, p.text) for p in problems] == [
        (5, 12, "Дмитрий"),
        (13, 14, "😀"),
        (15, 16, "王"),
        (19, 20, "😀"),
    ]


def test_combining_marks_follow_their_base() -> None:
    assert check_speakable("e\u0301") == []
    assert [(p.start, p.end) for p in check_speakable("Дa\u0301 д\u0301")] == [(0, 1), (4, 6)]


def test_describe() -> None:
    assert describe([]) == "nothing unspeakable"
    one = check_speakable("Hi Дмитрий")
    assert describe(one) == "Cyrillic letters ('Дмитрий') cannot be spoken by an English voice"
    many = [Problem(i, i + 1, "x", f"reason {i}") for i in range(5)]
    assert describe(many) == "reason 0; reason 1; reason 2; and 2 more"
    assert "\n" not in describe(check_speakable("Дмитрий 😀 王 \x07"))


def test_language() -> None:
    assert check_speakable("hi", "en-US") == []
    with pytest.raises(ValueError, match="English"):
        check_speakable("hi", "de")


def test_verbalized_text_is_speakable() -> None:
    """What verbalize produces from common variable values is all speakable."""
    for value in ["$25", "03/15/2024", "ana.lee@acme.io", "AT&T", "１２", "72°F", "½", "#1", "№5"]:
        assert check_speakable(verbalize(value).text) == [], value
