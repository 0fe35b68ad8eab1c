"""Text preparation: what the synthesizer is given for a row, and where each slot is in it.

Checked: the slot's characters are tracked through verbalization and the lexicon; only the
phrase around the slots is spoken (WORDS_BEFORE/WORDS_AFTER words, within their sentences),
or whole sentences on request; scripts an English voice cannot speak are refused with the
slot named; Latin-script names in any spelling come out of piper as a name-length word.
"""

from __future__ import annotations

from functools import cache

import pytest

from vpipe.lexicon import Lexicon, parse_row_column
from vpipe.speech.prepare import WORDS_AFTER, WORDS_BEFORE, PreparedText, Unspeakable, prepare
from vpipe.speech.verbalize import verbalize


def spans_for(text: str, values: dict[str, str]) -> list[tuple[str, int, int]]:
    """(slot, start, end) of each value's first occurrence in `text`."""
    return [(name, text.index(v), text.index(v) + len(v)) for name, v in values.items()]


def slot_text(p: PreparedText, name: str) -> str:
    s = next(s for s in p.slots if s.name == name)
    return p.text[s.start : s.end]


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("Hi Zoë, welcome to Paris!", {"name": "Zoë"}),
        ("You owe us $25 by 03/15/2024, José.", {"amount": "$25", "date": "03/15/2024", "name": "José"}),
        ("We met in 1999 at 7:30 pm with Łukasz Nowak.", {"year": "1999", "time": "7:30 pm", "name": "Łukasz Nowak"}),
        ("Call ana.lee@acme.io today.", {"email": "ana.lee@acme.io"}),
    ],
)
def test_slots_are_tracked_through_verbalization(text: str, values: dict[str, str]) -> None:
    """Each slot's span in the prepared text holds exactly what verbalize says for the value
    in its place (context decides: "1999" after "in" is a year), and keeps the value as written."""
    p = prepare(text, spans_for(text, values), Lexicon(), whole=True)
    for name, value in values.items():
        a = text.index(value)
        spoken = verbalize(value, before=text[max(0, a - 40) : a], after=text[a + len(value) : a + len(value) + 40])
        assert slot_text(p, name) == spoken.text.strip()
        assert next(s.value for s in p.slots if s.name == name) == value
    assert not any(c.isdigit() for c in p.text)  # everything numeric is said in words
    assert [s.name for s in p.slots] == sorted(values, key=lambda n: text.index(values[n]))


LONG = "First sentence here. Then the quick brown fox jumps over the lazy dog near the river bank today. Last one."


def test_only_the_phrase_around_the_slot_is_spoken() -> None:
    """WORDS_BEFORE words before the slot and WORDS_AFTER after it, never beyond the sentence."""
    words = LONG.split(". ")[1].split()
    k = words.index("lazy")
    p = prepare(LONG, spans_for(LONG, {"adj": "lazy"}), Lexicon())
    assert p.text.split() == words[k - WORDS_BEFORE : k + WORDS_AFTER + 1]
    assert slot_text(p, "adj") == "lazy"
    # near the sentence's edges the phrase stops at them
    p = prepare(LONG, spans_for(LONG, {"w": "quick"}), Lexicon())
    assert p.text.split()[0] == "Then" and p.text.split()[-1] == words[words.index("quick") + WORDS_AFTER]
    p = prepare(LONG, spans_for(LONG, {"w": "river"}), Lexicon())
    assert p.text.split()[-1] == "today." and p.text.split()[0] == words[words.index("river") - WORDS_BEFORE]


def test_whole_speaks_every_sentence_holding_a_slot_and_nothing_else() -> None:
    p = prepare(LONG, spans_for(LONG, {"adj": "lazy"}), Lexicon(), whole=True)
    assert p.text.strip() == LONG.split(". ")[1] + "."
    two = prepare(LONG, spans_for(LONG, {"a": "First", "b": "lazy"}), Lexicon(), whole=True)
    assert two.text.startswith("First sentence here.") and "today." in two.text and "Last" not in two.text
    assert slot_text(two, "a") == "First" and slot_text(two, "b") == "lazy"
    # the phrase form spans from the first slot to the last, across the sentence boundary
    phrase = prepare(LONG, spans_for(LONG, {"a": "First", "b": "lazy"}), Lexicon())
    assert phrase.text.startswith("First") and phrase.text.split()[-1] == "near"


def test_no_slot_is_an_error() -> None:
    with pytest.raises(ValueError, match="no slot"):
        prepare("Hello there.", [], Lexicon())


@pytest.mark.parametrize("value", ["Дмитрий", "王小明", "محمد", "김민준", "Γιώργος"])
def test_a_slot_the_voice_cannot_speak_is_refused_with_its_name(value: str) -> None:
    text = f"Hi {value}, welcome to the team."
    with pytest.raises(Unspeakable, match="cannot be spoken by an English voice") as exc:
        prepare(text, spans_for(text, {"name": value}), Lexicon())
    assert exc.value.slot == "name"


