"""Frame sizes and layouts users record, derived from a shared clip with the FFmpeg command
line (imageio-ffmpeg's binary; independent of vpipe's PyAV code): odd sizes, 854×480,
4K, 60 fps, variable frame rate, phone rotation metadata, non-square pixels, full-range,
4:4:4 and 10-bit pixel formats. Each case keeps the clip's speech (the audio is copied),
so the clip's transcript and slot still hold.

A case's `upright` says how the derived clip is meant to be seen: the stored pictures
turned by the display matrix (a phone stores a portrait video sideways and says so)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Layout:
    name: str
    filters: str  # -vf chain applied to the shared clip ("" for none)
    encode: tuple[str, ...] = ("-c:v", "libx264", "-preset", "ultrafast", "-crf", "10")
    rotation: int = 0  # display matrix written on top (counter-clockwise degrees, as -display_rotation)
    container: str = "mp4"
    display: tuple[int, int] | None = None  # expected upright (width, height) of the decoded pictures
    sar: Fraction | None = None  # expected sample aspect ratio of the derived clip
    pix_fmt: str | None = None  # expected decoded pixel format
    vfr: bool = False
    slow: bool = True  # long: only in the slow suite
    seconds: float | None = None  # cut the clip to its first `seconds` (4K stays short)


def _x264(pix_fmt: str, *extra: str) -> tuple[str, ...]:
    return ("-c:v", "libx264", "-preset", "ultrafast", "-crf", "10", "-pix_fmt", pix_fmt, *extra)


# From glasses_woman.mp4 (524×524, 25 fps, 4.9 s).
LAYOUTS = (
    Layout("odd-half-590", "scale=590:590", display=(590, 590), slow=False),
    Layout("854x480", "scale=480:480,pad=854:480:187:0", display=(854, 480)),
    Layout(
        "odd-523x521-444",
        "scale=523:521",
        encode=_x264("yuv444p"),
        display=(523, 521),
        pix_fmt="yuv444p",
    ),
    Layout(
        "odd-523x521-vp9",
        "scale=523:521",
        encode=("-c:v", "libvpx-vp9", "-crf", "20", "-b:v", "0", "-deadline", "realtime", "-cpu-used", "8"),
        container="webm",
        display=(523, 521),
    ),
    Layout("rotate-90", "transpose=1", rotation=90, display=(524, 524), slow=False),
    Layout("rotate-270-portrait", "scale=524:932,setsar=1,transpose=2", rotation=-90, display=(524, 932)),
    Layout("60fps", "fps=60", display=(524, 524)),
    Layout("vfr", "select='not(eq(mod(n\\,5)\\,2))'", encode=(*_x264("yuv420p"), "-fps_mode", "vfr"), vfr=True),
    Layout("sar-4-3", "scale=392:524,setsar=4/3", display=(392, 524), sar=Fraction(4, 3)),
    Layout("yuvj420p", "scale=out_range=full", encode=_x264("yuvj420p"), pix_fmt="yuvj420p", slow=False),
    Layout(
        "full-range-flag",
        "scale=out_range=full",
        encode=_x264("yuv420p", "-color_range", "pc", "-colorspace", "bt709"),
    ),
    Layout("yuv444p", "", encode=_x264("yuv444p"), pix_fmt="yuv444p"),
    Layout("10-bit", "", encode=_x264("yuv420p10le"), pix_fmt="yuv420p10le"),
    Layout("4k", "scale=2160:2160,pad=3840:2160:840:0", display=(3840, 2160), seconds=None),
)


def ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def derive(source: Path, layout: Layout, folder: Path) -> Path:
    """The shared clip re-encoded as `layout` (its audio copied as it is)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{layout.name}.{layout.container}"
    plain = folder / f"{layout.name}-stored.{layout.container}" if layout.rotation else target
    cmd = [ffmpeg(), "-hide_banner", "-loglevel", "error", "-y", "-i", str(source)]
    if layout.seconds:
        cmd += ["-t", str(layout.seconds)]
    if layout.filters:
        cmd += ["-vf", layout.filters]
    audio = ("-c:a", "libopus") if layout.container == "webm" else ("-c:a", "copy")
    subprocess.run([*cmd, *layout.encode, *audio, str(plain)], check=True, capture_output=True)
    if layout.rotation:  # a display matrix on the stored (sideways) pictures, packets copied
        subprocess.run(
            [
                ffmpeg(),
                "-hide_banner",
                "-loglevel",
                "error",
                "-y",
                "-display_rotation",
                str(layout.rotation),
                "-i",
                str(plain),
                "-c",
                "copy",
                str(target),
            ],
            check=True,
            capture_output=True,
        )
    return target


@dataclass(frozen=True)
class Decoded:
    times: list[float]
    luma: list[np.ndarray]  # upright, 8-bit video-range Y (full-range and 10-bit sources converted)
    sar: Fraction | None  # as seen upright (a quarter turn inverts the stored one)
    rotation: int
    pix_fmt: str
    size: tuple[int, int]  # stored (width, height)


def decode_upright(path: Path) -> Decoded:
    """Every frame's luma as a viewer sees it: turned by the display matrix, in 8-bit video range
    (swscale's gray conversion of any YUV format, then mapped from full to video range)."""
    import av

    times, lumas = [], []
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        sar = stream.sample_aspect_ratio
        rotation, pix_fmt, size = 0, "", (0, 0)
        for frame in c.decode(stream):
            rotation = round(float(frame.rotation or 0))
            pix_fmt, size = frame.format.name, (frame.width, frame.height)
            y = frame.reformat(format="yuv444p").to_ndarray()[0].astype(np.float32)
            if frame.format.name.startswith("yuvj") or int(frame.color_range) == 2:
                y = 16 + y * 219 / 255
            lumas.append(np.rot90(y, (rotation // 90) % 4))
            times.append(float(frame.time))
    if sar and (rotation // 90) % 2:
        sar = 1 / sar
    return Decoded(times, lumas, sar, rotation, pix_fmt, size)
