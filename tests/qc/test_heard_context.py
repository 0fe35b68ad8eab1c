"""The heard check aligns one recorded word each side of the slot (qc/audio.py HEARD_CONTEXT),
not three: its guard still holds. On each shared clip's own recording, where the old word is
still what is said, a new value that contains the old word and is longer ("helpful" for
"help") must not win: one context word pins both ends of the slot, so the aligner cannot
stretch the new word over the neighbours' audio. Same verdicts with three words."""

from __future__ import annotations

import pytest

from tests.speech.realclips import CLIPS, alignment, audio, slot_index
from vpipe.data.alignment import Segment
from vpipe.data.media import TimelineEdit
from vpipe.qc.audio import HEARD_CONTEXT, HEARD_MARGIN, heard, heard_context, reach

# longer values that contain the recorded words
LONGER = {
    "interview_man": ("helpful", "helping", "helpers", "help desk", "self help"),
    "glasses_woman": ("regulations", "deregulation", "regulation reform", "regulatory", "regulators"),
    "studio_woman": ("european central banks", "european central banking", "european central bankers"),
}
# the recipes' plain values (tests/clips.py)
PLAIN = {
    "interview_man": ("feedback", "support", "advice", "guidance", "mentoring", "direction"),
    "glasses_woman": ("legislation", "oversight", "market", "supervision", "framework", "policy"),
    "studio_woman": ("federal reserve", "bank of england", "world bank", "monetary fund", "treasury", "bank of japan"),
}


def _unchanged(name: str, said: str) -> TimelineEdit:
    """The recording itself as if `said` had replaced its slot words (it was not: the old words
    are still there), with the three context words each side the slot kernel records."""
    words = alignment(name).words
    first, n = slot_index(name), len(CLIPS[name].slot)
    start, end = words[first].start, words[first + n - 1].end
    before, after = tuple(words[max(0, first - 3) : first]), tuple(words[first + n : first + n + 3])
    return TimelineEdit("value", start, end, start, end, said, " ".join(CLIPS[name].slot), (), before, after)


@pytest.mark.media
@pytest.mark.parametrize("name", list(LONGER))
def test_a_longer_new_word_cannot_swallow_the_old_one(name: str) -> None:
    from vpipe.speech.tts import phonemize

    a = audio(name)
    mono = a.mono()
    for said in LONGER[name]:
        edit = _unchanged(name, said)
        one = heard(mono, a.rate, edit, phonemize)
        three = heard(mono, a.rate, edit, phonemize, context=3)
        print(f"{name} '{said}': one word {one}, three words {three}")
        assert not one.new_wins, f"'{said}' heard over the recorded '{edit.replaced}' ({one})"
        assert one.new_wins == three.new_wins


@pytest.mark.slow
@pytest.mark.media
@pytest.mark.parametrize("name", list(PLAIN))
def test_the_old_recording_fails_for_every_plain_value(name: str) -> None:
    from vpipe.speech.tts import phonemize

    a = audio(name)
    mono = a.mono()
    for said in PLAIN[name]:
        check = heard(mono, a.rate, _unchanged(name, said), phonemize)
        assert not check.new_wins, f"'{said}' heard over the recording ({check})"


def test_the_context_is_the_nearest_words_and_reach_covers_it() -> None:
    words = tuple(Segment(w, 0.5 * i, 0.5 * i + 0.4) for i, w in enumerate(["a", "b", "c", "slot", "d", "e", "f"]))
    edit = TimelineEdit("s", 1.5, 1.9, 1.5, 1.9, "new", "slot", (), words[:3], words[4:])
    before, after = heard_context(edit)
    assert HEARD_CONTEXT == 1 and [w.label for w in before] == ["c"] and [w.label for w in after] == ["d"]
    assert [w.label for w in heard_context(edit, 3)[0]] == ["a", "b", "c"]
    assert heard_context(TimelineEdit("s", 0.0, 0.4, 0.0, 0.4, "new", "slot"), 3) == ((), ())
    start, end = reach(edit)
    assert start <= before[0].start - HEARD_MARGIN and end >= after[-1].end + HEARD_MARGIN
