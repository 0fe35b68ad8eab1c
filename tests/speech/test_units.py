"""Speaker-own units (vpipe.speech.units) on the real test speakers: the library holds the
speaker's aligned phones, the search finds a recorded word as itself, phones the recording
lacks are left to the synthesizer, and a new word built with the units sounds more like the
speaker (resemblyzer, QC's window: the word with 0.75 s either side) than the pitch/envelope
matched word — while forced alignment still hears the new word, not the recorded one.
"""

from __future__ import annotations

import io
import itertools
from functools import cache

import numpy as np
import pytest

from tests.speech.test_voice_match import CASES, source
from vpipe.data.alignment import Segment
from vpipe.data.codec import decode, encode
from vpipe.speech.phone_classes import SUBSTITUTES
from vpipe.speech.pitch import local_f0, resample
from vpipe.speech.units import (
    FRAME_S,
    MIN_UNIT_S,
    UnitLibrary,
    build_library,
    coverage,
    envelope_hook,
    retimed,
    select,
)
from vpipe.speech.voice_match import match_voice

pytestmark = pytest.mark.media


@cache
def library(name: str) -> UnitLibrary:
    src = source(name)
    return build_library(src.mono, src.rate, src.alignment.phones)


@cache
def new_word(name: str) -> tuple[np.ndarray, int, float, tuple[Segment, ...]]:
    """(audio with 30 ms of its sentence either side, rate, lead seconds, phones relative to the
    word) from piper joe, as speech.fit cuts it."""
    from vpipe.speech.g2p import timed_ipa_to_arpabet
    from vpipe.speech.tts import PiperEngine

    case = CASES[name]
    out = PiperEngine("en_US-joe-medium").synthesize(case.sentence.format(case.word))
    w = next(w for w in out.words if w.token.text.strip(".,").lower() == case.word)
    assert w.start is not None and w.end is not None
    rate = out.rate
    symbols = [(p.phoneme, p.start / rate, p.end / rate) for p in w.phonemes]
    phones = tuple(
        Segment(p, a - w.start / rate, b - w.start / rate) for p, a, b in timed_ipa_to_arpabet(symbols, case.word)
    )
    lead = int(0.03 * rate)
    return out.audio[w.start - lead : w.end + lead], rate, lead / rate, phones


def test_library_holds_the_speaker_phones() -> None:
    src, lib = source("glasses_woman"), library("glasses_woman")
    assert lib.labels == tuple(p.label for p in src.alignment.phones)
    assert abs(len(lib.log_sp) * FRAME_S - len(src.mono) / src.rate) < 0.02
    assert lib.log_sp.shape == lib.ap.shape == (len(lib.log_sp), 513)
    assert np.all(np.isfinite(lib.features)) and lib.features.shape == (len(lib.log_sp), 20)
    # the fill's candidates are speech, not the pauses
    sil = [p for p in src.alignment.phones if p.label == "SIL" and p.duration > 0.2]
    assert sil and not np.isin(np.arange(lib.frame(sil[0].start) + 2, lib.frame(sil[0].end) - 2), lib.speech).any()
    # voiced (periodic) frames at the speaker's pitch
    assert abs(np.median(lib.f0[lib.f0 > 0]) / src.profile.f0_median - 1) < 0.1
    text, arrays = encode(lib)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    back = decode(text, buf.getvalue())
    assert isinstance(back, UnitLibrary) and back.labels == lib.labels
    np.testing.assert_array_equal(back.log_sp, lib.log_sp)


@pytest.mark.parametrize("name", ["glasses_woman", "interview_man"])
def test_a_recorded_word_is_found_as_itself(name: str) -> None:
    """Asked for the phones of a word the speaker said, with that word's own timing, the search
    picks exactly that word's phones in the recording (same neighbours, same lengths, joins free)."""
    case, src, lib = CASES[name], source(name), library(name)
    k = case.transcript.split().index(case.slot)
    a, b = src.alignment.word_phones[k]
    start = src.alignment.phones[a].start
    phones = [Segment(p.label, p.start - start, p.end - start) for p in src.alignment.phones[a:b]]
    choices = select(lib, phones)
    # alignment slivers (shorter than MIN_UNIT_S, e.g. the interview's 'h') are no units
    expected = [i if p.duration >= MIN_UNIT_S else None for i, p in zip(range(a, b), phones, strict=True)]
    assert [c.unit for c in choices] == expected
    assert coverage(choices) > 0.8


def test_phones_the_recording_lacks_are_left_to_the_synthesizer() -> None:
    lib = library("glasses_woman")
    _, _, _, phones = new_word("glasses_woman")  # "legislation": the clip never says JH
    choices = select(lib, phones, substitute=False)
    assert [p.label for p in phones] == ["L", "EH", "JH", "IH", "S", "L", "EY", "SH", "AH", "N"]
    for c in choices:
        assert (c.unit is None) == (c.target.label not in lib.labels)
        if c.unit is not None:
            assert lib.labels[c.unit] == c.target.label
    assert 0.3 < coverage(choices) < 1.0


