"""Write output videos with PyAV, atomically.

- `remux`: copy the source video packets untouched and encode the new audio track (the
  audio-only personalization: not a single video pixel changes).
- `encode`: decode the source, substitute re-rendered frames, re-encode with the source's
  own per-frame timestamps (variable-frame-rate sources keep their timing exactly) and
  pixel format. Untouched frames go to the encoder as decoded, without a trip through BGR;
  re-rendered ones are converted by PyAV (`media/convert.py`), at any size and format.
  The picture's layout goes with it (`Picture`): sample aspect ratio, colour range and
  colour tags; frames arrive upright (the decoder applied any display matrix), so the
  output needs none. Re-rendered BGR frames are converted into the source's colour range,
  so they sit among the untouched ones without a contrast step.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from vpipe import faults, phases
from vpipe.atomic import atomic_path
from vpipe.data.audio import Audio
from vpipe.media.convert import bgr_to_frame
from vpipe.outputs import ODD_SIZE_444_CODECS

VIDEO_CODECS = {"h264": "libx264", "hevc": "libx265", "av1": "libsvtav1", "vp9": "libvpx-vp9"}


class WriteError(Exception):
    pass


@dataclass(frozen=True)
class VideoSettings:
    codec: str = "h264"
    crf: int = 12
    preset: str = "veryfast"
    audio_bitrate_kbps: int = 128
    metadata: tuple[tuple[str, str], ...] = ()


def _container_options(target: Path) -> dict[str, str]:
    if target.suffix.lower() in (".mp4", ".mov"):
        return {"movflags": "+faststart"}  # index first: players start before the download ends
    return {}


def audio_codec(target: Path) -> tuple[str, int | None]:
    """The sound's codec an output at `target` is written with, and the rate it forces (None: the
    sound's own)."""
    if target.suffix.lower() == ".webm":
        return "libopus", 48000  # WebM carries Opus; Opus runs at 48 kHz
    return "aac", None


def _add_audio_stream(output, audio: Audio, target: Path, bitrate_kbps: int):  # type: ignore[no-untyped-def]
    codec, fixed_rate = audio_codec(target)
    rate = fixed_rate or audio.rate
    stream = output.add_stream(codec, rate=rate)
    stream.layout = "mono" if audio.channels == 1 else "stereo"
    stream.bit_rate = bitrate_kbps * 1000
    if codec == "aac":  # FFmpeg's fast AAC coder: half the CPU of twoloop, and a higher SNR measured at 192 kb/s
        stream.options = {"aac_coder": "fast"}
    return stream, rate


def _encode_audio(output, stream, audio: Audio, rate: int) -> None:  # type: ignore[no-untyped-def]
    for packet in audio_packets(stream, audio, rate):
        output.mux(packet)


def audio_packets(stream, audio: Audio, rate: int) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """The encoded packets of `audio` on the output's audio `stream` (the caller muxes them)."""
    import av

    layout = "mono" if audio.channels == 1 else "stereo"
    resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate) if rate != audio.rate else None
    block = 4096
    pts = 0
    faults.point("mux")
    for start in range(0, len(audio.samples), block):
        # clipped and made planar (ch, n) a block at a time: the same values as converting the
        # whole track first, without two full-length copies of it (80 MB at two minutes)
        pcm = np.clip(audio.samples[start : start + block, :2], -1.0, 1.0).T.astype(np.float32)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm), format="fltp", layout=layout)
        frame.sample_rate = audio.rate
        frame.pts = start
        frame.time_base = Fraction(1, audio.rate)
        frames = resampler.resample(frame) if resampler else [frame]
        for f in frames:
            if resampler:
                f.pts, pts = pts, pts + f.samples
            yield from stream.encode(f)
    if resampler:
        for f in resampler.resample(None):
            f.pts, pts = pts, pts + f.samples
            yield from stream.encode(f)
    yield from stream.encode(None)


def _set_metadata(output, settings: VideoSettings) -> None:  # type: ignore[no-untyped-def]
    for key, value in settings.metadata:
        output.metadata[key] = value


