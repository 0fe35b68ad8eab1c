"""Normalise a source once so rows can be spliced on its GOPs.

Most recordings have one keyframe (or a few), so nothing can be cut out of them without
decoding from the start. Normalising re-encodes the source once — shared by every row and
cached — as H.264 High, yuv420p, with a fixed *closed* GOP of `gop` frames (an IDR every
`gop` frames, no B-frames so decode order is presentation order) at the output's own
quality. A row then re-encodes only the GOPs that contain changed frames, with exactly
these encoder settings, and copies every other GOP's packets (see `splice.py`).

A source that already has short closed GOPs of a stream the splice can join needs none of
this: the own-gops pass splices rows on its own GOPs instead (`source_gops.py` has the rules).
Every recording we have has one keyframe (or a few, far apart), so they are normalised, and
the pass's remark says why.

The normalised stream is what a viewer of the source sees, in the one layout splicing needs:
a display matrix (phone videos) is applied (the pictures are turned upright, plane by plane),
full-range and 10-bit samples are converted to 8-bit video range, and the sample aspect ratio
is kept (it is part of the parameter sets, so spliced GOPs carry it too).

The normalised frames keep the source's own presentation timestamps (variable frame rate
included) and the luma PSNR of each frame against the source frame is measured once, here,
so QC can report what every copied frame's quality is without decoding it.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from vpipe.atomic import atomic_path


class NormalizeError(Exception):
    pass


@dataclass(frozen=True)
class EncoderSettings:
    """Everything that decides the H.264 parameter sets: equal settings give byte-equal SPS/PPS,
    which is what lets re-encoded GOPs sit between copied ones in one stream."""

    width: int
    height: int
    time_base: tuple[int, int]
    rate: tuple[int, int]  # nominal frame rate (level and VUI timing; not the frame times)
    crf: int
    preset: str
    gop: int
    sar: tuple[int, int] | None = None  # sample aspect ratio; None: square pixels
    # the source's declared colour (FFmpeg's AVColorSpace, AVColorPrimaries, AVColorTransfer-
    # Characteristic; 2 = unspecified): the samples keep their matrix, so the tags must stay
    color: tuple[int, int, int] = (2, 2, 2)
    # Splicing on the source's own GOPs (media/source_gops.py): the re-encoded GOPs' SPS must
    # match the source's (profile, level_idc, reference count) under their own id, and their
    # packets' DTS sit `dts_delay` ticks before their PTS, as the source's IDRs do. The
    # defaults are the normalised stream's (x264 chooses; id 0; no delay).
    profile: str = ""
    level: int = 0
    refs: int = 0
    sps_id: int = 0
    dts_delay: int = 0
    tag_range: bool = True  # write video range into the VUI (the source said nothing: neither do we)

    def options(self) -> dict[str, str]:
        params = f"keyint={self.gop}:min-keyint={self.gop}:scenecut=0:bframes=0:open-gop=0"
        if self.sps_id:
            params += f":sps-id={self.sps_id}"
        if self.refs:
            params += f":ref={self.refs}"
        if self.level:
            params += f":level={self.level / 10:.1f}"
        options = {"crf": str(self.crf), "preset": self.preset, "x264-params": params}
        if self.profile:
            options["profile"] = self.profile
        return options

    def to_json(self) -> dict[str, Any]:
        return {
            "width": self.width,
            "height": self.height,
            "time_base": list(self.time_base),
            "rate": list(self.rate),
            "crf": self.crf,
            "preset": self.preset,
            "gop": self.gop,
            "sar": list(self.sar) if self.sar else None,
            "color": list(self.color),
            **self._own_json(),
        }

    def _own_json(self) -> dict[str, Any]:
        """The own-GOP fields, only when set: a normalised stream's settings (and so the cache
        entries keyed by them) stay what they were."""
        own = {"profile": self.profile, "level": self.level, "refs": self.refs, "sps_id": self.sps_id}
        own |= {"dts_delay": self.dts_delay, "tag_range": self.tag_range}
        return own if self.sps_id else {}

    @staticmethod
    def from_json(data: dict[str, Any]) -> EncoderSettings:
        return EncoderSettings(
            int(data["width"]),
            int(data["height"]),
            (int(data["time_base"][0]), int(data["time_base"][1])),
            (int(data["rate"][0]), int(data["rate"][1])),
            int(data["crf"]),
            str(data["preset"]),
            int(data["gop"]),
            (int(data["sar"][0]), int(data["sar"][1])) if data.get("sar") else None,
            tuple(int(c) for c in data.get("color") or (2, 2, 2)),  # type: ignore[arg-type]
            str(data.get("profile", "")),
            int(data.get("level", 0)),
            int(data.get("refs", 0)),
            int(data.get("sps_id", 0)),
            int(data.get("dts_delay", 0)),
            bool(data.get("tag_range", True)),
        )


def new_encoder(settings: EncoderSettings):  # type: ignore[no-untyped-def]
    """A fresh libx264 encoder with these settings (global headers, as an MP4 stream has)."""
    import av

    cc = av.CodecContext.create("libx264", "w")
    _configure(cc, settings)
    cc.flags |= av.codec.context.Flags.global_header
    cc.open()
    return cc


def _configure(cc, settings: EncoderSettings) -> None:  # type: ignore[no-untyped-def]
    cc.width, cc.height, cc.pix_fmt = settings.width, settings.height, "yuv420p"
    cc.time_base = Fraction(*settings.time_base)
    cc.framerate = Fraction(*settings.rate)
    if settings.sar:
        cc.sample_aspect_ratio = Fraction(*settings.sar)
    if settings.tag_range:
        cc.color_range = 1  # video range: what `_planar` makes of every frame
    for name, value in zip(("colorspace", "color_primaries", "color_trc"), settings.color, strict=True):
        if value not in (0, 2):  # only what the source declared
            setattr(cc, name, value)
    cc.options = settings.options()


def add_video_stream(out, settings: EncoderSettings):  # type: ignore[no-untyped-def]
    """An output stream whose (opened) encoder has exactly these settings: its parameter sets
    are the stream's, whether its packets come from it, a fresh encoder, or a copy."""
    vs = out.add_stream("libx264", rate=Fraction(*settings.rate))
    vs.time_base = Fraction(*settings.time_base)
    _configure(vs.codec_context, settings)
    vs.codec_context.open()
    return vs


