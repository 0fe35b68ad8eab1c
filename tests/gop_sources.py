"""Sources with chosen GOP layouts, made in the test from a shared clip (no media committed):
the clip's pictures re-encoded by x264 with the given parameters, its sound copied."""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

CLOSED_25 = "keyint=25:min-keyint=25:scenecut=0:bframes=3:open-gop=0"  # closed 25-frame GOPs, 3 B-frames


def reencode(
    source: Path,
    target: Path,
    params: str = CLOSED_25,
    frames: int | None = None,
    pix_fmt: str = "yuv420p",
    codec: str = "libx264",
    full_range: bool = False,
    sar: Fraction | None = None,
    jitter: bool = False,
    profile: str | None = None,
) -> Path:
    """`source`'s video re-encoded (its first `frames` frames) with x264 `params`; audio copied.
    `jitter`: every fifth frame shown a quarter of a frame late (a variable frame rate)."""
    import av

    with av.open(str(source)) as src, av.open(str(target), "w") as out:
        video = src.streams.video[0]
        vs = out.add_stream(codec, rate=video.average_rate)
        vs.width, vs.height, vs.pix_fmt = video.codec_context.width, video.codec_context.height, pix_fmt
        vs.time_base = vs.codec_context.time_base = video.time_base
        vs.options = {"crf": "18", "preset": "veryfast", "x264-params": params} if codec == "libx264" else {}
        if profile:
            vs.options = {**vs.options, "profile": profile}
        if full_range:
            vs.codec_context.color_range = 2
        if sar:
            vs.codec_context.sample_aspect_ratio = sar
        audio = out.add_stream_from_template(src.streams.audio[0]) if src.streams.audio and frames is None else None
        count = 0
        for packet in src.demux(*([video, src.streams.audio[0]] if audio else [video])):
            if packet.stream.type == "audio":
                if packet.dts is not None:
                    packet.stream = audio
                    out.mux(packet)
                continue
            for frame in packet.decode():
                if frames is not None and count >= frames:
                    break
                frame.pict_type = av.video.frame.PictureType.NONE
                picture = frame.reformat(format=pix_fmt) if pix_fmt != "yuv420p" else frame
                late = int(1 / (video.average_rate * video.time_base)) // 4 if jitter and count % 5 == 4 else 0
                picture.pts = frame.pts + late
                picture.time_base = frame.time_base
                count += 1
                for p in vs.encode(picture):
                    out.mux(p)
        for p in vs.encode(None):
            out.mux(p)
    return target


def rotated(source: Path, target: Path, degrees: int = 90) -> Path:
    """`source`'s streams copied with a display matrix (a phone's portrait video)."""
    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-display_rotation", str(degrees)]
    subprocess.run([*cmd, "-i", str(source), "-c", "copy", str(target)], check=True, timeout=120)
    return target
