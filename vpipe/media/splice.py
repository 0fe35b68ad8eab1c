"""Write a row's video by splicing the GOPs of a normalised source (or of the source itself,
when its own GOPs qualify: `source_gops.py`; its packets are then copied bit-exact and the
re-encoded GOPs carry parameter sets of their own, joined in one avcC, with their DTS moved
back by the source's decoding delay).

A GOP of the normalised stream whose frames all appear in the output unchanged, in order,
each at its own time plus one constant shift (an elastic slot before it moves it), is
*copied*: its packets go into the output as they are, re-timestamped. Every other GOP —
one with a re-rendered frame, or inside an elastic window whose frames are repeated,
skipped or interpolated — is decoded and *re-encoded* with a fresh encoder of exactly the
normalised stream's settings (so both share one set of H.264 parameter sets), runs of
changed GOPs as one segment starting with an IDR. A re-encoded GOP's unchanged frames are
encoded from the recording's own pictures (`first_generation.py`), so they are as close to
the recording as the copied ones. The new audio is encoded first (it is small) and
interleaved with the video as it is written; the file is faststart MP4.

One pass over the normalised stream's packets, nothing of it decoded; the re-encoded GOPs'
pictures are read memory-mapped: memory does not grow with the length of the source.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from vpipe import faults, phases
from vpipe.atomic import atomic_path
from vpipe.data.audio import Audio
from vpipe.data.media import Frames, GopIndex
from vpipe.media.aac_row import row_packets
from vpipe.media.first_generation import FirstGenerationError, as_frame, recording_pictures, store_folder
from vpipe.media.h264_syntax import length_prefixed, parameter_sets
from vpipe.media.normalize import EncoderSettings, new_encoder
from vpipe.media.write import (
    VideoSettings,
    WriteError,
    _add_audio_stream,
    _reason,
    _set_metadata,
    video_frame,
)


@dataclass(frozen=True)
class SplicePlan:
    """Per output frame: its timestamp; per normalised GOP: copied (with a pts offset) or not.
    `segments` are output frame ranges [k0, k1) that are re-encoded."""

    out_pts: np.ndarray  # int64, strictly increasing
    copy_offset: dict[int, int]  # GOP → pts offset of its copy
    copy_at: dict[int, int]  # GOP → output index of its first frame
    segments: list[tuple[int, int]]

    @property
    def reencoded_frames(self) -> int:
        return sum(b - a for a, b in self.segments)

    def to_json(self, index: GopIndex, gop: int) -> dict[str, object]:
        untouched = [int(s) for g in self.copy_at for s in range(*index.gop_range(g))]
        return {
            "gop": gop,
            # GOP, its first output frame, the digest its packets must have in the output
            "copied": [[g, self.copy_at[g], index.digests[g]] for g in sorted(self.copy_at)],
            "reencoded": [[a, b] for a, b in self.segments],
            "reencoded_frames": self.reencoded_frames,
            "frames": int(self.out_pts.shape[0]),
            # the normalisation's luma PSNR against the recording, over the copied frames
            "copied_source_psnr_min_db": float(index.psnr[untouched].min()) if untouched else 99.0,
        }


def output_pts(times: np.ndarray, time_base: Fraction) -> np.ndarray:
    """The timestamps the output frames are written with (strictly increasing)."""
    out_pts = np.rint(np.asarray(times, np.float64) / float(time_base)).astype(np.int64)
    for k in range(1, out_pts.shape[0]):  # rounding of very close times
        if out_pts[k] <= out_pts[k - 1]:
            out_pts[k] = out_pts[k - 1] + 1
    return out_pts


def plan_splice(frames: Frames, index: GopIndex, time_base: Fraction) -> SplicePlan:
    out_pts = output_pts(frames.times, time_base)
    n = out_pts.shape[0]
    src = np.asarray(frames.source_index, np.int64)
    gop_of = index.gop_of(src)
    rendered = np.zeros(n, bool)
    if frames.rendered:
        rendered[list(frames.rendered)] = True
    copy_offset: dict[int, int] = {}
    copy_at: dict[int, int] = {}
    changed = np.ones(n, bool)
    k = 0
    while k < n:  # runs of output frames drawn from one GOP (the timeline is monotone in source frames)
        g = int(gop_of[k])
        end = k
        while end < n and gop_of[end] == g:
            end += 1
        first, last = index.gop_range(g)
        run = src[k:end]
        if (
            end - k == last - first
            and np.array_equal(run, np.arange(first, last))
            and not rendered[k:end].any()
            and np.unique(out_pts[k:end] - index.pts[first:last]).shape[0] == 1
        ):
            copy_offset[g] = int(out_pts[k] - index.pts[first])
            copy_at[g] = k
            changed[k:end] = False
        k = end
    segments: list[tuple[int, int]] = []
    k = 0
    while k < n:
        if changed[k]:
            start = k
            while k < n and changed[k]:
                k += 1
            segments.append((start, k))
        else:
            k += 1
    return SplicePlan(out_pts, copy_offset, copy_at, segments)


def splice(
    frames: Frames,
    normalized: Path,
    index: GopIndex,
    audio: Audio,
    target: Path,
    settings: VideoSettings,
    sound: RowSound | None = None,
) -> dict[str, object]:
    """Write `frames` (times and pixels) to `target` from the normalised stream; returns the
    splice report (copied GOPs with their output position, re-encoded output ranges; the
    sound's splice under "audio"). `sound`: what the row's sound was made from, to splice its
    AAC packets too (without it, the whole track is encoded)."""
    import av

    encoder = EncoderSettings.from_json(dict(index.encoder))
    tb = Fraction(*encoder.time_base)
    plan = plan_splice(frames, index, tb)
    src_index = np.asarray(frames.source_index, np.int64)
    n = len(plan.out_pts)
    shown = [(a, min(b + lookahead_frames(encoder), n)) for a, b in plan.segments]  # what each encoder sees
    gops = {int(g) for a, b in shown for g in index.gop_of(src_index[a:b])}
    try:
        pictures = recording_pictures(index, normalized, gops)
    except (FirstGenerationError, OSError, ValueError) as exc:
        raise WriteError(f"cannot read the recording's own frames: {exc}") from None
    try:
        with (
            atomic_path(target) as tmp,
            av.open(str(normalized)) as src,
            av.open(str(tmp), "w", options={"movflags": "+faststart"}) as out,
        ):
            in_video = src.streams.video[0]
            vs = out.add_stream_from_template(in_video)  # the normalised stream's avcC, packets as they are
            _join_parameter_sets(vs, in_video, encoder)
            audio_stream, rate = _add_audio_stream(out, audio, target, settings.audio_bitrate_kbps)
            _set_metadata(out, settings)
            sound = sound or RowSound()
            pending, audio_report = row_packets(  # a few hundred kB even for minutes
                audio_stream, rate, audio, settings.audio_bitrate_kbps, sound.recording, sound.shifts, sound.store
            )
            muxer = _Interleaver(out, pending)
            _write_video(src, in_video, vs, muxer, frames, pictures, plan, encoder, tb)
            muxer.finish()
    except (av.error.FFmpegError, OSError) as exc:
        raise WriteError(f"cannot write {target.name}: {_reason(exc)}") from None
    report = {**plan.to_json(index, encoder.gop), "audio": audio_report}
    report["own_gops"] = index.own  # the copied GOPs are the recording's own packets
    # QC compares the re-encoded frames with the same pictures they were encoded from
    report["first_generation"] = {
        "folder": str(store_folder(normalized, index)),
        "gops": [list(index.gop_range(g)) for g in sorted(gops)],  # source frames [first, end)
    }
    return report


def _join_parameter_sets(vs: Any, in_video: Any, encoder: EncoderSettings) -> None:
    """Make the output's avcC hold the parameter sets of both the copied and the re-encoded
    GOPs. A normalised stream's are the encoder's own (equal settings, equal bytes); a source
    spliced on its own GOPs keeps its avcC and gets the encoder's (id 1) added."""
    made = new_encoder(encoder).extradata
    source = bytes(in_video.codec_context.extradata or b"")
    if not encoder.sps_id:
        if parameter_sets(made) != parameter_sets(source):
            raise WriteError("the encoder's parameter sets differ from the normalised stream's")
        return
    from vpipe.media.source_gops import combined_avcc

    try:
        vs.codec_context.extradata = combined_avcc(source, made)
    except ValueError as exc:  # also H264SyntaxError
        raise WriteError(f"cannot join the parameter sets: {exc}") from None


@dataclass(frozen=True)
class RowSound:
    """What a row's sound was made from: the recording, the shifts (in samples) its stretches
    have in the row, and the store its shared encodes are kept in."""

    recording: Audio | None = None
    shifts: tuple[int, ...] = ()
    store: Path | None = None


class _Interleaver:
    """Mux audio packets as the video reaches their time (bounded muxer buffering)."""

    def __init__(self, out: Any, audio: list[Any]) -> None:
        self.out, self.audio, self.next = out, audio, 0
        self.times = [_seconds(p) for p in audio]  # once each (a packet's time base is a new Fraction per read)

    def video(self, packet: Any, seconds: float) -> None:
        while self.next < len(self.audio) and self.times[self.next] <= seconds:
            self.out.mux(self.audio[self.next])
            self.next += 1
        self.out.mux(packet)

    def finish(self) -> None:
        faults.point("mux")  # the rest of the audio being muxed
        for packet in self.audio[self.next :]:
            self.out.mux(packet)


def _seconds(packet: Any) -> float:
    return seconds_of(packet.pts, packet.time_base) if packet.pts is not None else 0.0


def seconds_of(pts: int, tb: Fraction) -> float:
    """`float(pts * tb)` without making a Fraction: the same correctly rounded quotient of the
    same integers (Fraction's float is its numerator / denominator, and reducing them by their
    gcd does not change the quotient); ~10× faster, and it runs per packet of the whole file."""
    return pts * tb.numerator / tb.denominator


def _write_video(
    src: Any,
    in_video: Any,
    vs: Any,
    muxer: _Interleaver,
    frames: Frames,
    pictures: dict[int, np.ndarray],
    plan: SplicePlan,
    encoder: EncoderSettings,
    tb: Fraction,
) -> None:
    """Copy the copied GOPs' packets and encode each re-encoded segment once the copy has
    reached it (so packets go out in time order); the segments' unchanged frames are the
    recording's own pictures (`pictures`, first generation), not decoded from the stream."""
    src_index = np.asarray(frames.source_index, np.int64)
    next_segment = 0
    for g, packets in _gops(src, in_video):
        if g not in plan.copy_offset:
            continue
        # the output is in source order: segments that come before this GOP's copy go first
        while next_segment < len(plan.segments) and plan.segments[next_segment][0] < plan.copy_at[g]:
            _encode_segment(plan.segments[next_segment], frames, src_index, pictures, plan, encoder, vs, muxer, tb)
            next_segment += 1
        offset = plan.copy_offset[g]
        for packet in packets:
            packet.pts += offset
            packet.dts += offset
            packet.stream = vs
            packet.time_base = tb
            muxer.video(packet, seconds_of(packet.pts, tb))
    while next_segment < len(plan.segments):
        _encode_segment(plan.segments[next_segment], frames, src_index, pictures, plan, encoder, vs, muxer, tb)
        next_segment += 1


def _gops(src: Any, stream: Any) -> Iterator[tuple[int, list[Any]]]:
    group: list[Any] = []
    g = -1
    for packet in src.demux(stream):
        if packet.dts is None or not packet.size:
            continue
        if packet.is_keyframe and group:
            yield g, group
            group = []
        if packet.is_keyframe:
            g += 1
        group.append(packet)
    if group:
        yield g, group


def _encode_segment(
    segment: tuple[int, int],
    frames: Frames,
    src_index: np.ndarray,
    pictures: dict[int, np.ndarray],
    plan: SplicePlan,
    encoder: EncoderSettings,
    vs: Any,
    muxer: _Interleaver,
    tb: Fraction,
) -> None:
    import av
    from av.video.frame import PictureType

    enc = new_encoder(encoder)

    def emit(packets: list[Any]) -> None:
        for packet in packets:
            muxed = av.Packet(length_prefixed(bytes(packet)))  # the MP4 stream's NAL framing (avcC)
            muxed.pts, muxed.is_keyframe = packet.pts, packet.is_keyframe
            # no B-frames here (dts = pts); beside a source's own GOPs, DTS sit its decoding delay
            # before PTS as the source's do, so they stay monotone across both joins
            muxed.dts = packet.dts - encoder.dts_delay
            muxed.stream = vs
            muxed.time_base = tb
            muxer.video(muxed, seconds_of(muxed.pts, tb))

    before = sum(b - a for a, b in plan.segments if b <= segment[0])  # re-encoded in earlier segments
    for k in range(*segment):
        image = frames.rendered.get(k)
        if image is not None:
            frame = video_frame(image, "yuv420p")
        else:
            picture = pictures.get(int(src_index[k]))
            if picture is None:
                raise WriteError(f"source frame {int(src_index[k])} is missing from the recording")
            frame = as_frame(picture)
        frame.pict_type = PictureType.NONE  # a decoded IDR must not force a keyframe: the encoder decides
        frame.pts = int(plan.out_pts[k])
        frame.time_base = tb
        emit(enc.encode(frame))
        phases.advance(before + k - segment[0] + 1, plan.reencoded_frames)
        if k == segment[0] + 5:
            faults.point("encode")  # a segment's first frames written into the temporary file
    end_pts = int(plan.out_pts[segment[1] - 1])
    for k in range(segment[1], min(segment[1] + lookahead_frames(encoder), len(plan.out_pts))):
        # the frames after the segment are encoded too and their packets dropped (no B-frames:
        # nothing kept refers to them). A stream's last frames get CRF's coarsest quantisers
        # (nothing ahead to refer to them), which here would be every segment's last frames,
        # each time: on the quickstart 45.6 dB against the recording instead of 48.3 dB
        frame = as_frame(pictures[int(src_index[k])])
        frame.pts, frame.time_base = int(plan.out_pts[k]), tb
        emit([p for p in enc.encode(frame) if p.pts <= end_pts])
    emit([p for p in enc.encode(None) if p.pts <= end_pts])


def lookahead_frames(encoder: EncoderSettings) -> int:
    """How many frames after a re-encoded segment its encoder is shown (and their packets
    dropped): half a GOP, at most 6 frames. Measured on the quickstart (24 frames re-encoded,
    their worst frame against the recording): none 45.6 dB, 3 frames 47.3, 6 frames 47.9, 12
    frames 48.3 dB (as in the full encode), at 0.54, 0.67, 0.91, 0.99 s CPU. A source spliced on
    its own longer GOPs (25-50 frames) would otherwise be shown 12-25 more frames per segment
    for the last few tenths of a dB."""
    return max(1, min(encoder.gop, 12) // 2)
