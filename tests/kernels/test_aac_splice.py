"""The row's AAC spliced from the recording's shared encodes, measured on real speech.

Rows are made from the shared clips' sound: a stretch replaced by real speech from another
clip (same length: a fitted slot; other lengths: elastic, so the rest of the track moves
by a shift that is not a multiple of 1024). Checked on the decoded sound:
- every decoded frame of the spliced track equals the same frame of a complete encode (the
  recording's shared one before/after a span, the span's fresh one inside it): the joins
  are not approximations, they are exact;
- the decoded track against the intended samples: SNR around the joins and over the whole
  track, and the largest sample error near the joins, against a full re-encode of the row;
- the same number of samples and packets (durations) as the full encode;
- the shared phase-0 encode is byte-for-byte the full-encode path's packets for the recording.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.media import shared_media
from vpipe.data.audio import Audio
from vpipe.data.media import Frames
from vpipe.media.aac_shared import SharedEncodes
from vpipe.media.aac_splice import (
    BLOCK,
    AacSettings,
    Fresh,
    SpliceResult,
    copy_runs,
    encode_all,
    splice_packets,
)
from vpipe.media.decode import read_audio

CLIPS = ("glasses_woman.mp4", "studio_woman.mp4", "interview_man.mp4")


@pytest.fixture(scope="module")
def sounds() -> dict[str, np.ndarray]:
    """Each clip's samples (n, 2), the short ones looped to ~15 s (a join needs room)."""
    out = {}
    for name in CLIPS:
        pcm = read_audio(shared_media(name)).samples
        out[name] = np.tile(pcm, (3, 1)) if name == "glasses_woman.mp4" else pcm
    return out


def _row(recording: np.ndarray, at: int, old: int, new: np.ndarray) -> np.ndarray:
    """`recording` with samples [at, at + old) replaced by `new` (10 ms equal-power fades)."""
    fade = 441
    ramp = np.sin((np.arange(fade) + 0.5) / fade * np.pi / 2).astype(np.float32)[:, None]
    new = new.copy()
    new[:fade] = new[:fade] * ramp + recording[at : at + fade] * ramp[::-1]
    new[-fade:] = new[-fade:] * ramp[::-1] + recording[at + old : at + old + fade] * ramp
    return np.concatenate([recording[:at], new, recording[at + old :]])


def _decode(packets: list[tuple[bytes, int]], settings: AacSettings, extradata: bytes) -> np.ndarray:
    """Decoded frames (n_packets, channels, 1024), the priming frame first."""
    import av

    dec = av.CodecContext.create("aac", "r")
    dec.extradata, dec.sample_rate, dec.layout = extradata, settings.rate, settings.layout
    frames = []
    for j, (payload, _) in enumerate(packets):
        packet = av.Packet(payload)
        packet.pts, packet.time_base = (j - 1) * BLOCK, Fraction(1, settings.rate)
        frames += [f.to_ndarray() for f in dec.decode(packet)]
    return np.stack(frames)


def _snr(ref: np.ndarray, got: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(ref**2) / max(float(np.sum((ref - got) ** 2)), 1e-20)))


CASES = [  # clip, where (s), length taken out (s), new speech's length (s): fitted, longer, shorter
    ("glasses_woman.mp4", 6.2, 0.55, 0.55),
    ("glasses_woman.mp4", 8.0, 0.50, 0.71),
    ("glasses_woman.mp4", 11.0, 0.40, 0.40),
    ("studio_woman.mp4", 3.1, 0.60, 0.43),
    ("interview_man.mp4", 2.4, 0.35, 0.62),
    ("interview_man.mp4", 4.0, 0.50, 0.50),
    ("studio_woman.mp4", 0.3, 0.40, 0.40),  # a slot near the start: no start join
]
RATE = 44100


@dataclass
class Case:
    row: np.ndarray
    shift: int
    result: SpliceResult
    shared: SharedEncodes
    settings: AacSettings
    full: list[tuple[bytes, int]]
    spliced: np.ndarray  # decoded frames
    reference: np.ndarray  # the full re-encode's decoded frames

    def samples(self, frames: np.ndarray) -> np.ndarray:
        return frames.transpose(0, 2, 1).reshape(-1, frames.shape[1])[BLOCK : BLOCK + self.row.shape[0]]


