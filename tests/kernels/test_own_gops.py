"""Splicing rows on the source's own GOPs, measured on written files: a source re-encoded in
the test with closed 25-frame GOPs and 3 B-frames (from the glasses clip) is spliced without
normalisation; frames outside the re-encoded GOPs decode bit-identical to the ORIGINAL source
(hashes of decoded frames, PyAV and the ffmpeg command line), frame count and timestamps are
exact (an elastic slot included), ffmpeg decodes with `-xerror` and reports nothing, the file
is faststart H.264 High yuv420p whose avcC keeps the source's parameter sets and adds the
re-encoded GOPs' under id 1. Sources that break a rule are refused with the rule named."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from tests.gop_sources import CLOSED_25, reencode, rotated
from tests.media import frame_hashes, shared_media
from vpipe.data.media import Frames, GopIndex, GopLayout
from vpipe.media import h264_syntax as h264
from vpipe.media.decode import frame_timing, iter_frames, read_audio
from vpipe.media.normalize import EncoderSettings, new_encoder
from vpipe.media.source_gops import inspect, keeps_parameter_sets, own_index
from vpipe.media.splice import plan_splice, splice
from vpipe.media.write import VideoSettings
from vpipe.qc.pairs import copied_gops, same_pictures, stream_gops
from vpipe.qc.visual import psnr

GOP = 25


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GopLayout, GopIndex]:
    work = tmp_path_factory.mktemp("own")
    (work / "source").mkdir()
    path = reencode(shared_media("glasses_woman.mp4"), work / "source" / "closed25.mp4")
    layout = inspect(path)
    index = own_index(path, layout, 12, "veryfast", work / "store" / "closed25.gen1")
    return path, layout, index



def _ffmpeg(*args: str | Path) -> subprocess.CompletedProcess[str]:
    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-xerror", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def _framemd5(path: Path) -> list[str]:
    """ffmpeg's own decode: the MD5 of every video frame (its command line, not PyAV)."""
    run = _ffmpeg("-i", path, "-map", "0:v", "-f", "framemd5", "-")
    assert run.returncode == 0 and run.stderr == "", run.stderr
    return [line.split(",")[-1].strip() for line in run.stdout.splitlines() if line and not line.startswith("#")]


def _top_level_boxes(path: Path) -> list[str]:
    boxes, data, i = [], path.read_bytes(), 0
    while i + 8 <= len(data):
        size = int.from_bytes(data[i : i + 4], "big")
        boxes.append(data[i + 4 : i + 8].decode("latin-1"))
        if size < 8:
            break
        i += size
    return boxes


def _paint(path: Path, index: GopIndex, frames: list[int]) -> dict[int, np.ndarray]:
    out = {}
    for i, _, image in iter_frames(path, min(frames), max(frames) + 1, index.pts):
        if i in frames:
            image = image.copy()
            image[300:360, 220:300] = 128
            out[i] = image
    return out


def _frames(path: Path, layout: GopLayout, times: np.ndarray, index: np.ndarray, rendered: dict[int, np.ndarray]) -> Frames:
    timing = frame_timing(path)
    return Frames(path, times, index, rendered, timing.time_base, layout.width, layout.height)


def test_a_short_closed_gop_source_qualifies(source: tuple[Path, GopLayout, GopIndex]) -> None:
    path, layout, index = source
    assert layout.eligible, layout.reason
    assert (layout.gops, layout.longest_gop, layout.frames) == (5, GOP, 122)
    assert layout.delay == 2 * 512  # x264's 3 B-frames (pyramid): IDRs decoded two frames ahead
    assert (layout.profile, layout.width, layout.height) == ("high", 524, 524)
    assert list(index.starts) == [0, 25, 50, 75, 100]
    np.testing.assert_array_equal(index.pts, frame_timing(path).pts)  # presentation order


