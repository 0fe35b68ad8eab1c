"""Probe a source file's format without decoding it (PyAV reads the container headers)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")


class ProbeError(Exception):
    pass


@dataclass(frozen=True)
class MediaInfo:
    width: int
    height: int
    fps: float  # frames / duration (the real average, also for variable frame rate)
    frames: int
    duration: float
    vfr: bool
    codec: str
    pix_fmt: str
    audio_rate: int | None  # None: no audio track
    audio_channels: int | None
    rotation: int = 0  # counter-clockwise degrees of the display matrix; width/height are upright
    sar: Fraction | None = None  # sample aspect ratio (None: square pixels or unknown)
    color_range: int = 0  # FFmpeg's AVColorRange of the first frame (2: full range)
    colorspace: int = 2  # AVColorSpace (2: unspecified)
    color_primaries: int = 2
    color_trc: int = 2

    @property
    def has_audio(self) -> bool:
        return self.audio_rate is not None


def probe_video(path: Path) -> MediaInfo:
    import av  # heavy import kept local: `vpipe --help` must stay fast

    try:
        container = av.open(str(path))
    except av.error.FFmpegError as exc:
        raise ProbeError(f"cannot be opened: {exc.strerror or 'not a media file'}") from None
    except OSError as exc:
        raise ProbeError(f"cannot be read: {exc.strerror}") from None
    with container:
        if not container.streams.video:
            raise ProbeError("has no video stream")
        vs = container.streams.video[0]
        time_base = vs.time_base or Fraction(1, 1)
        duration = float(vs.duration * time_base) if vs.duration else (container.duration or 0) / 1e6
        frames = vs.frames
        if not frames:  # some containers do not store a frame count: count packets instead
            frames = sum(1 for p in container.demux(vs) if p.size)
        fps = frames / duration if duration > 0 else float(vs.average_rate or 25)
        nominal = float(vs.guessed_rate or vs.average_rate or fps)
        audio = container.streams.audio[0] if container.streams.audio else None
        first = _first_frame(container, vs)
        rotation = round(float(first.rotation or 0)) if first is not None else 0
        width, height = vs.codec_context.width, vs.codec_context.height
        sar = vs.sample_aspect_ratio if vs.sample_aspect_ratio and vs.sample_aspect_ratio != 1 else None
        if (round(rotation / 90) % 2) == 1:  # a quarter turn: the picture is seen the other way round
            width, height = height, width
            sar = 1 / sar if sar else None
        cc = vs.codec_context
        return MediaInfo(
            width=width,
            height=height,
            fps=round(fps, 4),
            frames=int(frames),
            duration=round(duration, 4),
            vfr=abs(nominal - fps) > 0.05 * nominal,
            codec=vs.codec_context.name,
            pix_fmt=str(vs.codec_context.pix_fmt),
            audio_rate=audio.codec_context.sample_rate if audio else None,
            audio_channels=audio.codec_context.channels if audio else None,
            rotation=rotation,
            sar=sar,
            color_range=int(first.color_range) if first is not None else int(cc.color_range),
            colorspace=int(cc.colorspace),
            color_primaries=int(cc.color_primaries),
            color_trc=int(cc.color_trc),
        )


def _first_frame(container, stream):  # type: ignore[no-untyped-def]
    """The first decoded frame (its display matrix and colour range), or None."""
    import av

    try:
        container.seek(0)
        for frame in container.decode(stream):
            return frame
    except av.error.FFmpegError:
        return None
    return None


def probe_image(path: Path) -> tuple[int, int]:
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ProbeError("is not a readable image")
    h, w = image.shape[:2]
    return int(w), int(h)