@pytest.fixture(scope="module")
def cases(sounds: dict[str, np.ndarray]) -> list[Case]:
    out = []
    for clip, at_s, old_s, new_s in CASES:
        recording = sounds[clip]
        other = sounds["interview_man.mp4" if clip != "interview_man.mp4" else "studio_woman.mp4"]
        at, old, new = round(at_s * RATE), round(old_s * RATE), round(new_s * RATE)
        row = _row(recording, at, old, other[RATE : RATE + new])
        settings = AacSettings(RATE, 2, 128)
        shared = SharedEncodes(recording, settings, None)
        result = splice_packets(settings, row, copy_runs(row, recording, [0, new - old]), [0, new - old], shared)
        full = encode_all(settings, row)
        extradata = bytes(settings.encoder().extradata)
        spliced, reference = _decode(result.packets, settings, extradata), _decode(full, settings, extradata)
        out.append(Case(row, new - old, result, shared, settings, full, spliced, reference))
    return out


def _same_frame(got: np.ndarray, want: np.ndarray, j: int) -> bool:
    """Equal, up to the decoder's noise substitution (PNS: its random state depends on every
    packet decoded before, so frames with noise bands differ by noise of the same level)."""
    d = np.abs(got - want)
    assert float(d.max()) <= 2e-3, f"frame {j} differs by {float(d.max())}"
    return bool(d.max() == 0)


def test_only_short_spans_are_encoded_and_the_length_is_the_full_encodes(cases: list[Case]) -> None:
    for case in cases:
        r = case.result
        assert [d for _, d in r.packets] == [d for _, d in case.full]  # same packets, same durations
        assert sum(d for _, d in r.packets) == case.row.shape[0] + BLOCK  # + the priming block
        assert r.spans and all(b - a < 200 for a, b in r.spans)  # a few seconds, whatever the length
        assert r.phases == sorted({0, case.shift % BLOCK})
        assert r.joins == sum((a > 0) + (b < len(r.packets)) for a, b in r.spans)


def test_the_blocks_outside_the_spans_are_the_shared_encodes_packets(cases: list[Case]) -> None:
    """Before the span, the phase-0 encode's packet of the same block; after it, the packet of
    the stretch's phase, moved by its whole blocks: payload and duration, every block."""
    heads = tails = 0
    for case in cases:
        r = case.result
        (a, b), phase = r.spans[0], case.shift % BLOCK
        before, after, m = case.shared(0), case.shared(phase), (case.shift - phase) // BLOCK
        assert r.packets[:a] == before[:a]
        assert r.packets[b:] == after[b - m : len(r.packets) - m]
        heads, tails = heads + (a > 0), tails + (b < len(r.packets))
    assert heads >= 2 and tails >= 2


def test_every_decoded_frame_is_a_complete_encodes_frame(cases: list[Case]) -> None:
    """Outside the spans: the recording's shared encode (at the phase of its stretch); inside
    them, joins included: the span's fresh encode, decoded on its own."""
    identical = total = 0
    for case in cases:
        r, extradata = case.result, bytes(case.settings.encoder().extradata)
        (a, b), start = r.spans[0], r.fresh_starts[0]
        before = _decode(case.shared(0), case.settings, extradata)
        for j in range(0, a):
            identical += _same_frame(case.spliced[j], before[j], j)
        phase = case.shift % BLOCK
        after = _decode(case.shared(phase), case.settings, extradata)
        m = (case.shift - phase) // BLOCK
        for j in range(b + 1, case.spliced.shape[0]):
            identical += _same_frame(case.spliced[j], after[j - m], j)
        fresh = Fresh(case.settings, case.row, start)
        last = min(b + 1, case.spliced.shape[0])  # the join frame b too, where there is one
        fresh.feed_to(last)
        own = _decode(fresh.packets[: last - start], case.settings, extradata)
        for j in range(max(a, start + 1), last):
            identical += _same_frame(case.spliced[j], own[j - start], j)
        total += case.spliced.shape[0] - (1 if a == 0 else 0)
    print(f"frames bit-identical to a complete encode's: {identical} of {total}")
    assert identical >= 0.95 * total  # bit for bit but for PNS frames