def nominal_rate(stream) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    rate = stream.average_rate or stream.guessed_rate or Fraction(25)
    rate = Fraction(rate).limit_denominator(1001)
    return rate.numerator, rate.denominator


def _declared_color(cc) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """The decoder's colour tags (matrix, primaries, transfer) as FFmpeg numbers."""
    return int(cc.colorspace), int(cc.color_primaries), int(cc.color_trc)


def can_normalize(width: int, height: int) -> bool:
    return width % 2 == 0 and height % 2 == 0 and width >= 16 and height >= 16


def _planar(frame):  # type: ignore[no-untyped-def]
    """The frame upright, as 8-bit video-range yuv420p."""
    import av

    from vpipe.media.decode import full_range, upright

    turned = upright(frame)
    if not isinstance(turned, av.VideoFrame):  # a 4:2:2 frame turned: came back as BGR
        from vpipe.media.convert import bgr_to_frame

        turned = bgr_to_frame(turned, "yuv420p")
    full = full_range(turned)
    if turned.format.name == "yuv420p" and not full:
        out = turned
    else:
        out = turned.reformat(format="yuv420p", src_color_range="JPEG" if full else "MPEG", dst_color_range="MPEG")
    out.pict_type = av.video.frame.PictureType.NONE  # the encoder decides: keyframes every `gop`
    return out


