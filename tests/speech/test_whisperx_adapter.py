"""The whisperx adapter turns whisperx results into vpipe Alignments.

whisperx cannot be installed next to the CPU torch here, so its results are given as the
structures it returns (whisperx/types.py: `segments[].words[]` and the flat `word_segments`,
words as written — capitals, punctuation — with `start`/`end`/`score`, and no times for
words its alphabet cannot place, such as digits). The times in them are real: the
pocketsphinx alignment of a shared clip, re-shaped as whisperx would report it, so the
converted alignment can be checked against an independent one and used downstream.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest

from tests.media import shared_media
from vpipe.data.alignment import Alignment, Segment
from vpipe.lexicon import Lexicon
from vpipe.speech.align import AlignmentFailed, align, phones_of_words
from vpipe.speech.whisperx_adapter import (
    fill_gaps,
    match_transcript,
    spread_phones,
    timed_words,
    to_alignment,
    transcript_of,
)

TRANSCRIPT = "my biggest weakness is asking for help when needed i like to do better and i"
pytestmark = pytest.mark.media

WRITTEN = "My biggest weakness is asking for help, when needed. I like to do better, and I"


@functools.cache
def reference() -> tuple[Alignment, float]:
    from vpipe.media.decode import read_audio
    from vpipe.speech.tts import phonemize

    audio = read_audio(shared_media("interview_man.mp4"))
    mono = audio.mono()
    return align(mono, audio.rate, TRANSCRIPT, Lexicon(), phonemize), len(mono) / audio.rate


def pronounce(words: list[str]) -> list[list[str]]:
    from vpipe.speech.tts import phonemize

    return phones_of_words(words, Lexicon(), phonemize)


def whisperx_result(al: Alignment, drop: tuple[int, ...] = (), flat: bool = True) -> dict[str, Any]:
    """`al` as whisperx.align returns it: written words, two sentence segments, scores,
    and no times for the words in `drop`."""
    written = WRITTEN.split()
    words: list[dict[str, Any]] = []
    for k, (text, seg) in enumerate(zip(written, al.words, strict=True)):
        w: dict[str, Any] = {"word": text}
        if k not in drop:
            w.update(start=round(seg.start, 3), end=round(seg.end, 3), score=0.87)
        words.append(w)
    cut = written.index("needed.") + 1
    segments = [
        {
            "start": words[0].get("start", 0.0),
            "end": al.words[cut - 1].end,
            "text": " " + " ".join(written[:cut]),
            "words": words[:cut],
        },
        {
            "start": al.words[cut].start,
            "end": al.words[-1].end,
            "text": " " + " ".join(written[cut:]),
            "words": words[cut:],
        },
    ]
    result: dict[str, Any] = {"segments": segments}
    if flat:
        result["word_segments"] = words
    return result


def test_a_whisperx_result_becomes_the_same_alignment() -> None:
    al, duration = reference()
    out = to_alignment(whisperx_result(al), TRANSCRIPT, duration, pronounce)
    assert out.engine == "whisperx" and [w.label for w in out.words] == TRANSCRIPT.split()
    for got, want in zip(out.words, al.words, strict=True):
        assert got.start == pytest.approx(want.start, abs=0.001) and got.end == pytest.approx(want.end, abs=0.001)
    # every word owns its phones, inside its span, in order; pauses are SIL
    for (a, b), w in zip(out.word_phones, out.words, strict=True):
        assert b > a and out.phones[a].start == pytest.approx(w.start) and out.phones[b - 1].end == pytest.approx(w.end)
        assert all(p.label != "SIL" for p in out.phones[a:b])
    starts = [p.start for p in out.phones]
    assert starts == sorted(starts) and duration - 0.03 < out.phones[-1].end <= duration  # a pause ≥ 30 ms is SIL
    gaps = [(b.start - a.end) for a, b in zip(al.words, al.words[1:], strict=False) if b.start - a.end >= 0.03]
    assert sum(1 for p in out.phones if p.label == "SIL") >= len(gaps)


def test_the_phones_agree_with_the_pocketsphinx_phones_in_most_frames() -> None:
    """Phones spread by typical length are approximate, but over the clip most 10 ms frames
    carry the same phone as pocketsphinx's own phone alignment."""
    al, duration = reference()
    out = to_alignment(whisperx_result(al), TRANSCRIPT, duration, pronounce)
    times = np.arange(0.0, duration, 0.01)

    def labels(phones: tuple[Segment, ...]) -> list[str]:
        return [next((p.label for p in phones if p.start <= t < p.end), "SIL") for t in times]

    agree = np.mean([a == b for a, b in zip(labels(out.phones), labels(al.phones), strict=True)])
    print(f"frame agreement with pocketsphinx phones: {agree:.2f}")
    assert agree > 0.65  # measured 0.78


def test_words_without_times_get_the_gap_between_their_neighbours() -> None:
    al, duration = reference()
    help_index = TRANSCRIPT.split().index("help")
    out = to_alignment(whisperx_result(al, drop=(help_index,)), TRANSCRIPT, duration, pronounce)
    word = out.words[help_index]
    assert word.start == pytest.approx(al.words[help_index - 1].end, abs=0.001)
    assert word.end == pytest.approx(al.words[help_index + 1].start, abs=0.001)


