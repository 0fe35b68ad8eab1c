"""The heard-word guard of speech.match_voice (vpipe.kernels.speech_voice) on a real speaker:
the speaker's own units are kept only when QC's heard check, on the word spliced into the
recording around its slot, still hears the new word over the recorded one; otherwise the
clip falls back to the matched synthetic word, bit for bit, and says why (the manifest's
`voice`)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tests.speech.test_units import CASES, library, new_word, source
from vpipe.data.alignment import SlotLocation, Spans
from vpipe.data.audio import Audio
from vpipe.data.speech import SlotAudio, SlotClip, SlotTargets
from vpipe.kernel_api.context import RunContext
from vpipe.kernels import speech_voice
from vpipe.speech.pitch import local_f0

pytestmark = pytest.mark.media


def _inputs(name: str) -> list[object]:
    """speech.match_voice's operands for one row: the new word as speech.fit cuts it (piper,
    with 30 ms of its sentence either side), the speaker, the unit library, the recording and
    the slot's span with QC's context words."""
    case, src = CASES[name], source(name)
    k = case.transcript.split().index(case.slot)
    words = src.alignment.words
    slot = words[k]
    audio, rate, lead, phones = new_word(name)
    clip = SlotClip(
        "value", case.word, audio, rate, lead, lead, slot.start, slot.end,
        len(audio) / rate - 2 * lead, 1.0, False, phones,
    )  # fmt: skip
    span = SlotLocation(
        "value", (case.slot,), k, slot.start, slot.end, (), before=words[max(0, k - 3) : k], after=words[k + 1 : k + 4]
    )
    targets = SlotTargets({"value": local_f0(src.mono, src.rate, slot.start, slot.end)}, {"value": math.nan})
    return [
        SlotAudio((clip,), "elastic"),
        src.profile,
        targets,
        None,
        library(name),
        Audio.from_mono(src.mono, src.rate),
        Spans((span,)),
    ]


def _run(inputs: list[object]) -> SlotClip:
    out = speech_voice.MatchVoice().run(None, inputs, RunContext(Path(".")))  # type: ignore[arg-type]
    (clip,) = out.clips
    return clip


def test_own_units_are_kept_when_the_new_word_is_heard() -> None:
    inputs = _inputs("interview_man")  # "feedback" for "help"
    clip = _run(inputs)
    assert clip.voice.startswith("own units"), clip.voice
    row = speech_voice._Row([clip], 0, inputs[5], inputs[6], 1)  # type: ignore[attr-defined]
    margin = speech_voice._heard_margin(clip, row)  # type: ignore[attr-defined]
    assert margin >= speech_voice.GUARD_MARGIN
    matched = _run(inputs[:4])  # no library: the matched synthetic word
    assert matched.voice == "matched"
    assert len(clip.audio) == len(matched.audio) and not np.array_equal(clip.audio, matched.audio)
    # the phones say where the audio now has them: the units' rhythm within the same word
    assert [p.label for p in clip.phones] == [p.label for p in matched.phones]
    assert clip.phones[0].start == pytest.approx(matched.phones[0].start)
    assert clip.phones[-1].end == pytest.approx(matched.phones[-1].end)
    assert [p.end for p in clip.phones] != pytest.approx([p.end for p in matched.phones], abs=1e-3)


def test_a_word_not_heard_falls_back_to_the_matched_word(monkeypatch: pytest.MonkeyPatch) -> None:
    """A guard no own-unit word can pass: every level is tried, the clip is the matched word
    exactly as without the library, and `voice` names each level's measured margin."""
    inputs = _inputs("glasses_woman")
    monkeypatch.setattr(speech_voice, "GUARD_MARGIN", math.inf)
    clip = _run(inputs)
    assert clip.voice.startswith("matched (own units: heard margin "), clip.voice
    assert "own units, same phones only: heard margin " in clip.voice
    np.testing.assert_array_equal(clip.audio, _run(inputs[:4]).audio)
