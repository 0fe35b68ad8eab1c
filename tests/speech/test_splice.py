"""Splicing a synthesized word into a real clip's audio track.

Checked on the three clips with piper words cut the way speech.fit cuts them (30 ms of the
sentence either side): every sample outside the slot and its crossfades is bit-identical to
the source (shifted by exactly the duration change when the splice is elastic), rate and
channels are kept, the joins jump less than the source itself does, the new word sits at the
loudness of the speech around it whatever level it arrived at, and the edits describe the new
timeline exactly — for one slot, two slots, and two slots on adjacent words.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from tests.speech.realclips import CLIPS, alignment, audio, slot_index
from vpipe.data.alignment import Segment
from vpipe.data.audio import Audio
from vpipe.data.media import Track
from vpipe.data.speech import SlotClip
from vpipe.speech.splice import FADE, MAX_GAIN_DB, SNAP, loudness_gain, quietest, resample, splice

CUT_CONTEXT = 0.03  # seconds of the sentence kept either side of the word (speech.fit's CONTEXT)

# the sentence said for each clip, and the new words for its slot
NEW = {
    "interview_man": ("My biggest weakness is asking for feedback and advice when needed.", "feedback"),
    "glasses_woman": ("Bringing in reforms to tighten that legislation and his.", "legislation"),
    "studio_woman": ("He represents the federal reserve and humanizes the body.", "federal reserve"),
}


@cache
def synthesized(text: str) -> tuple[np.ndarray, int, tuple[tuple[str, int, int], ...]]:
    """(audio, rate, (word, start, end) samples) of piper saying `text`."""
    from vpipe.speech.tts import PiperEngine

    out = PiperEngine("en_US-joe-medium").synthesize(text)
    spans = tuple((w.token.text.strip(".,"), w.start, w.end) for w in out.words if w.start is not None)
    return out.audio, out.rate, spans


def cut(text: str, words: str, name: str, source: Segment, fitted: bool, level: float = 1.0) -> SlotClip:
    """A SlotClip of `words` (consecutive words of `text`) replacing the `source` span."""
    x, rate, spans = synthesized(text)
    first = next(k for k, s in enumerate(spans) if s[0] == words.split()[0])
    a, b = spans[first][1], spans[first + len(words.split()) - 1][2]
    lead = min(int(CUT_CONTEXT * rate), a)
    tail = min(int(CUT_CONTEXT * rate), len(x) - b)
    return SlotClip(
        name=name,
        text=words,
        audio=(x[a - lead : b + tail] * level).astype(np.float32),
        rate=rate,
        lead=lead / rate,
        tail=tail / rate,
        source_start=source.start,
        source_end=source.end,
        duration=(b - a) / rate,
        stretch=1.0,
        fitted=fitted,
        phones=(Segment("F", 0.0, 0.05),),
    )


def slot_span(name: str) -> Segment:
    al, k = alignment(name), slot_index(name)
    return Segment(" ".join(CLIPS[name].slot), al.words[k].start, al.words[k + len(CLIPS[name].slot) - 1].end)


def word_span(name: str, word: str) -> Segment:
    return next(w for w in alignment(name).words if w.label == word)


@cache
def spliced(name: str, fitted: bool, level: float = 1.0) -> tuple[Audio, Track]:
    text, words = NEW[name]
    src = audio(name)
    return src, splice(src, [cut(text, words, "s", slot_span(name), fitted, level)])


def samples(t: float, rate: int) -> int:
    return round(t * rate)


@pytest.mark.media
@pytest.mark.parametrize("fitted", [True, False], ids=["fit", "elastic"])
@pytest.mark.parametrize("name", list(CLIPS))
def test_everything_outside_the_slot_is_the_source_bit_for_bit(name: str, fitted: bool) -> None:
    """Rate, channels and dtype kept; the samples before the slot's lead-in crossfade and
    after its tail crossfade equal the source exactly (after: shifted by the edit's duration
    change, which is exactly the output's length change); a fitted splice keeps the length."""
    src, track = spliced(name, fitted)
    out, rate = track.audio.samples, track.audio.rate
    assert rate == src.rate and out.shape[1] == src.samples.shape[1] == 2 and out.dtype == np.float32
    (edit,) = track.edits
    fade = max(2, int(FADE * rate))
    i0, i1 = samples(edit.source_start, rate), samples(edit.source_end, rate)
    delta = len(out) - len(src.samples)
    assert delta == round(edit.shift * rate)
    if fitted:
        assert delta == 0 and edit.output_end - edit.output_start == pytest.approx(edit.source_end - edit.source_start)
    np.testing.assert_array_equal(out[: i0 - fade], src.samples[: i0 - fade])
    np.testing.assert_array_equal(out[i1 + fade + delta :], src.samples[i1 + fade :])
    # and the slot itself did change
    assert not np.array_equal(out[i0 : i0 + 1000], src.samples[i0 : i0 + 1000])
    # the boundaries moved at most SNAP (+ half the 5 ms energy window) from the aligner's
    span, reach = slot_span(name), SNAP + 0.0025 + 1 / rate
    assert abs(edit.source_start - span.start) <= reach and abs(edit.source_end - span.end) <= reach


@pytest.mark.media
@pytest.mark.parametrize("name", list(CLIPS))
def test_the_new_word_is_what_plays_in_the_slot(name: str) -> None:
    """Between the joins the output is the new word itself (resampled to the source rate and
    level-matched): correlation > 0.999 with it, on both channels."""
    text, words = NEW[name]
    _, track = spliced(name, False)
    (edit,) = track.edits
    clip = cut(text, words, "s", slot_span(name), False)
    rate = track.audio.rate
    word = resample(clip.audio, clip.rate, rate)
    lead = round(clip.lead * rate)
    body = word[lead : lead + round(clip.duration * rate)]
    start = samples(edit.output_start, rate)
    played = track.audio.samples[start : start + len(body)]
    assert len(body) == samples(edit.output_end, rate) - start
    for ch in range(played.shape[1]):
        assert np.corrcoef(played[:, ch], body)[0, 1] > 0.999


@pytest.mark.media
@pytest.mark.parametrize("name", list(CLIPS))
def test_no_click_at_the_joins(name: str) -> None:
    """The largest sample-to-sample jump across either join (crossfade ± nothing) is below the
    largest jump anywhere in the source (measured 0.004–0.006 vs 0.043–0.114)."""
    from vpipe.qc.audio import join_jump, max_jump

    for fitted in (True, False):
        src, track = spliced(name, fitted)
        (edit,) = track.edits
        jump, own = join_jump(track.audio.samples, track.audio.rate, edit), max_jump(src.samples)
        print(f"{name} fitted={fitted}: join {jump:.4f}, source max {own:.4f}")
        assert jump < own


def active_db(x: np.ndarray, rate: int) -> float:
    """Unweighted level of the 20 ms frames within 30 dB of the loudest (a check independent of
    the K-weighting the splice itself uses)."""
    n = int(0.02 * rate)
    frames = np.asarray(x[: len(x) // n * n], np.float64).reshape(-1, n)
    level = 10 * np.log10((frames**2).mean(axis=1) + 1e-20)
    return float(10 * np.log10((frames[level > level.max() - 30] ** 2).mean()))


@pytest.mark.media
@pytest.mark.parametrize("level", [0.25, 1.0, 2.0])
@pytest.mark.parametrize("name", list(CLIPS))
def test_the_slot_is_as_loud_as_the_speech_around_it(name: str, level: float) -> None:
    """Whatever level the word arrives at (−12, 0, +6 dB; joe is ~7 dB louder than these
    speakers), it plays as loud as the speech within 1 s around it: K-weighted (the QC measure,
    matched to ±0.25 dB; measured ±0.02 dB) and unweighted over active frames (within the QC's
    ±2 dB; measured −0.7…+1.3 dB)."""
    from vpipe.qc.audio import loudness_delta

    _, track = spliced(name, True, level)
    (edit,) = track.edits
    mono, rate = track.audio.mono(), track.audio.rate
    a, b = samples(edit.output_start, rate), samples(edit.output_end, rate)
    around = np.concatenate([mono[max(0, a - rate) : a], mono[b : b + rate]])
    weighted, plain = loudness_delta(mono, rate, edit), active_db(mono[a:b], rate) - active_db(around, rate)
    print(f"{name} x{level}: K-weighted {weighted:+.2f} dB, unweighted {plain:+.2f} dB")
    assert abs(weighted) <= 0.25, "the gain was not measured on the word as it plays"
    assert abs(plain) <= 2.0


@pytest.mark.media
def test_two_slots_shift_the_timeline_by_the_sum_of_their_changes() -> None:
    """Two elastic slots ('weakness' and 'help'): the source between them plays shifted by the
    first change, the rest by both; each edit's output times follow from the earlier shifts."""
    text = NEW["interview_man"][0]
    src = audio("interview_man")
    first = cut(text, "weakness", "a", word_span("interview_man", "weakness"), False)
    second = cut(text, "advice", "b", word_span("interview_man", "help"), False)
    track = splice(src, [second, first])  # given out of order: sorted by source time
    out, rate = track.audio.samples, track.audio.rate
    e1, e2 = track.edits
    assert (e1.slot, e2.slot) == ("a", "b")
    fade = max(2, int(FADE * rate))
    d1 = round(e1.shift * rate)
    d2 = round(e2.shift * rate)
    assert len(out) - len(src.samples) == d1 + d2
    assert e2.output_start == pytest.approx(e2.source_start + e1.shift)
    gap = slice(samples(e1.source_end, rate) + fade, samples(e2.source_start, rate) - fade)
    np.testing.assert_array_equal(out[gap.start + d1 : gap.stop + d1], src.samples[gap])
    tail = samples(e2.source_end, rate) + fade
    np.testing.assert_array_equal(out[tail + d1 + d2 :], src.samples[tail:])


@pytest.mark.media
@pytest.mark.parametrize("fitted", [True, False], ids=["fit", "elastic"])
def test_slots_on_adjacent_words_keep_the_timeline_exact(fitted: bool) -> None:
    """Slots on two neighbouring words ("for" "help": a first and a last name are the common
    case) meet at one boundary, closer than two crossfades. The output must still be the
    source length plus the edits' shifts (fitted: exactly the source length) and the source
    after the second word must play where the edits say. Measured: one crossfade (529 samples,
    12 ms) too many — the recorded second word's onset is played between the new words and
    everything after the slots (and the lip-sync timing) is 12 ms late."""
    text = NEW["interview_man"][0]
    src = audio("interview_man")
    clips = [
        cut(text, "feedback", "a", word_span("interview_man", "for"), fitted),
        cut(text, "advice", "b", word_span("interview_man", "help"), fitted),
    ]
    track = splice(src, clips)
    out, rate = track.audio.samples, track.audio.rate
    e1, e2 = track.edits
    expected = round((e1.shift + e2.shift) * rate)
    print(f"fitted={fitted}: length change {len(out) - len(src.samples)}, edits say {expected}")
    assert len(out) - len(src.samples) == expected
    tail = samples(e2.source_end, rate) + max(2, int(FADE * rate))
    np.testing.assert_array_equal(out[tail + expected :], src.samples[tail:])


@pytest.mark.media
def test_the_splice_kernel_carries_the_context_words_into_the_new_timeline() -> None:
    """audio.splice: the edit names the recorded words it replaced, the context words before
    the slot keep their times and those after it move by the slot's duration change."""
    from vpipe.data.alignment import SlotLocation, Spans
    from vpipe.data.speech import SlotAudio
    from vpipe.kernels.audio import Splice

    al, k = alignment("interview_man"), slot_index("interview_man")
    span = slot_span("interview_man")
    loc = SlotLocation("skill", ("help",), k, span.start, span.end, (), al.words[k - 3 : k], al.words[k + 1 : k + 3])
    clip = cut(NEW["interview_man"][0], "feedback", "skill", span, False)
    track = Splice().run(None, [audio("interview_man"), SlotAudio((clip,), "elastic"), Spans((loc,))], None)  # type: ignore[arg-type]
    (edit,) = track.edits
    assert edit.replaced == "help" and edit.said == "feedback" and edit.shift > 0.05
    assert edit.before == al.words[k - 3 : k]
    for old, new in zip(al.words[k + 1 : k + 3], edit.after, strict=True):
        assert new.label == old.label and new.start == pytest.approx(old.start + edit.shift)
    assert track.retimed and track.to_output(5.0) == pytest.approx(5.0 + edit.shift)


def test_quietest_finds_the_gap_and_prefers_the_centre_of_silence() -> None:
    rate = 16000
    rng = np.random.default_rng(0)
    x = (0.3 * rng.standard_normal(rate)).astype(np.float32)
    x[int(0.507 * rate) : int(0.512 * rate)] = 0.0  # 5 ms of silence, 9.5 ms after t
    assert quietest(x, rate, 0.5) == pytest.approx(0.5095, abs=0.001)
    silent = np.zeros(rate, np.float32)
    assert quietest(silent, rate, 0.5) == pytest.approx(0.5, abs=0.001)
    assert quietest(x[:10], rate, 0.5) == 0.5  # nothing to search: unchanged


def test_loudness_gain_is_bounded() -> None:
    rate = 16000
    t = np.arange(rate) / rate
    tone = (0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    from vpipe.speech.loudness import speech_loudness

    now = speech_loudness(tone, rate)
    assert 20 * np.log10(loudness_gain(tone, rate, now - 6.0)) == pytest.approx(-6.0, abs=1e-6)
    assert 20 * np.log10(loudness_gain(tone, rate, now + 40.0)) == pytest.approx(MAX_GAIN_DB)
    assert 20 * np.log10(loudness_gain(tone, rate, now - 40.0)) == pytest.approx(-MAX_GAIN_DB)
    assert loudness_gain(np.zeros(rate, np.float32), rate, -20.0) == 1.0
    assert loudness_gain(tone, rate, float("nan")) == 1.0


def test_resample_keeps_duration() -> None:
    x = np.random.default_rng(0).standard_normal(22050).astype(np.float32)
    assert len(resample(x, 22050, 44100)) == 44100 and resample(x, 22050, 44100).dtype == np.float32
    np.testing.assert_array_equal(resample(x, 22050, 22050), x)


def test_the_narration_kernel_pads_and_times_the_speech() -> None:
    """audio.narrate: the synthesized speech with 0.3 s of silence either side, as one edit
    whose output span is exactly the speech and whose phones are the words' phones."""
    from vpipe.data.speech import Speech, SpeechWord
    from vpipe.kernels.audio import Narration

    x, rate, spans = synthesized(NEW["interview_man"][0])
    words = tuple(
        SpeechWord(w, 0, len(w), a / rate, b / rate, (Segment("AH", a / rate, b / rate),)) for w, a, b in spans
    )
    speech = Speech(x, rate, NEW["interview_man"][0], words, (), "piper", "joe")
    track = Narration().run(None, [speech], None)  # type: ignore[arg-type]
    pad = int(0.3 * rate)
    assert track.audio.rate == rate and track.audio.channels == 1
    np.testing.assert_array_equal(track.audio.samples[pad : pad + len(x), 0], x)
    assert not np.any(track.audio.samples[:pad]) and not np.any(track.audio.samples[pad + len(x) :])
    (edit,) = track.edits
    assert edit.output_start == pytest.approx(pad / rate)
    assert edit.output_end - edit.output_start == pytest.approx(len(x) / rate)
    assert len(edit.phones) == len(words)


@pytest.mark.media
@pytest.mark.parametrize("name", list(CLIPS))
def test_shifts_can_be_whole_aac_blocks(name: str) -> None:
    """shift_multiple=1024 (splice-aac): the elastic word is time-stretched by at most 512
    samples, so the timeline after it moves by a whole number of AAC blocks; everything
    before the word's crossfade and the source after it (at the new shift) are as without, the
    phones scale with the word, and the word keeps its loudness."""
    text, words = NEW[name]
    src = audio(name)
    clip = cut(text, words, "s", slot_span(name), False)
    plain, rounded = splice(src, [clip]), splice(src, [clip], shift_multiple=1024)
    rate, fade = src.rate, max(2, int(FADE * src.rate))
    (e0,), (e1,) = plain.edits, rounded.edits
    d0, d1 = len(plain.audio.samples) - len(src.samples), len(rounded.audio.samples) - len(src.samples)
    assert d1 % 1024 == 0 and abs(d1 - d0) <= 512 and round(e1.shift * rate) == d1
    assert e1.output_start == e0.output_start
    ratio = (e1.output_end - e1.output_start) / (e0.output_end - e0.output_start)
    assert [p.end for p in e1.phones] == pytest.approx([p.end * ratio for p in e0.phones])
    start = round(e0.output_start * rate)
    before = start - fade  # the lead-in crossfade carries the word's gain, measured on the word as it plays
    np.testing.assert_array_equal(rounded.audio.samples[:before], plain.audio.samples[:before])
    after = samples(e1.source_end, rate) + fade
    np.testing.assert_array_equal(rounded.audio.samples[after + d1 :], src.samples[after:])
    word0 = plain.audio.samples[start : round(e0.output_end * rate)]
    word1 = rounded.audio.samples[start : round(e1.output_end * rate)]
    level = 20 * np.log10(np.sqrt(np.mean(word1**2)) / np.sqrt(np.mean(word0**2)))
    assert abs(level) < 0.5


@pytest.mark.media
@pytest.mark.parametrize("name", list(CLIPS))
def test_mixing_only_the_read_samples_splices_exactly_as_the_whole_mix(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """splice mixes the source to mono only where it reads it (MonoMix): every slice equals the
    same slice of `Audio.mono()` bit for bit, and the spliced track, elastic and fitted, is
    identical (`==`) to the track spliced from the whole mix."""
    import vpipe.speech.splice as S

    src = audio(name)
    whole, mixed = src.mono(), S.MonoMix(src)
    n = len(whole)
    assert len(mixed) == n
    for a, b in [(0, 1), (0, n), (n // 3, n // 3 + 661), (n - 7, n + 50), (max(0, -5), 9)]:
        assert np.array_equal(mixed[a:b], whole[a:b]) and mixed[a:b].dtype == whole.dtype == np.float32
    text, words = NEW[name]
    clips = [cut(text, words, "s", slot_span(name), fitted) for fitted in (True, False)]
    new = [splice(src, [c], shift_multiple=1024) for c in clips]
    monkeypatch.setattr(S, "MonoMix", lambda a: a.mono())  # the whole recording mixed first, as before
    old = [splice(src, [c], shift_multiple=1024) for c in clips]
    for got, ref in zip(new, old, strict=True):
        np.testing.assert_array_equal(got.audio.samples, ref.audio.samples)
        assert got.edits == ref.edits


def _joined_afresh(src: Audio, clips: list[SlotClip]) -> np.ndarray:
    """The track's samples joined afresh (nothing taken from an earlier splice, nothing left
    for a later one)."""
    from vpipe.speech import splice as module

    module._LAST.clear()
    samples = splice(src, clips).audio.samples
    module._LAST.clear()
    return samples


@pytest.mark.media
@pytest.mark.parametrize("name", ["glasses_woman", "interview_man"])
def test_a_second_splice_of_the_same_pieces_takes_the_first_ones_samples(name: str) -> None:
    """The voice guard's splice and then the row's audio.splice of the same clip: the second
    gets the first's array (no second copy of the recording), equal to a fresh join; a clip
    with other samples, or the same pieces after the array was taken, are joined afresh;
    another phone list (which the guard's accepted clip carries) changes the edits only."""
    import dataclasses

    text, words = NEW[name]
    src = audio(name)
    clip = cut(text, words, "s", slot_span(name), False)
    fresh = _joined_afresh(src, [clip])
    first = splice(src, [clip])
    second = splice(src, [dataclasses.replace(clip, phones=(Segment("X", 0.0, 0.1),), voice="units")])
    assert second.audio.samples is first.audio.samples and np.array_equal(first.audio.samples, fresh)
    assert second.edits[0].phones != first.edits[0].phones
    third = splice(src, [clip])
    assert third.audio.samples is not first.audio.samples and np.array_equal(third.audio.samples, fresh)
    louder = dataclasses.replace(clip, audio=clip.audio * 1.5)
    other = splice(src, [louder])
    assert other.audio.samples is not third.audio.samples
    assert np.array_equal(other.audio.samples, _joined_afresh(src, [louder]))
    assert not np.array_equal(other.audio.samples, fresh)