def test_unspeakable_context_is_refused_only_when_it_would_be_spoken() -> None:
    text = "Привет друг. Hi Bob and Дмитрий, welcome."
    with pytest.raises(Unspeakable) as exc:  # Дмитрий is in the spoken phrase, not a slot
        prepare(text, spans_for(text, {"name": "Bob"}), Lexicon())
    assert exc.value.slot is None
    other = "Привет друг. Hi Bob, welcome."  # a sentence that is never spoken does not matter
    assert prepare(other, spans_for(other, {"name": "Bob"}), Lexicon()).text == "Hi Bob, welcome."


def test_lexicon_phones_become_ipa_blocks_and_respellings_replace_words() -> None:
    """Phones → a [[ IPA ]] block piper speaks verbatim (recorded in `ipa` for word timing);
    a respelling replaces the word, also in context words; an engine without IPA support gets
    the word as written. Slot offsets follow the replacements."""
    lex = parse_row_column("zoë=Z OW1 IY0; siobhan=shiv awn; team=teem")
    text = "Hi Zoë and Siobhan, welcome to the team."
    spans = spans_for(text, {"a": "Zoë", "b": "Siobhan"})
    p = prepare(text, spans, lex, whole=True)
    block = slot_text(p, "a")
    assert block.startswith("[[ ") and block.endswith(" ]]") and p.ipa == {block: "zˈoʊiː"}
    assert slot_text(p, "b") == "shiv awn" and p.text.endswith("the teem.")
    plain = prepare(text, spans, lex, supports_ipa=False, whole=True)
    assert slot_text(plain, "a") == "Zoë" and plain.ipa == {} and slot_text(plain, "b") == "shiv awn"


NAMES = ["Zoë", "José", "Łukasz", "Siobhán", "François", "Øyvind", "Müller", "Nguyễn", "Trần", "Phạm"]


@cache
def spoken_name(name: str) -> tuple[float, list[str]]:
    """(seconds, ARPAbet phones) of the name as piper says it in "Hi NAME, welcome to the team."
    (duration pass only: the timing is the synthesis's, see test_tts)."""
    from vpipe.speech.g2p import ipa_to_arpabet
    from vpipe.speech.tts import PiperEngine

    text = f"Hi {name}, welcome to the team."
    p = prepare(text, spans_for(text, {"name": name}), Lexicon())
    slot = p.slots[0]
    out = PiperEngine("en_US-joe-medium").durations(p.text)
    mine = [w for w in out.words if w.token.start < slot.end and w.token.end > slot.start]
    assert mine and all(w.start is not None and w.end is not None for w in mine)
    ipa = "".join(ph.phoneme for w in mine for ph in w.phonemes)
    return (mine[-1].end - mine[0].start) / out.rate, ipa_to_arpabet(ipa, name)


@pytest.mark.parametrize("name", NAMES)
def test_latin_names_are_spoken_as_names(name: str) -> None:
    """A Latin-script name (the verbalizer lets them all through) must come out as a word of a
    name's length, not spelled out: ≤ 0.9 s and at most two phones more than letters. Measured:
    Zoë 0.39 s / 3 phones … François 0.62 s / 7; espeak reads Vietnamese letters such as ễ
    (U+1EC5) as "letter one E C five" and then spells the whole word (Nguyễn 2.3 s / 23 phones,
    Trần 1.6 s, Phạm 1.5 s)."""
    seconds, phones = spoken_name(name)
    print(f"{name}: {seconds:.2f} s, {' '.join(phones)}")
    assert seconds <= 0.9 and len(phones) <= len(name) + 2


def test_a_decomposed_name_is_said_like_the_composed_one() -> None:
    assert spoken_name("Zoe\u0308") == spoken_name("Zoë")


def test_emoji_are_dropped_not_spoken_and_a_value_of_only_emoji_is_unspeakable() -> None:
    """Nobody reads 👋 aloud: pictographs (with skin tones and joiners) leave the spoken text;
    a value that was nothing but emoji has nothing left to say."""
    text = "Hi Ana 👋🏽, welcome to Paris! 🎉"
    out = prepare(text, [("name", 3, 6)], Lexicon())
    assert "Ana" in out.text and not any(ord(c) > 0x2000 for c in out.text)
    assert out.text[out.slots[0].start : out.slots[0].end] == "Ana"
    with pytest.raises(Unspeakable) as err:
        prepare("Hi 🎉👩‍👩‍👧, welcome", [("name", 3, 11)], Lexicon())
    assert err.value.slot == "name"
