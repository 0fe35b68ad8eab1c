"""Word timing of synthesized speech: which of piper's phonemes (and so which samples) belong
to which word of the text, and the per-sentence phoneme factors the worker takes.

The hand-made cases encode piper's real behaviour (function words merged, "the" said ði,
stress marks with samples of their own); the last tests run on real piper output.
"""

from __future__ import annotations

import difflib
import itertools

import pytest

from vpipe.speech.wordtiming import PhoneSpan, WordSpan, attribute, phone_spans, sentence_scales, tokens


def spans_of(phonemes: str, samples: int = 100) -> list[PhoneSpan]:
    """A piper-like phoneme list: a sentence mark, then each character `samples` long."""
    return phone_spans([("|", 0)] + [(c, samples) for c in phonemes])


def owned(words: list[WordSpan]) -> dict[str, str]:
    return {w.token.text: "".join(p.phoneme for p in w.phonemes) for w in words}


def test_tokens_keep_offsets_and_ipa_blocks_whole() -> None:
    text = "Hi  [[ zˈoʊiː ]], welcome\tto $25!"
    toks = tokens(text)
    assert [t.text for t in toks] == ["Hi", "[[ zˈoʊiː ]]", ",", "welcome", "to", "$25!"]
    assert all(text[t.start : t.end] == t.text for t in toks)
    assert tokens("") == [] and tokens("   ") == []


def test_phone_spans_are_contiguous_and_indexed() -> None:
    spans = phone_spans([("|", 0), ("^", 256), ("h", 512), ("ˈ", 256), ("a", 1024), ("$", 0)])
    assert [(s.start, s.end) for s in spans] == [(0, 0), (0, 256), (256, 768), (768, 1024), (1024, 2048), (2048, 2048)]
    assert [s.index for s in spans] == list(range(6))
    assert phone_spans([]) == []


def test_sentence_scales_put_each_factor_at_its_phoneme() -> None:
    """One list per sentence ("|"), one factor per phoneme after it; flat indices count the
    "|" marks too (they are entries of the engine's list)."""
    spans = phone_spans([("|", 0), ("^", 1), ("a", 1), ("$", 1), ("|", 0), ("^", 1), ("b", 1), ("c", 1), ("$", 1)])
    assert sentence_scales(spans, {}) == [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]]
    assert sentence_scales(spans, {2: 1.5, 6: 0.8, 7: 0.8}) == [[1.0, 1.5, 1.0], [1.0, 0.8, 0.8, 1.0]]


def test_merged_function_words_are_split_between_their_tokens() -> None:
    """espeak says "in the" as one chunk `ɪnðə`; each word still gets its own phonemes, the
    space between words belongs to none, the stress mark goes with the phone after it."""
    spans = spans_of("^ɪnðə hˈaʊs$")
    words = attribute(spans, tokens("in the house"), ["ˈɪn", "ðə", "hˈaʊs"])
    assert owned(words) == {"in": "ɪn", "the": "ðə", "house": "hˈaʊs"}
    assert [(w.start, w.end) for w in words] == [(100, 300), (300, 500), (600, 1100)]


def test_a_context_variant_is_spread_over_the_word() -> None:
    """The word "the" before a vowel is ði in the sentence but ðə on its own: the mismatched phones
    still belong to "the", not to its neighbours."""
    words = attribute(spans_of("^ðiː ˈæpəl$"), tokens("the apple"), ["ðə", "ˈæpəl"])
    assert owned(words) == {"the": "ðiː", "apple": "ˈæpəl"}


def test_a_token_without_phonemes_gets_no_span() -> None:
    words = attribute(spans_of("^hˈaɪ bˈɑːb$"), tokens("hi — bob"), ["hˈaɪ", "", "bˈɑːb"])
    assert [(w.token.text, w.start is None) for w in words] == [("hi", False), ("—", True), ("bob", False)]
    assert words[1].phonemes == ()


def test_a_stray_match_far_from_the_word_is_dropped() -> None:
    """Only the word's main contiguous run counts: "store" said on its own ends in a k the
    sentence lacks, and that k matches the k of "back" further on (outside every token); the
    word keeps its own phones (without the run filter it would reach to sample 1900)."""
    words = attribute(spans_of("^ɡoʊ stˈɔːɹ ænd bæk$"), tokens("go store"), ["ɡˈoʊ", "stˈɔːɹk"])
    assert owned(words) == {"go": "ɡoʊ", "store": "stˈɔːɹ"}
    assert (words[1].start, words[1].end) == (500, 1100)


SENTENCE_1 = "He lives in the house of the rising sun. Hi"
SENTENCE_2 = "and Bob, it is at 5 of the clock."


@pytest.fixture(scope="module")
def piper_sentence() -> tuple[str, object]:
    from vpipe.speech.tts import PiperEngine

    text = f"{SENTENCE_1} [[ zˈoʊiː ]] {SENTENCE_2}"
    return text, PiperEngine("en_US-joe-medium").durations(text)


def test_every_word_of_a_real_sentence_gets_its_own_samples(piper_sentence: tuple[str, object]) -> None:
    """On piper's output: every token (IPA block and digit included) gets a span, the spans
    follow the text order without overlapping, every phone of the sentence belongs to exactly
    one word, and each word's phones are (nearly: "lives" is laɪvz alone, lɪvz after "he";
    "it" ends in a flap before "is") the ones espeak gives the word on its own — merged
    'in the'/'of the' included."""
    from vpipe.speech.g2p import ipa_to_arpabet
    from vpipe.speech.tts import phonemize
    from vpipe.speech.wordtiming import _clean

    _, out = piper_sentence
    words = out.words
    assert [w.token.text for w in words] == [*SENTENCE_1.split(), "[[ zˈoʊiː ]]", *SENTENCE_2.split()]
    assert all(w.start is not None and w.end is not None and w.start < w.end for w in words)
    for a, b in itertools.pairwise(words):
        assert a.end <= b.start
    assert words[-1].end <= out.phonemes[-1].end
    plain = [w.token.text for w in words if not w.token.text.startswith("[[")]
    own = dict(zip(plain, phonemize(plain), strict=True))
    sentence = _clean("".join(p.phoneme for p in out.phonemes))
    assert "".join(_clean("".join(p.phoneme for p in w.phonemes)) for w in words) == sentence
    for w in words:
        expected = _clean(w.token.text[2:-2] if w.token.text.startswith("[[") else own[w.token.text])
        got = _clean("".join(p.phoneme for p in w.phonemes))
        a, b = ipa_to_arpabet(got, w.token.text), ipa_to_arpabet(expected, w.token.text)  # ɾ ~ t
        assert difflib.SequenceMatcher(None, a, b).ratio() >= 0.7, (w.token.text, a, b)
        # the span is exactly its phonemes
        assert (w.start, w.end) == (w.phonemes[0].start, w.phonemes[-1].end)