def test_older_results_without_word_segments_are_read_from_segments() -> None:
    al, duration = reference()
    a = to_alignment(whisperx_result(al, flat=False), TRANSCRIPT, duration, pronounce)
    b = to_alignment(whisperx_result(al), TRANSCRIPT, duration, pronounce)
    assert a.words == b.words and a.phones == b.phones


def test_a_result_that_places_too_few_words_is_an_alignment_failure() -> None:
    al, duration = reference()
    drop = tuple(range(0, len(al.words), 1))[: len(al.words) // 2 + 2]
    with pytest.raises(AlignmentFailed, match="placed only"):
        to_alignment(whisperx_result(al, drop=drop), TRANSCRIPT, duration, pronounce)


def test_the_converted_alignment_locates_the_slot_like_pocketsphinx_does() -> None:
    """Downstream use: slots.locate finds "help" at the same time in both alignments."""
    from vpipe.kernels.slots import locate

    al, duration = reference()
    out = to_alignment(whisperx_result(al), TRANSCRIPT, duration, pronounce)
    mine = locate(out, {"value": {"say": "help", "words": ["help"]}})
    theirs = locate(al, {"value": {"say": "help", "words": ["help"]}})
    assert mine.slots[0].start == pytest.approx(theirs.slots[0].start, abs=0.001)
    assert mine.slots[0].end == pytest.approx(theirs.slots[0].end, abs=0.001)


# --- the pieces, on hand-made structures -------------------------------------------------


def test_timed_words_drops_partial_and_non_finite_times() -> None:
    result = {
        "word_segments": [
            {"word": "Hi", "start": 0.1, "end": 0.3, "score": 0.9},
            {"word": "2266", "score": None},
            {"word": "John,", "start": float("nan"), "end": 0.9},
            {"word": "back", "start": 1.2, "end": 1.1},
        ]
    }
    assert timed_words(result) == [("Hi", 0.1, 0.3), ("2266", None, None), ("John,", None, None), ("back", None, None)]


def test_match_transcript_handles_punctuation_case_and_an_extra_word() -> None:
    words = [("Hi", 0.0, 0.2), ("um", 0.2, 0.3), ("John,", 0.3, 0.6), ("welcome", 0.7, 1.0)]
    assert match_transcript(["hi", "john", "welcome"], words) == [(0.0, 0.2), (0.3, 0.6), (0.7, 1.0)]


def test_fill_gaps_shares_the_gap_by_word_length_and_uses_the_clip_edges() -> None:
    segs = fill_gaps(
        [(None, None), (1.0, 1.5), (None, None), (None, None), (3.0, 3.2)], ["a", "b", "cc", "d", "e"], 4.0
    )
    assert (segs[0].start, segs[0].end) == (0.0, 1.0)
    assert segs[2].start == pytest.approx(1.5) and segs[2].end == pytest.approx(1.5 + 1.5 * 2 / 3)
    assert segs[3].end == pytest.approx(3.0)


def test_spread_phones_gives_vowels_twice_a_consonant() -> None:
    phones = spread_phones(Segment("cat", 1.0, 1.4), ["K", "AE1", "T"])
    assert [p.label for p in phones] == ["K", "AE", "T"]
    assert [round(p.end - p.start, 3) for p in phones] == [0.1, 0.2, 0.1]


def test_transcript_of_a_recognition_result() -> None:
    result = {
        "segments": [
            {"text": " Hi John, welcome to Paris!", "start": 0.0, "end": 1.9},
            {"text": " I'm so glad.", "start": 2.0, "end": 2.8},
        ],
        "language": "en",
    }
    assert transcript_of(result) == "hi john welcome to paris i'm so glad"


def test_the_kernels_are_registered_but_unavailable_without_whisperx() -> None:
    from vpipe.kernel_api import registry

    found = {k.id: registry.availability(k) for k in registry.candidates("speech.align") if k.backend == "whisperx"}
    assert set(found) == {"whisperx@cpu", "whisperx@cuda"}
    assert all(why and "whisperx is not installed" in why for why in found.values())


def test_a_whisperx_recipe_lowers_to_the_whisperx_backend_and_says_it_is_missing(tiny_recipe) -> None:  # type: ignore[no-untyped-def]
    """The recipe's aligner reaches the IR (backend, local model folder, language); without
    the package, select-kernels says so with VP111 and `vpipe run` would refuse to start."""
    from vpipe.driver import BuildOptions, compile_recipe

    (tiny_recipe.parent / "w2v").mkdir()
    text = tiny_recipe.read_text().replace(
        "  transcript: hi john welcome to paris\n",
        "  transcript: hi john welcome to paris\n  aligner: {engine: whisperx, align_model: w2v, language: en}\n",
    )
    tiny_recipe.write_text(text)
    build = compile_recipe(tiny_recipe, BuildOptions(analyze=False))
    op = build.graph.first("speech.align")
    assert op is not None and op.attr("backend") == "whisperx" and op.attr("language") == "en"
    assert op.attr("model") == str((tiny_recipe.parent / "w2v").resolve())
    missing = [d for d in build.diagnostics if d.code == "VP111"]
    assert missing and "speech.align" in missing[0].message and "whisperx is not installed" in missing[0].message
