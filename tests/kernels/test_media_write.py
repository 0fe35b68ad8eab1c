"""Writing outputs: every offered codec, the source's pixel format and frame times, and
untouched frames that lose only the encoder's rounding (no trip through BGR)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.media import make_video, shared_media
from vpipe.data.audio import Audio
from vpipe.media.decode import frame_timing, iter_decoded, iter_frames, luma, read_audio
from vpipe.media.write import PIXEL_FORMATS, VideoSettings, encode, output_pix_fmt
from vpipe.qc.visual import psnr


def _source_frames(path: Path, as_decoded: bool) -> Any:
    def gen() -> Any:
        if as_decoded:
            for _, t, frame in iter_decoded(path):
                yield t, frame
        else:
            for _, t, image in iter_frames(path):
                yield t, image

    return gen


def _has_audio(path: Path) -> bool:
    import av

    with av.open(str(path)) as c:
        return bool(c.streams.audio)


def _copy(source: Path, target: Path, codec: str = "h264", as_decoded: bool = True, pix_fmt: str = "yuv420p") -> int:
    import av

    with av.open(str(source)) as c:
        vs = c.streams.video[0]
        size, tb = (vs.codec_context.width, vs.codec_context.height), vs.time_base
    audio = read_audio(source) if _has_audio(source) else Audio(np.zeros((1600, 1), np.float32), 16000)
    return encode(
        _source_frames(source, as_decoded),
        size,
        Fraction(tb),
        audio,
        target,
        VideoSettings(codec=codec, crf=12 if codec in ("h264", "hevc") else 24),
        pix_fmt,
    )


def _luma_psnrs(a: Path, b: Path) -> list[float]:
    return [
        psnr(luma(x).astype(np.float32), luma(y).astype(np.float32))
        for (_, _, x), (_, _, y) in zip(iter_decoded(a), iter_decoded(b), strict=True)
    ]


@pytest.mark.parametrize("codec", ["h264", "hevc", "av1", "vp9"])
def test_every_codec_writes_a_decodable_file_with_the_source_frames(codec: str, tmp_path: Path) -> None:
    import av

    src = make_video(tmp_path / "src.mp4", seconds=0.8, size=(96, 64))
    out = tmp_path / f"out-{codec}.mp4"
    count = _copy(src, out, codec)
    with av.open(str(out)) as c:
        vs = c.streams.video[0]
        assert vs.codec_context.name == {"h264": "h264", "hevc": "hevc", "av1": "libdav1d", "vp9": "vp9"}.get(
            codec, codec
        ) or vs.codec_context.name.endswith(codec)
        assert (vs.codec_context.width, vs.codec_context.height) == (96, 64)
        assert c.streams.audio and c.streams.audio[0].codec_context.name == "aac"
    assert count == frame_timing(src).count == frame_timing(out).count
    assert min(_luma_psnrs(src, out)) > 35


@pytest.mark.media
def test_variable_frame_rate_times_survive_a_re_encode(tmp_path: Path) -> None:
    """interview_man.mp4 is variable frame rate: the output keeps every frame's time."""
    src = shared_media("interview_man.mp4")
    out = tmp_path / "vfr.mp4"
    _copy(src, out)
    a, b = frame_timing(src), frame_timing(out)
    assert np.ptp(np.diff(a.times)) > 0.005  # it really is variable
    np.testing.assert_allclose(b.times - b.times[0], a.times - a.times[0], atol=1e-4)


@pytest.mark.media
def test_untouched_frames_go_to_the_encoder_as_decoded(tmp_path: Path) -> None:
    """Passing the decoded frame skips a YUV→BGR→YUV round trip: measurably closer to the
    source than the BGR path, at the same crf."""
    src = shared_media("glasses_woman.mp4")
    direct, via_bgr = tmp_path / "direct.mp4", tmp_path / "bgr.mp4"
    _copy(src, direct, as_decoded=True)
    _copy(src, via_bgr, as_decoded=False)
    d, b = np.mean(_luma_psnrs(src, direct)), np.mean(_luma_psnrs(src, via_bgr))
    print(f"mean luma PSNR: decoded frames {d:.2f} dB, via BGR {b:.2f} dB")
    assert d > b + 0.3 and d > 45