def test_a_missing_phone_borrows_a_close_sound_when_the_recording_has_one() -> None:
    """ "legislation" on the glasses speaker: she never says S, but says Z and SH (S's
    neighbours in SUBSTITUTES), so S takes one of those; JH has no neighbour in her recording
    (no CH, no ZH) and stays the synthesizer's. Every phone she does say keeps its own label."""
    lib = library("glasses_woman")
    _, _, _, phones = new_word("glasses_woman")
    exact, borrowed = select(lib, phones, substitute=False), select(lib, phones)
    assert "S" not in lib.labels and {"Z", "SH"} <= set(lib.labels) and not {"JH", "CH", "ZH"} & set(lib.labels)
    for e, b in zip(exact, borrowed, strict=True):
        if e.unit is not None:
            assert b.unit is not None and lib.labels[b.unit] == e.target.label
        elif e.target.label == "S":
            assert b.unit is not None and lib.labels[b.unit] in SUBSTITUTES["S"]
        else:
            assert b.unit is None, e.target.label
    assert coverage(borrowed) > coverage(exact)


def test_retimed_runs_take_the_units_rhythm_in_the_same_span() -> None:
    """Each run of own units keeps its span, split in proportion to the units' recorded
    lengths; a phone left to the synthesizer keeps its own span."""
    lib = library("glasses_woman")
    _, _, _, phones = new_word("glasses_woman")
    choices = select(lib, phones)
    spans = retimed(lib, choices)
    assert spans[0][0] == pytest.approx(phones[0].start) and spans[-1][1] == pytest.approx(phones[-1].end)
    for x, y in itertools.pairwise(spans):
        assert y[0] == pytest.approx(x[1])  # contiguous, nothing lost or doubled
    for (a, b), c in zip(spans, choices, strict=True):
        if c.unit is None:
            assert (a, b) == (c.target.start, c.target.end)
    runs: list[list[float]] = [[]]  # per run of own units: new length / recorded length
    for (a, b), c in zip(spans, choices, strict=True):
        if c.unit is None:
            runs.append([])
        else:
            runs[-1].append((b - a) / (lib.ends[c.unit] - lib.starts[c.unit]))
    runs = [r for r in runs if r]
    assert sum(len(r) for r in runs) >= 5
    for r in runs:  # one run, one scale: the recorded rhythm kept
        assert max(r) == pytest.approx(min(r), rel=1e-6)


def _spliced(name: str, units: bool) -> tuple[np.ndarray, float, float]:
    """The new word put through match_voice (pitch pinned to the recorded word, as the pipeline
    does), with or without the units, spliced over the recorded word; (mono at the source rate,
    new word start, end)."""
    case, src = CASES[name], source(name)
    slot = src.alignment.words[case.transcript.split().index(case.slot)]
    audio, rate, lead, phones = new_word(name)
    target = local_f0(src.mono, src.rate, slot.start, slot.end)
    hook = envelope_hook(library(name), select(library(name), phones, target), lead) if units else None
    r = match_voice(audio, rate, src.profile, target_f0=target, units=hook, room=not units)
    word = resample(r.audio[int(lead * rate) : len(r.audio) - int(lead * rate)], rate, src.rate)
    a, b = int(slot.start * src.rate), int(slot.end * src.rate)
    mono = np.concatenate([src.mono[:a], word, src.mono[b:]])
    return mono, slot.start, slot.start + len(word) / src.rate


@pytest.mark.parametrize(
    "name",
    [
        "glasses_woman",
        pytest.param("interview_man", marks=pytest.mark.slow),
        pytest.param("studio_woman", marks=pytest.mark.slow),
    ],
)
def test_units_bring_the_new_word_closer_to_the_speaker(name: str) -> None:
    from vpipe.data.media import TimelineEdit
    from vpipe.qc.audio import heard, similarity_around
    from vpipe.speech.similarity import embed
    from vpipe.speech.tts import phonemize

    case, src = CASES[name], source(name)
    speaker = embed(src.mono, src.rate)
    k = case.transcript.split().index(case.slot)
    words = src.alignment.words
    sims = {}
    for units in (False, True):
        mono, start, end = _spliced(name, units)
        shift = end - words[k].end
        edit = TimelineEdit(
            "slot",
            words[k].start,
            words[k].end,
            start,
            end,
            case.word,
            case.slot,
            before=tuple(words[max(0, k - 3) : k]),
            after=tuple(Segment(w.label, w.start + shift, w.end + shift) for w in words[k + 1 : k + 4]),
        )
        sims[units] = similarity_around(mono, src.rate, edit, speaker)
        check = heard(mono, src.rate, edit, phonemize)
        print(
            f"{name} units={units}: similarity {sims[units]:.3f}, heard {check.new_confidence:.1f} vs "
            f"{check.old_confidence:.1f}"
        )
        assert check.new_wins
    assert sims[True] > sims[False] + 0.02