def remux(source: Path, audio: Audio, target: Path, settings: VideoSettings) -> None:
    """The source's video stream copied packet for packet, with `audio` as the sound."""
    import av

    try:
        # closed in reverse order: the output is complete before atomic_path puts it in place
        with (
            atomic_path(target) as tmp,
            av.open(str(source)) as src,
            av.open(str(tmp), "w", options=_container_options(target)) as out,
        ):
            in_video = src.streams.video[0]
            try:
                out_video = out.add_stream_from_template(in_video)
            except ValueError as exc:  # PyAV: the container cannot carry this codec
                raise WriteError(f"cannot write {target.name}: {exc}") from None
            audio_stream, rate = _add_audio_stream(out, audio, target, settings.audio_bitrate_kbps)
            _set_metadata(out, settings)
            for packet in src.demux(in_video):
                if packet.dts is None:
                    continue
                packet.stream = out_video
                out.mux(packet)
            _encode_audio(out, audio_stream, audio, rate)
    except (av.error.FFmpegError, OSError) as exc:  # the muxer refused, the disk is full, ...
        raise WriteError(f"cannot write {target.name}: {_reason(exc)}") from None


def restamp(source: Path, target: Path, metadata: tuple[tuple[str, str], ...]) -> None:
    """`source`'s streams copied packet for packet into `target` with other metadata (a row
    that is a duplicate of another gets that row's file under its own name and id)."""
    import av

    try:
        with (
            atomic_path(target) as tmp,
            av.open(str(source)) as src,
            av.open(str(tmp), "w", options=_container_options(target)) as out,
        ):
            streams = {s.index: out.add_stream_from_template(s) for s in (*src.streams.video, *src.streams.audio)}
            for key, value in metadata:
                out.metadata[key] = value
            for packet in src.demux(*[s for s in src.streams if s.index in streams]):
                if packet.dts is None:
                    continue
                packet.stream = streams[packet.stream.index]
                out.mux(packet)
    except (av.error.FFmpegError, OSError) as exc:
        raise WriteError(f"cannot write {target.name}: {_reason(exc)}") from None


def _add_video_stream(out, codec: str, target: Path):  # type: ignore[no-untyped-def]
    try:
        return out.add_stream(codec)
    except ValueError as exc:  # PyAV: the container cannot carry this codec
        raise WriteError(f"cannot encode {target.name}: {exc}") from None


def _reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc)


@dataclass(frozen=True)
class Picture:
    """How the written pictures are to be seen: what the source's stream said about its own."""

    sar: Fraction | None = None  # sample aspect ratio; None: square pixels
    full_range: bool = False  # samples use 0-255 (JPEG range) instead of video range
    colorspace: int = 2  # FFmpeg's AVColorSpace, AVColorPrimaries, AVColorTransferCharacteristic
    color_primaries: int = 2  # (2: unspecified)
    color_trc: int = 2


def _tag_picture(vs, picture: Picture) -> None:  # type: ignore[no-untyped-def]
    cc = vs.codec_context
    if picture.sar:
        cc.sample_aspect_ratio = picture.sar
    cc.color_range = 2 if picture.full_range else 1
    for name in ("colorspace", "color_primaries", "color_trc"):
        value = getattr(picture, name)
        if value not in (0, 2):  # only what the source actually declared
            setattr(cc, name, value)


# (seconds, frame): a BGR image (re-rendered) or a decoded av.VideoFrame (untouched)
FrameSource = Callable[[], Iterator[tuple[float, Any]]]
# Pixel formats the encoders take as they are; anything else is written as yuv420p.
PIXEL_FORMATS = {
    "h264": {"yuv420p", "yuv422p", "yuv444p", "yuv420p10le", "yuv422p10le", "yuv444p10le"},
    "hevc": {"yuv420p", "yuv422p", "yuv444p", "yuv420p10le", "yuv422p10le", "yuv444p10le"},
    "av1": {"yuv420p", "yuv420p10le"},
    "vp9": {"yuv420p", "yuv422p", "yuv444p", "yuv420p10le"},
}


# Full-range ("JPEG") variants are written as the plain format tagged full range.
_PLAIN = {"yuvj420p": "yuv420p", "yuvj422p": "yuv422p", "yuvj444p": "yuv444p"}
# Codecs whose 4:2:0 needs even sizes (x264, x265): an odd-sized picture is written 4:4:4.