def normalize(source: Path, target: Path, crf: int, preset: str, gop: int) -> EncoderSettings:
    """Encode `source`'s video as the normalised stream at `target` (atomically)."""
    import av

    try:
        with av.open(str(source)) as src:
            stream = src.streams.video[0]
            stream.thread_type = "AUTO"
            tb = stream.time_base or Fraction(1, 90000)
            from vpipe.media.decode import quarter_turns

            first = next(src.decode(stream), None)
            if first is None:
                raise NormalizeError(f"{source.name} has no video frame")
            width, height = first.width, first.height
            sar = stream.sample_aspect_ratio if stream.sample_aspect_ratio and stream.sample_aspect_ratio != 1 else None
            if quarter_turns(first) % 2:  # seen the other way round
                width, height = height, width
                sar = 1 / sar if sar else None
            settings = EncoderSettings(
                width,
                height,
                (tb.numerator, tb.denominator),
                nominal_rate(stream),
                crf,
                preset,
                gop,
                (sar.numerator, sar.denominator) if sar else None,
                _declared_color(stream.codec_context),
            )
            if not can_normalize(settings.width, settings.height):
                raise NormalizeError(f"{settings.width}×{settings.height} cannot be H.264 yuv420p (odd size)")
            src.seek(0)
            with atomic_path(target) as tmp, av.open(str(tmp), "w") as out:
                vs = add_video_stream(out, settings)
                last = None
                for frame in src.decode(stream):
                    if frame.pts is None or (last is not None and frame.pts <= last):
                        continue  # the splice relies on strictly increasing timestamps
                    last = frame.pts
                    planar = _planar(frame)
                    planar.pts, planar.time_base = frame.pts, tb
                    for packet in vs.encode(planar):
                        out.mux(packet)
                for packet in vs.encode(None):
                    out.mux(packet)
    except av.error.FFmpegError as exc:
        raise NormalizeError(f"cannot normalise {source.name}: {exc}") from None
    return settings


@dataclass(frozen=True)
class GopTable:
    starts: np.ndarray  # int64 index of each GOP's first frame (presentation order)
    digests: tuple[str, ...]  # sha256 over each GOP's packets (their bytes, in order)
    pts: np.ndarray  # int64 presentation timestamp of every frame, sorted


def packet_groups(path: Path) -> Iterator[tuple[int, list[Any]]]:
    """(first frame index, packets) of each GOP of a normalised (or spliced) stream, by demuxing."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        group: list[Any] = []
        first = 0
        index = 0
        for packet in container.demux(stream):
            if packet.dts is None or not packet.size:
                continue
            if packet.is_keyframe and group:
                yield first, group
                group, first = [], index
            group.append(packet)
            index += 1
        if group:
            yield first, group


def gop_digest(packets: list[Any]) -> str:
    h = hashlib.sha256()
    for p in packets:
        h.update(bytes(p))
    return h.hexdigest()


def gop_table(path: Path) -> GopTable:
    starts: list[int] = []
    digests: list[str] = []
    pts: list[int] = []
    for first, packets in packet_groups(path):
        starts.append(first)
        digests.append(gop_digest(packets))
        pts.extend(int(p.pts) for p in packets)
    # presentation order: a source's own GOPs hold B-frames (closed GOPs: a GOP's frames are
    # the ones shown from its IDR to the next, so the starts counted in decode order hold)
    return GopTable(np.asarray(starts, np.int64), tuple(digests), np.sort(np.asarray(pts, np.int64)))


def frame_psnr(source: Path, normalized: Path) -> np.ndarray:
    """Luma PSNR of every normalised frame against the source frame (decoded side by side)."""
    from vpipe.media.decode import iter_decoded, luma

    out: list[float] = []
    for (_, _, a), (_, _, b) in zip(iter_decoded(source), iter_decoded(normalized), strict=False):
        mse = float(np.mean((luma(a) - luma(b)) ** 2))  # upright, 8-bit video range (float)
        out.append(99.0 if mse == 0 else min(99.0, 10 * math.log10(255.0**2 / mse)))
    return np.asarray(out, np.float32)