def test_frames_outside_re_encoded_gops_are_the_original_source(
    source: tuple[Path, GopLayout, GopIndex], tmp_path: Path
) -> None:
    path, layout, index = source
    changed = list(range(55, 62))  # inside GOP 2 (frames 50-74)
    frames = _frames(path, layout, frame_timing(path).times, np.arange(layout.frames), _paint(path, index, changed))
    out = tmp_path / "row.mp4"
    report = splice(frames, path, index, read_audio(path), out, VideoSettings())
    assert report["reencoded"] == [[50, 75]] and [c[0] for c in report["copied"]] == [0, 1, 3, 4]
    # the re-encoded GOP's pictures (and its look-ahead's) are kept in the store, nothing beside the source
    assert index.pictures is not None and (index.pictures / "00000050.npy").is_file()
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    got, want = frame_hashes(out), frame_hashes(path)
    assert [p for p, _ in got] == [p for p, _ in want]  # frame count and timestamps
    outside = [k for k in range(len(want)) if not 50 <= k < 75]
    assert all(got[k][1] == want[k][1] for k in outside), "a copied frame differs from the original source"
    ours, theirs = _framemd5(out), _framemd5(path)  # the ffmpeg command line's decoder agrees
    assert len(ours) == len(theirs) == 122 and all(ours[k] == theirs[k] for k in outside)
    images = dict((i, im) for i, _, im in iter_frames(out, 50, 75))
    for k in changed:
        assert psnr(images[k], frames.rendered[k]) > 38  # the re-rendered pixels, one encode away
    assert _ffmpeg("-i", out, "-f", "null", "-").stderr == ""
    boxes = _top_level_boxes(out)
    assert boxes.index("moov") < boxes.index("mdat")  # faststart


def test_the_output_avcc_keeps_the_source_parameter_sets(source: tuple[Path, GopLayout, GopIndex], tmp_path: Path) -> None:
    import av

    path, layout, index = source
    frames = _frames(path, layout, frame_timing(path).times, np.arange(layout.frames), _paint(path, index, [80]))
    out = tmp_path / "row.mp4"
    splice(frames, path, index, read_audio(path), out, VideoSettings())
    with av.open(str(out)) as c, av.open(str(path)) as s:
        mine, theirs = bytes(c.streams.video[0].codec_context.extradata), bytes(s.streams.video[0].codec_context.extradata)
        assert (c.streams.video[0].codec_context.profile, c.streams.video[0].codec_context.pix_fmt) == ("High", "yuv420p")
    record, original = h264.parse_avcc(mine), h264.parse_avcc(theirs)
    assert record.sps[0] == original.sps[0] and record.pps[0] == original.pps[0] and record.tail == original.tail
    added = h264.parse_sps(record.sps[1])
    assert (added.sps_id, h264.pps_ids(record.pps[1])) == (1, (1, 1))
    src = h264.parse_sps(original.sps[0])
    assert (added.profile_idc, added.level_idc, added.width, added.height) == (100, src.level_idc, 524, 524)
    assert added.max_num_ref_frames <= src.max_num_ref_frames and added.chroma_format_idc == 1  # no larger DPB
    assert keeps_parameter_sets(mine, theirs) and not keeps_parameter_sets(theirs, mine)
    # an SPS of another stream under the source's id 0 (an encoder left at its default id) would
    # redefine the copied GOPs' parameters: refused
    other = h264.parameter_sets(new_encoder(replace(EncoderSettings.from_json(index.encoder), sps_id=0)).extradata)
    assert h264.parse_sps(other[0]).sps_id == 0 and other[0] != original.sps[0]
    clash = replace(original, sps=(original.sps[0], other[0]), pps=(original.pps[0], other[1])).to_bytes()
    assert not keeps_parameter_sets(clash, theirs)
    # QC: the copied GOPs are recognised as the source's pictures without decoding them
    found = copied_gops(out, {"copied": [[g, int(index.starts[g]), index.digests[g]] for g in (0, 1, 2, 4)]})
    assert found.identical == 4
    same = same_pictures(frames, found, stream_gops(path))
    assert same == set(range(0, 75)) | set(range(100, 122))


