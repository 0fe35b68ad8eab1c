"""QC takes speech.match_voice's heard-word check for the written file's only for the very
track the guard listened to, and only where the file's sound follows that track
(vpipe.qc.audio heard_known / heard_output): on a real speaker, the guard's check is found
for the track audio.splice cuts, is not found for any other audio, and a file that does not
carry the track (the recording, the old word still in it) is aligned afresh and flagged."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from tests.kernels.test_match_voice_guard import _inputs
from vpipe.data.audio import Audio
from vpipe.data.media import Track
from vpipe.data.speech import SlotAudio
from vpipe.ir.graph import Op, Value
from vpipe.ir.types import Type
from vpipe.kernel_api.context import RunContext
from vpipe.kernels import speech_voice
from vpipe.kernels.audio import Splice
from vpipe.media.aac_splice import BLOCK
from vpipe.qc import audio as qa
from vpipe.speech.splice import MonoMix
from vpipe.speech.tts import phonemize

pytestmark = pytest.mark.media


def _op(kind: str, multiple: int) -> Op:
    return Op(kind, (), (Value("x", Type("Track")),), {"shift_multiple": multiple})


@pytest.fixture(scope="module")
def row() -> tuple[list[object], SlotAudio, Track]:
    """Interview 'feedback' for 'help': the guard as the splice-aac pass configures it, then
    the row's track as audio.splice cuts it (elastic: the word is stretched to whole AAC blocks)."""
    qa.HEARD.clear()
    inputs = _inputs("interview_man")
    rt = RunContext(Path("."))
    matched = speech_voice.MatchVoice().run(_op("speech.match_voice", BLOCK), inputs, rt)
    track = Splice().run(_op("audio.splice", BLOCK), [inputs[5], matched, inputs[6]], rt)
    return inputs, matched, track


def test_qc_finds_the_guards_check_of_the_track_it_is_given(row: tuple[list[object], SlotAudio, Track]) -> None:
    _, matched, track = row
    (clip,) = matched.clips
    assert clip.voice.startswith("own units"), clip.voice
    (edit,) = track.edits
    known = qa.heard_known(track.audio, edit, phonemize)
    assert known is not None
    guard = float(re.search(r"heard margin (-?[\d.]+)", clip.voice).group(1))  # type: ignore[union-attr]
    assert known.new_confidence - known.old_confidence == pytest.approx(guard, abs=0.05)
    # it is what aligning that audio gives: the same figures from a fresh alignment
    qa.HEARD.clear()
    fresh = qa.heard(MonoMix(track.audio), track.audio.rate, edit, phonemize)
    assert (fresh.new_confidence, fresh.old_confidence) == (known.new_confidence, known.old_confidence)
    assert qa.heard_known(track.audio, edit, phonemize) == fresh


def test_nothing_is_found_for_other_audio(row: tuple[list[object], SlotAudio, Track]) -> None:
    inputs, matched, track = row
    (edit,) = track.edits
    qa.heard(MonoMix(track.audio), track.audio.rate, edit, phonemize)
    assert qa.heard_known(track.audio, edit, phonemize) is not None
    # one sample changed inside the heard window
    samples = track.audio.samples.copy()
    samples[int((edit.output_start + 0.1) * track.audio.rate)] += 1e-3
    assert qa.heard_known(Audio(samples, track.audio.rate), edit, phonemize) is None
    # the same clips cut without the elastic stretch: the word is a few samples longer or shorter
    plain = Splice().run(_op("audio.splice", 1), [inputs[5], matched, inputs[6]], RunContext(Path(".")))
    assert len(plain.audio.samples) != len(track.audio.samples)
    assert qa.heard_known(plain.audio, plain.edits[0], phonemize) is None


def _noisy(mono: np.ndarray, db: float) -> np.ndarray:
    """`mono` with white noise `db` below its own power."""
    noise = np.random.default_rng(0).standard_normal(len(mono)).astype(np.float32)
    return mono + noise * float(np.sqrt(np.mean(np.square(mono)))) * np.float32(10 ** (-db / 20))


def test_a_file_that_follows_the_track_takes_the_guards_check(
    row: tuple[list[object], SlotAudio, Track], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Taken only with both the margin (REUSE_MARGIN, set by measurement; moved here around
    this row's own margin) and the file's closeness to the track (REUSE_FIDELITY_DB)."""
    _, _, track = row
    (edit,) = track.edits
    rate = track.audio.rate
    qa.heard(MonoMix(track.audio), rate, edit, phonemize)
    known = qa.heard_known(track.audio, edit, phonemize)
    assert known is not None
    margin = known.new_confidence - known.old_confidence
    close = _noisy(track.audio.mono(), qa.REUSE_FIDELITY_DB + 10)
    monkeypatch.setattr(qa, "REUSE_MARGIN", margin - 1)
    check, how = qa.heard_output(close, rate, track.audio, edit, phonemize)
    assert how["heard_from_guard"] == 1.0 and how["heard_fidelity_db"] >= qa.REUSE_FIDELITY_DB
    assert check == known
    # a margin under REUSE_MARGIN: the file is aligned itself (and the new word still wins)
    monkeypatch.setattr(qa, "REUSE_MARGIN", margin + 1)
    check, how = qa.heard_output(close, rate, track.audio, edit, phonemize)
    assert how == {"heard_from_guard": 0.0} and check.new_wins and check != known
    # a file further from the track than REUSE_FIDELITY_DB: aligned itself
    monkeypatch.setattr(qa, "REUSE_MARGIN", margin - 1)
    far = _noisy(track.audio.mono(), qa.REUSE_FIDELITY_DB - 3)
    assert qa.fidelity_db(far, MonoMix(track.audio), rate, edit) < qa.REUSE_FIDELITY_DB
    check, how = qa.heard_output(far, rate, track.audio, edit, phonemize)
    assert how == {"heard_from_guard": 0.0} and check != known


def test_a_file_without_the_track_is_aligned_and_flagged(
    row: tuple[list[object], SlotAudio, Track], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control: the guard heard 'feedback' on the track, but the file carries the recording
    (the recorded 'help' still there). QC does not take the guard's word for it, whatever
    the margin asked."""
    inputs, _, track = row
    (edit,) = track.edits
    qa.heard(MonoMix(track.audio), track.audio.rate, edit, phonemize)
    assert qa.heard_known(track.audio, edit, phonemize) is not None
    monkeypatch.setattr(qa, "REUSE_MARGIN", -math.inf)
    recording = inputs[5]
    assert isinstance(recording, Audio)
    mono = recording.mono()
    assert qa.fidelity_db(mono, MonoMix(track.audio), track.audio.rate, edit) < qa.REUSE_FIDELITY_DB
    check, how = qa.heard_output(mono, track.audio.rate, track.audio, edit, phonemize)
    assert how == {"heard_from_guard": 0.0}
    assert not check.new_wins, (check.new_confidence, check.old_confidence)
    assert math.isfinite(check.old_confidence)