def output_pix_fmt(codec: str, source_pix_fmt: str | None, size: tuple[int, int] = (2, 2)) -> str:
    """The source's pixel format when the codec takes it, else yuv420p; 4:4:4 where the
    codec's 4:2:0 cannot hold an odd width or height (every pixel kept, no crop or pad)."""
    fmt = _PLAIN.get(source_pix_fmt or "", source_pix_fmt)
    fmt = fmt if fmt in PIXEL_FORMATS.get(codec, set()) else "yuv420p"
    if codec in ODD_SIZE_444_CODECS and (size[0] % 2 or size[1] % 2) and not fmt.startswith("yuv444p"):
        return "yuv444p10le" if fmt.endswith("10le") else "yuv444p"
    return fmt


def encode(
    frames: FrameSource,
    size: tuple[int, int],
    time_base: Fraction,
    audio: Audio,
    target: Path,
    settings: VideoSettings,
    pix_fmt: str = "yuv420p",
    picture: Picture | None = None,
) -> int:
    """Encode (seconds, upright BGR image or decoded frame) at exactly those times in `pix_fmt`,
    tagged as `picture` says; returns the frame count."""
    import av

    w, h = size
    picture = picture or Picture()
    codec = VIDEO_CODECS[settings.codec]
    if codec == "libsvtav1":  # SVT-AV1 logs its configuration to stderr at info level
        os.environ.setdefault("SVT_LOG", "1")
    try:
        with (
            atomic_path(target) as tmp,
            av.open(str(tmp), "w", options=_container_options(target)) as out,
        ):
            vs = _add_video_stream(out, codec, target)
            vs.width, vs.height, vs.pix_fmt = w, h, pix_fmt
            vs.time_base = time_base
            vs.codec_context.time_base = time_base
            vs.options = _codec_options(settings)
            _tag_picture(vs, picture)
            audio_stream, rate = _add_audio_stream(out, audio, target, settings.audio_bitrate_kbps)
            _set_metadata(out, settings)
            count = 0
            last_pts = -1
            for seconds, image in frames():
                pts = round(seconds / time_base)
                if pts <= last_pts:  # rounding of very close times: keep timestamps strictly increasing
                    pts = last_pts + 1
                last_pts = pts
                frame = video_frame(image, pix_fmt, picture.full_range)
                frame.pts = pts
                frame.time_base = time_base
                for packet in vs.encode(frame):
                    out.mux(packet)
                count += 1
                phases.advance(count, 0)
                if count == 10:
                    faults.point("encode")  # ten frames written into the temporary file
            for packet in vs.encode(None):
                out.mux(packet)
            _encode_audio(out, audio_stream, audio, rate)
    except (av.error.FFmpegError, OSError) as exc:  # the muxer refused, the disk is full, ...
        raise WriteError(f"cannot encode {target.name}: {_reason(exc)}") from None
    return count


def video_frame(image: Any, pix_fmt: str = "yuv420p", full_range: bool = False) -> Any:
    """An av.VideoFrame in `pix_fmt` of a decoded frame (as it is when already in that format;
    converted with both colour ranges said, so samples keep their meaning) or of a re-rendered
    BGR image; `full_range`: the written samples use the full 0-255 range."""
    import av

    from vpipe.media.decode import full_range as is_full

    dst = "JPEG" if full_range else "MPEG"
    if isinstance(image, av.VideoFrame):
        if image.format.name == pix_fmt:
            return image
        return image.reformat(format=pix_fmt, src_color_range="JPEG" if is_full(image) else "MPEG", dst_color_range=dst)
    return bgr_to_frame(image, pix_fmt, full_range)


def _codec_options(settings: VideoSettings) -> dict[str, str]:
    if settings.codec in ("h264", "hevc"):
        return {"crf": str(settings.crf), "preset": settings.preset}
    if settings.codec == "av1":
        return {"crf": str(settings.crf), "preset": "8"}
    return {"crf": str(settings.crf), "b": "0", "deadline": "good", "cpu-used": "4"}