def test_the_joins_by_the_numbers(cases: list[Case]) -> None:
    """Against the intended samples, with a full re-encode of the row as the yardstick: the
    whole track's SNR, each join's largest sample error (no click: a click is many times the
    codec's own error; here within 1.25× the full encode's largest error in the second around
    it), and the SNR of the join frames over all joins
    (two complete encodes of the same samples differ by -9 to +8 dB on 7 frames, ~0 on average)."""
    lines = []
    for case in cases:
        want = case.row
        got, ref = case.samples(case.spliced), case.samples(case.reference)
        whole = (_snr(want, got), _snr(want, ref))
        print(f"track: SNR {whole[0]:.2f} dB spliced, {whole[1]:.2f} dB full re-encode")
        assert whole[0] > whole[1] - 0.5
        for a, b in case.result.spans:
            for j in (a, b):
                if not 0 < j < case.spliced.shape[0] - 1:
                    continue  # no join at the track's ends
                near = slice(max(0, (j - 4) * BLOCK), (j + 3) * BLOCK)  # the frames either side of the join
                around = slice(max(0, (j - 25) * BLOCK), (j + 25) * BLOCK)
                worst, allowed = np.abs(got[near] - want[near]).max(), np.abs(ref[around] - want[around]).max()
                assert worst <= 1.25 * allowed, f"join at block {j}: error {worst} > the full encode's {allowed}"
                lines.append(
                    (j, _snr(want[near], got[near]), _snr(want[near], ref[near]), float(worst), float(allowed))
                )
    for line in lines:
        j, g, r, worst, allowed = line
        print(
            f"join block {j}: SNR {g:.1f} dB (full re-encode {r:.1f}), max error {worst:.4f} (full ±0.5 s: {allowed:.4f})"
        )
    diffs = [g - r for _, g, r, _, _ in lines]
    print(
        f"joins {len(lines)}: SNR difference mean {np.mean(diffs):+.2f} dB, min {min(diffs):+.2f}, max {max(diffs):+.2f}"
    )
    assert len(lines) >= 10
    assert float(np.mean(diffs)) > -1.5
    assert min(diffs) > -10.0  # within two complete encodes' own spread


def test_shared_phase_zero_is_the_full_encode_paths_packets(sounds: dict[str, np.ndarray]) -> None:
    """The copied packets are what the whole-track path (media/write.py) writes, byte for byte."""
    import av

    from vpipe.media.write import audio_packets

    pcm = sounds["studio_woman.mp4"]
    settings = AacSettings(44100, 2, 128)
    with av.open("/dev/null", "w", format="mp4") as out:
        stream = out.add_stream("aac", rate=44100)
        stream.layout, stream.bit_rate, stream.options = "stereo", 128000, {"aac_coder": "fast"}
        theirs = [bytes(p) for p in audio_packets(stream, Audio(pcm, 44100), 44100)]
        assert bytes(stream.codec_context.extradata) == bytes(settings.encoder().extradata)
    assert [p for p, _ in encode_all(settings, pcm)] == theirs


def test_shared_encodes_are_kept_in_the_store(sounds: dict[str, np.ndarray], tmp_path) -> None:  # type: ignore[no-untyped-def]
    from vpipe.media import aac_shared

    pcm = sounds["interview_man.mp4"][: 44100 * 3]
    settings = AacSettings(44100, 2, 128)
    first = SharedEncodes(pcm, settings, tmp_path)
    packets = first(384)
    assert first.made == [384] and len(list((tmp_path / "aac").glob("*.npz"))) == 1
    aac_shared._MEMORY.clear()
    again = SharedEncodes(pcm, settings, tmp_path)
    assert again(384) == packets and again.made == []  # read back, not encoded
    (path,) = (tmp_path / "aac").glob("*.npz")
    path.write_bytes(path.read_bytes()[:100])  # truncated: made again, not trusted
    aac_shared._MEMORY.clear()
    third = SharedEncodes(pcm, settings, tmp_path)
    assert third(384) == packets and third.made == [384]


def _audio_stream(path: Path) -> dict[str, Any]:
    import av

    with av.open(str(path)) as c:
        a = c.streams.audio[0]
        packets = [(p.pts, p.duration) for p in c.demux(a) if p.size]
        start, duration = a.start_time, a.duration
    with av.open(str(path)) as c:
        first_video = next(p.pts for p in c.demux(c.streams.video[0]) if p.size)
    with av.open(str(path)) as c:
        pcm = np.concatenate([f.to_ndarray() for f in c.decode(audio=0)], axis=1)
    return {
        "start": start,
        "duration": duration,
        "packets": packets,
        "first_video_pts": first_video,
        "pcm": pcm,
    }


def _ffmpeg_samples(path: Path) -> int:
    """Samples per channel the ffmpeg command line decodes (edit list applied)."""
    import subprocess

    import imageio_ffmpeg

    run = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:a", "-f", "f32le", "-"],
        capture_output=True,
        timeout=120,
        check=True,
    )
    return len(run.stdout) // 8


