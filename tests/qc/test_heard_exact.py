"""QC takes the voice guard's heard check only for the very samples it decodes from the file
(vpipe.qc.audio.heard_output): the guard of a spliced-AAC row hears the row's packets decoded
as QC decodes the written file (vpipe.qc.excerpt_packets), so the two checks are one function
on the same data. On a real speaker (interview, 'feedback' for 'help'): the AAC splice is
deterministic, the write reuses the guard's splice, the packets' decode equals read_excerpt's
bit for bit, QC's check found is a fresh check's, and a file with other packets is aligned."""

from __future__ import annotations

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
from vpipe.media import aac_row
from vpipe.media.aac_shared import SharedEncodes
from vpipe.media.aac_splice import BLOCK, AacSettings, copy_runs, encode_all, splice_packets
from vpipe.media.write import _add_audio_stream
from vpipe.qc import audio as qa
from vpipe.qc.excerpt import read_excerpt
from vpipe.qc.excerpt_packets import excerpt_of
from vpipe.speech.tts import phonemize

pytestmark = pytest.mark.media

KBPS = 128


def _op(kind: str, **attrs: int) -> Op:
    return Op(kind, (), (Value("x", Type("Track")),), dict(attrs))


@pytest.fixture(scope="module")
def row(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[object], SlotAudio, Track, Path]:
    """The guard as the splice-aac pass configures it for an AAC output, the row's track as
    audio.splice cuts it, and the row's sound written as media.splice writes it (row_packets)."""
    qa.HEARD.clear()
    aac_row._SPLICED.clear()
    inputs = _inputs("interview_man")
    work = tmp_path_factory.mktemp("heard-exact")
    rt = RunContext(work)
    voice = _op("speech.match_voice", shift_multiple=BLOCK, audio_bitrate_kbps=KBPS)
    matched = speech_voice.MatchVoice().run(voice, inputs, rt)
    track = Splice().run(_op("audio.splice", shift_multiple=BLOCK), [inputs[5], matched, inputs[6]], rt)
    return inputs, matched, track, _write(work / "row.mp4", track, inputs[5], KBPS)  # type: ignore[arg-type]


def _write(target: Path, track: Track, recording: Audio, kbps: int) -> Path:
    import av

    with av.open(str(target), "w") as out:
        stream, rate = _add_audio_stream(out, track.audio, target, kbps)
        packets, report = aac_row.row_packets(stream, rate, track.audio, kbps, recording, track.sample_shifts())
        assert report["mode"] == "spliced", report
        for packet in packets:
            out.mux(packet)
    return target


def _spans(track: Track) -> list[tuple[float, float]]:
    return [qa.reach(e) for e in track.edits]


def test_the_aac_splice_is_deterministic(row: tuple[list[object], SlotAudio, Track, Path]) -> None:
    """Same samples and settings, same packets: a whole encode twice, the splice twice (fresh
    encoders each time, nothing remembered), and the remembered splice for a copy of the row."""
    inputs, _, track, _ = row
    recording = inputs[5]
    assert isinstance(recording, Audio)
    settings = AacSettings(track.audio.rate, 1, KBPS)
    head = track.audio.samples[: 40 * BLOCK]
    assert encode_all(settings, head) == encode_all(settings, head.copy())
    shifts = sorted(set(track.sample_shifts()) | {0}, key=lambda s: (s != 0, abs(s)))
    run = copy_runs(track.audio.samples, recording.samples, shifts)
    assert (run < 0).any() and (run >= 0).any()  # a real splice: some blocks re-encoded, most copied
    shared = SharedEncodes(recording.samples, settings, None)
    once = splice_packets(settings, track.audio.samples, run, shifts, shared)
    again = splice_packets(settings, track.audio.samples.copy(), run, shifts, shared)
    assert once.packets == again.packets and once.spans == again.spans
    copy = Audio(track.audio.samples.copy(), track.audio.rate)
    remembered, made, found = aac_row.spliced(settings, copy, recording, track.sample_shifts(), None)
    assert found and made == [] and remembered.packets == once.packets


def test_the_write_reuses_the_guards_splice(row: tuple[list[object], SlotAudio, Track, Path]) -> None:
    inputs, matched, track, _ = row
    (clip,) = matched.clips
    assert clip.voice.startswith("own units"), clip.voice
    aac_row._SPLICED.clear()
    import av

    with av.open(str(row[3].with_name("again.mp4")), "w") as out:
        stream, rate = _add_audio_stream(out, track.audio, row[3], KBPS)
        _, first = aac_row.row_packets(stream, rate, track.audio, KBPS, inputs[5], track.sample_shifts())  # type: ignore[arg-type]
        _, second = aac_row.row_packets(stream, rate, track.audio, KBPS, inputs[5], track.sample_shifts())  # type: ignore[arg-type]
    assert first["remembered"] is False and second["remembered"] is True
    assert {k: v for k, v in first.items() if k not in ("remembered", "cpu_s", "phases_encoded")} == {
        k: v for k, v in second.items() if k not in ("remembered", "cpu_s", "phases_encoded")
    }


def test_the_packets_decode_as_the_file_does(row: tuple[list[object], SlotAudio, Track, Path]) -> None:
    """excerpt_of on the file's own packets equals read_excerpt of the file, bit for bit, over
    QC's spans and over spans at the start, the end, overlapping and apart."""
    import av

    _, _, track, path = row
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        payloads = [bytes(p) for p in container.demux(stream) if p.size]
        extradata, rate, layout = bytes(stream.codec_context.extradata), stream.rate, stream.layout.name
    end = len(track.audio.samples) / rate
    shapes = [_spans(track), [(0.0, 0.6)], [(end - 0.8, end + 0.2)], [(0.2, 1.0), (0.9, 1.6), (end - 1.0, end)]]
    for spans in shapes:
        mine, theirs = excerpt_of(payloads, rate, layout, extradata, spans), read_excerpt(path, spans)
        assert mine.total == theirs.total
        assert [p[0] for p in mine.pieces] == [p[0] for p in theirs.pieces]
        for (_, a), (_, b) in zip(mine.pieces, theirs.pieces, strict=True):
            assert a.dtype == b.dtype and np.array_equal(a, b), spans


def test_qc_takes_the_guards_check_only_for_the_samples_it_heard(
    row: tuple[list[object], SlotAudio, Track, Path], tmp_path: Path
) -> None:
    inputs, _, track, path = row
    (edit,) = track.edits
    out = read_excerpt(path, _spans(track))
    check, how = qa.heard_output(out.mono(), out.rate, track.audio, edit, phonemize)
    assert how == {"heard_from_guard": 1.0}
    fresh = qa.heard(out.mono(), out.rate, edit, phonemize, remember=False)  # aligned again, the same
    assert check == fresh and check.new_wins
    # the control: the same row written at another bitrate (other packets, other samples) is
    # aligned itself (the guard heard the 128 kb/s decode, never the track: nothing else to take)
    other = read_excerpt(_write(tmp_path / "other.mp4", track, inputs[5], 96), _spans(track))  # type: ignore[arg-type]
    assert not np.array_equal(
        qa.heard_window(other.mono(), other.rate, edit)[0], qa.heard_window(out.mono(), out.rate, edit)[0]
    )
    check, how = qa.heard_output(other.mono(), other.rate, track.audio, edit, phonemize)
    assert how == {"heard_from_guard": 0.0}
    assert check == qa.heard(other.mono(), other.rate, edit, phonemize, remember=False)
