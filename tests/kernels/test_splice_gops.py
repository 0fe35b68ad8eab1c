"""Normalising a source and splicing rows on its GOPs, measured on the written files:
the normalised stream's structure and quality, frames outside re-encoded GOPs bit-identical
to it (hashes of decoded frames), the expected frame count and timestamps (elastic slots
included), H.264 High yuv420p + AAC that the ffmpeg command line decodes without error."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.media import frame_hashes, shared_media
from vpipe.data.media import Frames, VideoSource
from vpipe.ir.graph import Op, Value
from vpipe.ir.types import Type
from vpipe.kernel_api.context import RunContext
from vpipe.kernels.media import OpenVideo
from vpipe.kernels.media_gops import Normalize
from vpipe.media.decode import iter_decoded, iter_frames, read_audio
from vpipe.media.splice import plan_splice, splice
from vpipe.media.write import VideoSettings
from vpipe.qc.visual import psnr

GOP = 12


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> tuple[VideoSource, VideoSource]:
    """(the glasses clip as opened, its normalised stream)."""
    work = tmp_path_factory.mktemp("gops")
    path = shared_media("glasses_woman.mp4")
    rt = RunContext(work / "scratch", store_dir=work / "store")
    (work / "scratch").mkdir()
    video = OpenVideo().run(Op("media.open", (), (Value("video", Type("Video")),), {"path": str(path)}), [], rt)
    op = Op("media.normalize", ("video",), (Value("gops", Type("Video")),), {"gop": GOP, "crf": 12, "preset": "veryfast"})
    return video, Normalize().run(op, [video], rt)



def _stream(path: Path) -> dict[str, Any]:
    import av

    with av.open(str(path)) as c:
        v = c.streams.video[0]
        keys, reordered = [], False
        for i, p in enumerate(q for q in c.demux(v) if q.size):
            keys += [i] if p.is_keyframe else []
            reordered |= p.pts != p.dts
        return {
            "codec": v.codec_context.name,
            "profile": v.codec_context.profile,
            "pix_fmt": v.codec_context.pix_fmt,
            "keyframes": keys,
            "reordered": reordered,
            "audio": bool(c.streams.audio),
        }


def _ffmpeg_decodes(path: Path) -> str:
    import imageio_ffmpeg

    run = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "null", "-"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return run.stderr.strip() + ("" if run.returncode == 0 else f" (exit {run.returncode})")


def test_normalised_stream_has_fixed_closed_gops_and_the_source_timing(source: tuple[VideoSource, VideoSource]) -> None:
    video, norm = source
    info = _stream(norm.path)
    assert (info["codec"], info["profile"], info["pix_fmt"]) == ("h264", "High", "yuv420p")
    assert info["keyframes"] == list(range(0, video.frames, GOP))
    assert not info["reordered"]  # no B-frames: decode order is presentation order
    assert norm.gops is not None and list(norm.gops.starts) == info["keyframes"]
    np.testing.assert_allclose(norm.times, video.times, atol=1e-6)
    assert norm.gops.psnr.shape == (video.frames,)
    assert float(norm.gops.psnr.min()) >= 45.0  # visually lossless against the recording
    assert norm.still_valid()


def _frames(norm: VideoSource, times: np.ndarray, index: np.ndarray, rendered: dict[int, np.ndarray]) -> Frames:
    return Frames(norm.path, times, index, rendered, norm.time_base, norm.width, norm.height)


def _paint(norm: VideoSource, indices: list[int]) -> dict[int, np.ndarray]:
    """Frames re-rendered: the source frame with a grey square where the mouth would be."""
    out = {}
    for i, _, image in iter_frames(norm.path, min(indices), max(indices) + 1):
        if i in indices:
            image = image.copy()
            image[300:360, 220:300] = 128
            out[i] = image
    return out


def test_only_gops_with_changed_frames_are_re_encoded(source: tuple[VideoSource, VideoSource], tmp_path: Path) -> None:
    video, norm = source
    assert norm.gops is not None
    changed = list(range(40, 52))  # GOPs 3 (36-47) and 4 (48-59)
    frames = _frames(norm, norm.times.copy(), np.arange(norm.frames), _paint(norm, changed))
    out = tmp_path / "row.mp4"
    report = splice(frames, norm.path, norm.gops, read_audio(video.path), out, VideoSettings())
    assert report["reencoded"] == [[36, 60]]
    got, want = frame_hashes(out), frame_hashes(norm.path)
    assert [p for p, _ in got] == [p for p, _ in want]  # frame count and timestamps
    for k, ((_, h_out), (_, h_src)) in enumerate(zip(got, want, strict=True)):
        if not 36 <= k < 60:
            assert h_out == h_src, f"frame {k} outside the re-encoded GOPs differs from the normalised source"
    images = dict((i, im) for i, _, im in iter_frames(out, 36, 60))
    for k in changed:
        assert psnr(images[k], frames.rendered[k]) > 38  # the re-rendered pixels, one encode away
    info = _stream(out)
    assert (info["codec"], info["profile"], info["pix_fmt"], info["audio"]) == ("h264", "High", "yuv420p", True)
    assert _ffmpeg_decodes(out) == ""


def test_an_elastic_slot_shifts_the_copied_gops(source: tuple[VideoSource, VideoSource], tmp_path: Path) -> None:
    """Frames 40-49 play 1.5× longer (each of 40, 42, 44, 46, 48 twice → 15 frames): everything
    after plays 5 frames later, its GOPs still copied, bit for bit."""
    video, norm = source
    assert norm.gops is not None
    step = float(np.median(np.diff(norm.times)))
    index = list(range(40)) + [i for i in range(40, 50) for _ in range(2 if i % 2 == 0 else 1)] + list(range(50, norm.frames))
    times = np.concatenate([norm.times[:40], norm.times[40] + step * np.arange(15), norm.times[50:] + 5 * step])
    frames = _frames(norm, times, np.asarray(index), {})
    plan = plan_splice(frames, norm.gops, __import__("fractions").Fraction(*norm.time_base))
    out = tmp_path / "row.mp4"
    report = splice(frames, norm.path, norm.gops, read_audio(video.path), out, VideoSettings())
    assert report["reencoded"] == [[36, 65]]  # GOPs 3 and 4 (source frames 36-59) → 29 output frames
    assert report["frames"] == norm.frames + 5
    got, want = frame_hashes(out), frame_hashes(norm.path)
    assert len(got) == norm.frames + 5
    np.testing.assert_array_equal([p for p, _ in got], plan.out_pts)
    shift = int(plan.copy_offset[5])
    for k in range(65, len(got)):
        assert got[k] == (want[k - 5][0] + shift, want[k - 5][1])
    assert _ffmpeg_decodes(out) == ""


def test_a_row_that_changes_nothing_copies_every_gop(source: tuple[VideoSource, VideoSource], tmp_path: Path) -> None:
    video, norm = source
    assert norm.gops is not None
    frames = _frames(norm, norm.times.copy(), np.arange(norm.frames), {})
    out = tmp_path / "row.mp4"
    report = splice(frames, norm.path, norm.gops, read_audio(video.path), out, VideoSettings())
    assert report["reencoded"] == [] and len(report["copied"]) == len(norm.gops.starts)
    assert frame_hashes(out) == frame_hashes(norm.path)


def test_seeking_decode_matches_decoding_from_the_start(source: tuple[VideoSource, VideoSource]) -> None:
    _, norm = source
    assert norm.gops is not None
    seeked = [(i, t) for i, t, _ in iter_decoded(norm.path, 50, norm.gops.pts)][:5]
    plain = [(i, t) for i, t, _ in iter_decoded(norm.path)][48:53]
    assert seeked == plain  # starts at the keyframe before frame 50 (frame 48), indices exact


def test_packet_seconds_are_float_of_the_fraction_bit_for_bit() -> None:
    """splice's per-packet `seconds_of(pts, tb)` is `float(pts * tb)` exactly, on every time
    base a source or the muxer uses and on timestamps from 0 to past a day (and negative)."""
    from fractions import Fraction

    from vpipe.media.splice import seconds_of

    rng = np.random.default_rng(3)
    bases = [Fraction(1, d) for d in (12800, 15360, 44100, 48000, 90000, 1000, 25, 30000)]
    bases += [Fraction(1001, 30000), Fraction(1001, 24000), Fraction(3, 7), Fraction(1, 2**31 - 1)]
    pts = [0, 1, -1, -2048, 2**31, 2**53 + 1, *rng.integers(-(2**40), 2**40, 2000).tolist()]
    for tb in bases:
        for p in pts:
            assert seconds_of(p, tb) == float(p * tb), (p, tb)