def test_a_written_row_keeps_its_length_and_av_offset(tmp_path: Path) -> None:
    """The glasses clip spliced with an elastic slot (+0.2 s: five frames, 8820 samples, not a
    multiple of 1024), its sound written both ways: the whole track encoded, and spliced.
    Same packets' timing (so the same edit list and A/V offset), same decoded sample count
    (PyAV's and the ffmpeg command line's), the same sound before the span bit for bit, and ffmpeg decodes it cleanly."""
    from tests.kernels.test_splice_gops import _ffmpeg_decodes
    from vpipe.ir.graph import Op, Value
    from vpipe.ir.types import Type
    from vpipe.kernel_api.context import RunContext
    from vpipe.kernels.media import OpenVideo
    from vpipe.kernels.media_gops import Normalize
    from vpipe.media.splice import RowSound, splice
    from vpipe.media.write import VideoSettings

    path = shared_media("glasses_woman.mp4")
    (tmp_path / "scratch").mkdir()
    rt = RunContext(tmp_path / "scratch", store_dir=tmp_path / "store")
    video = OpenVideo().run(Op("media.open", (), (Value("video", Type("Video")),), {"path": str(path)}), [], rt)
    op = Op(
        "media.normalize", ("video",), (Value("gops", Type("Video")),), {"gop": 12, "crf": 12, "preset": "veryfast"}
    )
    norm = Normalize().run(op, [video], rt)
    assert norm.gops is not None
    step = float(np.median(np.diff(norm.times)))
    index = (
        list(range(40))
        + [i for i in range(40, 50) for _ in range(2 if i % 2 == 0 else 1)]
        + list(range(50, norm.frames))
    )
    times = np.concatenate([norm.times[:40], norm.times[40] + step * np.arange(15), norm.times[50:] + 5 * step])
    frames = Frames(norm.path, times, np.asarray(index), {}, norm.time_base, norm.width, norm.height)
    recording = read_audio(path)
    at, old, new = round(1.6 * RATE), round(0.3 * RATE), round(0.5 * RATE)
    other = read_audio(shared_media("studio_woman.mp4")).samples
    row = _row(recording.samples, at, old, other[RATE : RATE + new])
    track = Audio(row, RATE)
    whole, spliced = tmp_path / "whole.mp4", tmp_path / "spliced.mp4"
    splice(frames, norm.path, norm.gops, track, whole, VideoSettings())
    sound = RowSound(recording, (0, new - old), tmp_path / "store")
    report = splice(frames, norm.path, norm.gops, track, spliced, VideoSettings(), sound)
    audio = report["audio"]
    assert isinstance(audio, dict) and audio["mode"] == "spliced", audio
    assert audio["reencoded_blocks"] < audio["blocks"]  # type: ignore[operator]
    a, b = _audio_stream(whole), _audio_stream(spliced)
    assert (a["start"], a["duration"], a["packets"], a["first_video_pts"]) == (
        b["start"], b["duration"], b["packets"], b["first_video_pts"],
    )  # fmt: skip
    # decoded: whole blocks by PyAV, the edit list's length by ffmpeg; the same both ways
    assert a["pcm"].shape == b["pcm"].shape == (2, -(-row.shape[0] // BLOCK) * BLOCK)
    assert _ffmpeg_samples(whole) == _ffmpeg_samples(spliced) >= row.shape[0] - 16
    first = audio["spans"][0][0]  # type: ignore[index]
    if first > 1:
        np.testing.assert_array_equal(a["pcm"][:, : (first - 1) * BLOCK], b["pcm"][:, : (first - 1) * BLOCK])
    assert _ffmpeg_decodes(spliced) == ""


def test_what_cannot_be_spliced_is_encoded_whole(sounds: dict[str, np.ndarray], tmp_path: Path) -> None:
    """No recording, another rate, other channels, Opus: the whole track is encoded, and the
    report says why; the packets are the whole-track path's."""
    import av

    from vpipe.media.aac_row import row_packets

    pcm = sounds["studio_woman.mp4"][: RATE * 2]
    row = Audio(pcm, RATE)
    cases = [
        ("mp4", None, "no recording to splice from"),
        ("mp4", Audio(pcm, 48000), "the sound is resampled"),
        ("mp4", Audio(pcm[:, :1], RATE), "the row's channels differ from the recording's"),
        ("webm", Audio(pcm, RATE), "the output's sound is libopus"),
    ]
    for fmt, recording, why in cases:
        codec, rate = ("libopus", 48000) if fmt == "webm" else ("aac", RATE)
        with av.open(str(tmp_path / f"x.{fmt}"), "w") as out:
            stream = out.add_stream(codec, rate=rate)
            stream.layout = "stereo"
            packets, report = row_packets(stream, rate, row, 128, recording, (0,), None)
            assert report["mode"] == "encoded" and report["why"] == why, report
            assert report["reencoded_blocks"] == len(packets) > 0