def test_an_elastic_slot_shifts_the_copied_gops(source: tuple[Path, GopLayout, GopIndex], tmp_path: Path) -> None:
    """Frames 55-64 play 1.5× longer (55, 57, ... 63 twice → 15 frames): everything after plays
    5 frames later, its GOPs still the source's packets, bit for bit."""
    path, layout, index = source
    times = frame_timing(path).times
    step = float(np.median(np.diff(times)))
    order = list(range(55)) + [i for i in range(55, 65) for _ in range(2 if i % 2 else 1)] + list(range(65, 122))
    shown = np.concatenate([times[:55], times[55] + step * np.arange(15), times[65:] + 5 * step])
    frames = _frames(path, layout, shown, np.asarray(order), {})
    plan = plan_splice(frames, index, Fraction(*frame_timing(path).time_base))
    out = tmp_path / "row.mp4"
    report = splice(frames, path, index, read_audio(path), out, VideoSettings())
    assert report["reencoded"] == [[50, 80]] and report["frames"] == 127
    got, want = frame_hashes(out), frame_hashes(path)
    np.testing.assert_array_equal([p for p, _ in got], plan.out_pts)
    shift = int(plan.copy_offset[3])
    assert shift == 5 * 512
    assert got[:50] == want[:50]
    for k in range(80, 127):
        assert got[k] == (want[k - 5][0] + shift, want[k - 5][1])
    assert _ffmpeg("-i", out, "-f", "null", "-").stderr == ""


def test_a_row_that_changes_nothing_is_the_source(source: tuple[Path, GopLayout, GopIndex], tmp_path: Path) -> None:
    path, layout, index = source
    frames = _frames(path, layout, frame_timing(path).times, np.arange(layout.frames), {})
    out = tmp_path / "row.mp4"
    report = splice(frames, path, index, read_audio(path), out, VideoSettings())
    assert report["reencoded"] == [] and len(report["copied"]) == 5
    assert frame_hashes(out) == frame_hashes(path)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("recording", "its longest GOP is 122 frames (more than 25)"),
        ("open-gop", "not an IDR (open GOP)"),
        ("full-range", "full range"),
        ("444", "not 8-bit 4:2:0"),
        ("mpeg4", "not H.264"),
        ("rotated", "display matrix"),
        ("vfr", "frame rate is not constant"),
        ("sar", "pixels are not square"),
    ],
)
def test_sources_that_break_a_rule_are_refused_with_it(case: str, reason: str, tmp_path: Path) -> None:
    clip = shared_media("glasses_woman.mp4")
    target = tmp_path / f"{case}.mp4"
    made = {
        "recording": lambda: clip,
        "open-gop": lambda: reencode(clip, target, "keyint=10:min-keyint=10:scenecut=0:bframes=3:open-gop=1", 40),
        "full-range": lambda: reencode(clip, target, CLOSED_25, 30, full_range=True),
        "444": lambda: reencode(clip, target, CLOSED_25, 30, pix_fmt="yuv444p"),
        "mpeg4": lambda: reencode(clip, target, "", 30, codec="mpeg4"),
        "rotated": lambda: rotated(reencode(clip, tmp_path / "upright.mp4", CLOSED_25, 30), target),
        "vfr": lambda: reencode(clip, target, CLOSED_25, 30, jitter=True),
        "sar": lambda: reencode(clip, target, CLOSED_25, 30, sar=Fraction(4, 3)),
    }[case]()
    layout = inspect(made)
    assert not layout.eligible and reason in layout.reason, layout.reason


