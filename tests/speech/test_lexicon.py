"""The pronunciation lexicon: parsing (phones vs respellings, errors), lookups, and the promise
that one lexicon serves both the synthesizer and the aligner, so the aligner expects exactly
the pronunciation the synthesizer was told to use."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from vpipe.lexicon import (
    Lexicon,
    LexiconError,
    Pronunciation,
    looks_like_phones,
    normalize_word,
    parse_entry,
    parse_mapping,
    parse_phones,
    parse_row_column,
)


@pytest.mark.parametrize(
    ("raw", "key"),
    [("Zoë,", "zoë"), ("Zoe\u0308", "zoë"), ("  “JOSÉ”! ", "josé"), ("(Łukasz)", "łukasz"), ("o'brien", "o'brien")],
)
def test_normalize_word_gives_one_key_per_spelling(raw: str, key: str) -> None:
    """NFC (a decomposed ë equals the composed one), lower case, outer punctuation dropped."""
    assert normalize_word(raw) == key


def test_phones_parse_with_stress_digits_dropped() -> None:
    assert parse_phones("Z OW1 IY0") == ("Z", "OW", "IY")
    assert parse_phones("SH IH2 V AO1 N") == ("SH", "IH", "V", "AO", "N")
    assert parse_phones("z ow iy") is None  # lower case: a respelling, not phones
    assert parse_phones("Z OW XX") is None
    assert parse_phones("") is None


def test_upper_case_means_phones_so_a_typo_is_an_error() -> None:
    """'Z OW1 XX' is meant as phones: an error naming XX, never silently spoken as letters."""
    assert looks_like_phones("Z OW1 IY0") and looks_like_phones("XX")
    assert not looks_like_phones("shiv awn") and not looks_like_phones("Sh IV") and not looks_like_phones("1 2")
    assert parse_entry("zoë", "Z OW1 IY0") == Pronunciation(phones=("Z", "OW", "IY"))
    assert parse_entry("siobhan", " shiv awn ") == Pronunciation(respelling="shiv awn")
    with pytest.raises(LexiconError, match="'XX'") as bad:
        parse_entry("zoë", "Z OW1 XX")
    assert bad.value.word == "zoë"
    with pytest.raises(LexiconError, match="empty"):
        parse_entry("zoë", "   ")


def test_mapping_keeps_good_entries_and_collects_every_error() -> None:
    lex, errors = parse_mapping({"Zoë": "Z OW IY", "Siobhán": "shiv awn", "Bad": "B AE QQ", "Num": 5, "Empty": ""})
    assert lex.entries == {
        "zoë": Pronunciation(phones=("Z", "OW", "IY")),
        "siobhán": Pronunciation(respelling="shiv awn"),
    }
    assert sorted(e.word for e in errors) == ["Bad", "Empty", "Num"]


def test_lookup_normalizes_and_row_entries_override_the_recipe() -> None:
    recipe = parse_row_column("zoë=Z OW IY; siobhan=shiv awn")
    row = parse_row_column(" Zoë = Z OW1 EY0 ;; ")
    merged = recipe.merged(row)
    assert merged.lookup("ZOË,") == Pronunciation(phones=("Z", "OW", "EY"))
    assert merged.lookup("Siobhan") == Pronunciation(respelling="shiv awn")
    assert merged.lookup("bob") is None
    assert recipe.lookup("zoë") == Pronunciation(phones=("Z", "OW", "IY"))  # merging made a new lexicon
    assert merged.lookup("zoë").describe() == "Z OW EY" and merged.lookup("siobhan").describe() == "“shiv awn”"


def test_row_column_errors() -> None:
    with pytest.raises(LexiconError, match="word=pronunciation"):
        parse_row_column("zoë Z OW IY")
    with pytest.raises(LexiconError, match="'QQ'"):
        parse_row_column("zoë=Z OW QQ")


def test_json_round_trip() -> None:
    lex = parse_row_column("zoë=Z OW IY; siobhan=shiv awn")
    data = lex.to_json()
    assert data == {"siobhan": {"respelling": "shiv awn"}, "zoë": {"phones": ["Z", "OW", "IY"]}}
    assert Lexicon.from_json(data) == lex


# Irish names espeak gets wrong on its own: the lexicon decides how they are said.
TEXT = "Please welcome Aoife and Saoirse to the team today."
TRANSCRIPT = "please welcome aoife and saoirse to the team today"
RIGHT = "aoife=IY1 F AH0; saoirse=sir shuh"
WRONG = "aoife=K AE1 T; saoirse=brick"


@cache
def spoken_with_lexicon() -> tuple[np.ndarray, int, str]:
    """(audio, rate, prepared text): piper saying TEXT with the RIGHT lexicon (one entry as
    phones → an IPA block, one as a respelling)."""
    from vpipe.speech.prepare import prepare
    from vpipe.speech.tts import PiperEngine

    spans = [("a", TEXT.index("Aoife"), TEXT.index("Aoife") + 5), ("b", TEXT.index("Saoirse"), TEXT.index(" to"))]
    prepared = prepare(TEXT, spans, parse_row_column(RIGHT), whole=True)
    out = PiperEngine("en_US-joe-medium").synthesize(prepared.text)
    return out.audio, out.rate, prepared.text


def _slot_scores(lexicon: Lexicon) -> list[float]:
    from vpipe.speech.align import align
    from vpipe.speech.tts import phonemize

    audio, rate, _ = spoken_with_lexicon()
    al = align(audio, rate, TRANSCRIPT, lexicon, phonemize)
    words = TRANSCRIPT.split()
    return [al.scores[words.index("aoife")], al.scores[words.index("saoirse")]]


def test_one_lexicon_serves_the_synthesizer_and_the_aligner() -> None:
    """Said with the lexicon and aligned with it, both names score like correct words
    (measured −7 and +2; a wrong word scores below LOW_CONFIDENCE, −35)."""
    from vpipe.speech.align import LOW_CONFIDENCE

    _, _, text = spoken_with_lexicon()
    assert "[[ ˈiːfʌ ]]" in text and "sir shuh" in text
    scores = _slot_scores(parse_row_column(RIGHT))
    print(f"aoife, saoirse with the right lexicon: {scores}")
    assert min(scores) > LOW_CONFIDENCE


def test_the_aligner_follows_a_changed_pronunciation() -> None:
    """The same words with another row's pronunciation, in the same process (the aligner keeps
    one decoder per process and adds lexicon words to it): no error, the wrong pronunciation
    scores below LOW_CONFIDENCE, and the right one scores as before."""
    from vpipe.speech.align import LOW_CONFIDENCE

    first = _slot_scores(parse_row_column(RIGHT))
    wrong = _slot_scores(parse_row_column(WRONG))
    again = _slot_scores(parse_row_column(RIGHT))
    print(f"right {first}, wrong {wrong}, right again {again}")
    assert max(wrong) < LOW_CONFIDENCE < min(first)
    assert again == pytest.approx(first, abs=0.01)