def test_the_source_pixel_format_is_kept_when_the_codec_takes_it(tmp_path: Path) -> None:
    import av

    src = tmp_path / "src444.mp4"
    with av.open(str(src), "w") as c:
        vs = c.add_stream("libx264", rate=25)
        vs.width, vs.height, vs.pix_fmt = 64, 64, "yuv444p"
        for i in range(10):
            img = np.zeros((64, 64, 3), np.uint8)
            img[:, :, 2] = (np.arange(64) * 4)[None, :]
            img[:, i * 6 : i * 6 + 4, 1] = 255
            frame = av.VideoFrame.from_ndarray(img, format="bgr24").reformat(format="yuv444p")
            frame.pts = i
            for p in vs.encode(frame):
                c.mux(p)
        for p in vs.encode():
            c.mux(p)
    assert output_pix_fmt("h264", "yuv444p") == "yuv444p" and output_pix_fmt("av1", "yuv444p") == "yuv420p"
    assert output_pix_fmt("h264", "yuvj420p") == "yuv420p" and "yuv420p" in PIXEL_FORMATS["vp9"]
    out = tmp_path / "out444.mp4"
    _copy(src, out, pix_fmt=output_pix_fmt("h264", "yuv444p"))
    with av.open(str(out)) as c:
        assert c.streams.video[0].codec_context.pix_fmt == "yuv444p"
    # a re-rendered (BGR) frame in a non-4:2:0 format is converted, not mangled
    out2 = tmp_path / "bgr444.mp4"
    _copy(src, out2, as_decoded=False, pix_fmt="yuv444p")
    assert min(_luma_psnrs(src, out2)) > 40


def _whole_track_packets(stream: Any, audio: Audio, rate: int) -> Any:
    """The reference: audio_packets as it was, the whole track clipped and made planar first."""
    import av

    layout = "mono" if audio.channels == 1 else "stereo"
    pcm = np.clip(audio.samples[:, :2], -1.0, 1.0).T.astype(np.float32)
    resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate) if rate != audio.rate else None
    pts = 0
    for start in range(0, pcm.shape[1], 4096):
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(pcm[:, start : start + 4096]), format="fltp", layout=layout
        )
        frame.sample_rate, frame.pts, frame.time_base = audio.rate, start, Fraction(1, audio.rate)
        for f in resampler.resample(frame) if resampler else [frame]:
            if resampler:
                f.pts, pts = pts, pts + f.samples
            yield from stream.encode(f)
    for f in resampler.resample(None) if resampler else []:
        f.pts, pts = pts, pts + f.samples
        yield from stream.encode(f)
    yield from stream.encode(None)


@pytest.mark.media
@pytest.mark.parametrize(("suffix", "gain"), [(".mp4", 1.0), (".mp4", 3.0), (".webm", 1.0)])
def test_audio_converted_a_block_at_a_time_encodes_to_the_same_packets(
    suffix: str, gain: float, tmp_path: Path
) -> None:
    """audio_packets clips and makes planar a block at a time (no full-length copies): the
    encoded packets are byte for byte those of converting the whole track first (AAC at the
    source rate; Opus, resampled to 48 kHz; and a track louder than full scale, clipped)."""
    import av

    from vpipe.media.write import _add_audio_stream, audio_packets

    src = read_audio(shared_media("interview_man.mp4"))
    audio = Audio(src.samples * np.float32(gain), src.rate)
    packets = []
    for name, make in (("blocks", audio_packets), ("whole", _whole_track_packets)):
        with av.open(str(tmp_path / f"{name}{suffix}"), "w") as out:
            stream, rate = _add_audio_stream(out, audio, tmp_path / f"{name}{suffix}", 128)
            packets.append([(p.pts, bytes(p)) for p in make(stream, audio, rate)])
    assert len(packets[0]) > 50 and packets[0] == packets[1]