@pytest.mark.slow
def test_chromium_plays_a_spliced_file_across_the_splice_to_the_end(
    source: tuple[Path, GopLayout, GopIndex], tmp_path: Path
) -> None:
    """Two re-encoded runs (GOPs 1 and 3) between copied GOPs: four joins of the two parameter
    sets, each crossed while playing, and the file reaches its end without a media error."""
    from tests.browser import play

    path, layout, index = source
    changed = [30, 31, 32, 80, 81]
    frames = _frames(path, layout, frame_timing(path).times, np.arange(layout.frames), _paint(path, index, changed))
    out = tmp_path / "row.mp4"
    report = splice(frames, path, index, read_audio(path), out, VideoSettings())
    assert report["reencoded"] == [[25, 50], [75, 100]]
    seen = play(out)
    assert seen["state"] == "ended", seen
    assert seen["corrupted"] == 0 and seen["frames"] >= 100, seen  # decoded (a loaded machine may drop some)
    assert abs(seen["duration"] - 122 / 25) < 0.05 and abs(seen["time"] - seen["duration"]) < 0.05, seen
    quarters = set(seen["seen"])  # the play position passed every join (at 1.0, 2.0, 3.0 and 4.0 s)
    assert all(any(j - 0.5 <= q <= j + 0.5 for q in quarters) for j in (1.0, 2.0, 3.0, 4.0)), seen


@pytest.mark.slow  # three more sources encoded (~14 s): the matrix beside the closed-25 one above
@pytest.mark.parametrize(
    ("params", "profile", "delay"),
    [
        ("keyint=20:min-keyint=20:scenecut=0:bframes=0", "main", 0),  # no B-frames: DTS = PTS
        ("keyint=16:min-keyint=8:scenecut=40:bframes=2:b-pyramid=none", "high", 512),  # GOPs of varying length
        ("keyint=10:min-keyint=10:scenecut=0", "baseline", 0),
    ],
)
def test_other_closed_layouts_splice_bit_exact(params: str, profile: str, delay: int, tmp_path: Path) -> None:
    (tmp_path / "source").mkdir()
    path = reencode(shared_media("glasses_woman.mp4"), tmp_path / "source" / "clip.mp4", params, profile=profile)
    layout = inspect(path)
    assert layout.eligible and (layout.profile, layout.delay) == (profile, delay), layout
    index = own_index(path, layout, 12, "veryfast", tmp_path / "store")
    changed = [60, 61, 62]
    frames = _frames(path, layout, frame_timing(path).times, np.arange(layout.frames), _paint(path, index, changed))
    out = tmp_path / "row.mp4"
    report = splice(frames, path, index, read_audio(path), out, VideoSettings())
    (a, b), = report["reencoded"]
    assert a <= 60 and b > 62 and b - a <= layout.longest_gop * 2
    got, want = frame_hashes(out), frame_hashes(path)
    assert [p for p, _ in got] == [p for p, _ in want]
    assert all(got[k] == want[k] for k in range(len(want)) if not a <= k < b)
    assert _ffmpeg("-i", out, "-f", "null", "-").stderr == ""


def test_sei_payload_types_read_every_message_and_stop_where_the_data_ends() -> None:
    """A recovery-point SEI (type 6) refuses a source: the types are read as 7.3.2.3.1 codes
    them (each 0xFF byte adds 255), past other messages, and a cut message is not counted."""
    header = b"\x06"
    unregistered = b"\x05\x03\x11\x22\x33"  # type 5, 3 bytes
    large = b"\xff\x2d\x01\x44"  # type 255 + 45 = 300, 1 byte
    recovery = b"\x06\x02\x90\x01"  # type 6, 2 bytes
    assert h264.sei_payload_types(header + unregistered + large + recovery + b"\x80") == [5, 300, 6]
    assert h264.sei_payload_types(header + unregistered + b"\xff") == [5]  # cut inside a type
    assert h264.sei_payload_types(header + unregistered + b"\x06\xff") == [5]  # cut inside a size
    assert h264.sei_payload_types(header + b"\x80") == []
