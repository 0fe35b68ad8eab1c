"""Can rows be spliced on the source's own GOPs? The check, and what splicing needs from it.

A source whose keyframes already come at short intervals need not be normalised: a row can
copy the source's own GOPs (its original packets, bit-exact) and re-encode only the GOPs
with changed frames, as long as those re-encoded GOPs can sit between the copied ones in
one H.264 stream. They get their own parameter sets (`sps-id=1`, the source's keep their
ids), both pairs go into the output's avcC, and the re-encoded packets' DTS are moved back
by the source's decoding delay so DTS stay monotone across every join.

That works only for a source laid out like this (`inspect` measures each from the packets
and the parameter sets, nothing decoded but the first frame; the first rule broken is the
reason the plan gives for normalising instead):

- H.264 in an avcC (MP4/MOV), one SPS and one PPS, 4-byte NAL lengths;
- Baseline, Main or High profile, 8-bit 4:2:0, progressive (frame_mbs_only), video range,
  square (or undeclared) pixels, no display matrix (a turned picture is normalised upright);
- every keyframe an IDR, no other IDR, no recovery-point SEI (no open-GOP entry), no in-band
  parameter set other than the avcC's own bytes, nothing the demuxer discards (edit list);
- each GOP closed in presentation order (its IDR shows first; every frame before the next
  IDR), one decoding delay (IDR pts − dts) for every GOP, and each GOP's last DTS at or
  below its last PTS minus that delay (so a re-encoded run can follow it);
- constant frame rate (every frame interval within one tick of the others);
- no GOP longer than `MAX_GOP_FRAMES` frames (a row re-encodes whole GOPs: longer ones
  cost more per row than normalising once; see the constant).
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vpipe.data.media import GopIndex, GopLayout
from vpipe.media import h264_syntax as h264

if TYPE_CHECKING:
    from vpipe.media.normalize import EncoderSettings

# The longest GOP spliced as it is. A row re-encodes every GOP its slot touches, so its video
# costs more the longer they are, while the normalised path re-encodes 12-frame GOPs but pays
# one shared normalisation (1.4-1.6 s CPU for 5 s of source, 7.7-9.1 s for 29 s) and copies
# second-generation frames. Measured (benchmarks/own_gops.py: a 26-frame window's pictures +
# its splice, median CPU seconds, own ÷ normalised, glasses clip at 5 s and 29 s): 12 frames
# 0.90-0.94×, 25 frames 1.05-1.07×, 50 frames 1.64-1.85×, 100 frames 2.19-2.22×. 25 is the
# longest measured length at which a row costs about what a normalised one does.
MAX_GOP_FRAMES = 25
PROFILES = {66: "baseline", 77: "main", 100: "high"}


def inspect(path: Path, max_gop: int = MAX_GOP_FRAMES) -> GopLayout:
    """The source's GOP layout and whether rows can be spliced on it (`reason` says why not)."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return GopLayout.refused("it has no video stream")
            stream = container.streams.video[0]
            if stream.codec_context.name != "h264":
                return GopLayout.refused(f"it is {stream.codec_context.name}, not H.264")
            facts = _parameter_sets(bytes(stream.codec_context.extradata or b""))
            if isinstance(facts, str):
                return GopLayout.refused(facts)
            avcc, sps = facts
            first = next(container.decode(stream), None)
            if first is None:
                return GopLayout.refused("it has no video frame")
            if round(float(getattr(first, "rotation", 0) or 0)) % 360:
                return GopLayout.refused("it carries a display matrix (a turned picture)")
            container.seek(0)
            packets = _packets(container, stream, avcc)
            tb = stream.time_base or Fraction(1, 90000)
    except (av.error.FFmpegError, h264.H264SyntaxError) as exc:
        return GopLayout.refused(f"it cannot be read as H.264 ({exc})")
    if isinstance(packets, str):
        return GopLayout.refused(packets)
    return _timing(packets, sps, tb, max_gop)


def _parameter_sets(extradata: bytes) -> tuple[h264.Avcc, h264.Sps] | str:
    if not extradata or extradata[0] != 1:
        return "its parameter sets are in-band (Annex B), not in an avcC"
    avcc = h264.parse_avcc(extradata)
    if len(avcc.sps) != 1 or len(avcc.pps) != 1:
        return f"its avcC has {len(avcc.sps)} SPS and {len(avcc.pps)} PPS, not one of each"
    if avcc.length_size != 4:
        return f"its NAL units have {avcc.length_size}-byte lengths, not 4"
    sps = h264.parse_sps(avcc.sps[0])
    if h264.pps_ids(avcc.pps[0])[1] != sps.sps_id:
        return "its PPS refers to another SPS"
    if sps.sps_id != 0 or h264.pps_ids(avcc.pps[0])[0] != 0:
        return "its parameter sets do not have id 0 (the re-encoded GOPs take id 1)"
    if (sps.chroma_format_idc, sps.bit_depth_luma, sps.bit_depth_chroma) != (1, 8, 8):
        return f"it is not 8-bit 4:2:0 (chroma_format_idc {sps.chroma_format_idc}, {sps.bit_depth_luma}-bit)"
    if sps.profile_idc not in PROFILES:
        return f"its profile_idc is {sps.profile_idc}, not Baseline, Main or High"
    if not sps.frame_mbs_only:
        return "it is interlaced (field or MBAFF coding)"
    if sps.full_range:
        return "it is full range (video range is spliced)"
    if sps.sar is not None and sps.sar[0] != sps.sar[1] and sps.sar != (0, 0):
        return f"its pixels are not square (sample aspect ratio {sps.sar[0]}:{sps.sar[1]})"
    if sps.width % 2 or sps.height % 2:
        return f"it is {sps.width}×{sps.height}; the re-encoded GOPs' 4:2:0 needs an even size"
    return avcc, sps


def _packets(container: Any, stream: Any, avcc: h264.Avcc) -> list[tuple[int, int, bool]] | str:
    """(pts, dts, is IDR) of every packet in decode order, or why the packets do not qualify."""
    allowed = {bytes(avcc.sps[0]), bytes(avcc.pps[0])}
    out: list[tuple[int, int, bool]] = []
    for packet in container.demux(stream):
        if not packet.size:
            continue
        if packet.is_discard:
            return "its edit list discards packets"
        if packet.pts is None or packet.dts is None:
            return "a packet has no timestamp"
        units = h264.nal_units(bytes(packet), 4)
        if not units:
            return f"packet {len(out)} is not length-prefixed as its avcC says"
        types = [u[0] & 31 for u in units]
        idr = h264.NAL_IDR in types
        if idr != bool(packet.is_keyframe):
            return f"packet {len(out)}: {'an IDR not marked' if idr else 'a keyframe that is not an IDR (open GOP)'}"
        for unit, kind in zip(units, types, strict=True):
            if kind in (h264.NAL_SPS, h264.NAL_PPS) and bytes(unit) not in allowed:
                return f"packet {len(out)} carries other parameter sets in-band"
            if kind == h264.NAL_SEI and h264.SEI_RECOVERY_POINT in h264.sei_payload_types(bytes(unit)):
                return f"packet {len(out)} has a recovery-point SEI (open-GOP or gradual refresh entry)"
        out.append((int(packet.pts), int(packet.dts), idr))
    if not out:
        return "it has no video packet"
    if not out[0][2]:
        return "its first packet is not an IDR"
    return out


def _timing(packets: list[tuple[int, int, bool]], sps: h264.Sps, tb: Fraction, max_gop: int) -> GopLayout:
    """Long on purpose: each GOP rule in turn over the same arrays, each refusal with its figure."""
    pts = np.asarray([p for p, _, _ in packets], np.int64)
    dts = np.asarray([d for _, d, _ in packets], np.int64)
    starts = np.flatnonzero([k for _, _, k in packets])
    ends = np.append(starts[1:], len(packets))
    lengths = ends - starts
    if int(lengths.max()) > max_gop:
        return GopLayout.refused(f"its longest GOP is {int(lengths.max())} frames (more than {max_gop})")
    if np.any(np.diff(dts) <= 0):
        return GopLayout.refused("its DTS are not strictly increasing")
    delays = pts[starts] - dts[starts]
    if np.unique(delays).shape[0] != 1 or int(delays[0]) < 0:
        return GopLayout.refused("its GOPs do not share one decoding delay")
    delay = int(delays[0])
    for a, b in zip(starts, ends, strict=True):
        group = pts[a:b]
        if int(group.min()) != int(pts[a]) or (b < len(pts) and int(group.max()) >= int(pts[b])):
            return GopLayout.refused(f"the GOP at packet {int(a)} is open (frames shown across its IDR)")
        if int(dts[b - 1]) > int(group.max()) - delay:
            return GopLayout.refused(f"the GOP at packet {int(a)} decodes its last frame too late for a join")
    shown = np.sort(pts)
    steps = np.diff(shown)
    if steps.shape[0] and (int(steps.min()) <= 0 or int(steps.max()) - int(steps.min()) > 1):
        return GopLayout.refused(f"its frame rate is not constant (intervals {int(steps.min())}-{int(steps.max())} ticks)")
    step = Fraction(int(np.median(steps)) if steps.shape[0] else 1) * tb
    rate = (1 / step).limit_denominator(1001) if step else Fraction(25)
    return GopLayout(
        eligible=True,
        reason="",
        frames=len(packets),
        gops=int(starts.shape[0]),
        longest_gop=int(lengths.max()),
        delay=delay,
        time_base=(tb.numerator, tb.denominator),
        rate=(rate.numerator, rate.denominator),
        width=sps.width,
        height=sps.height,
        profile=PROFILES[sps.profile_idc],
        level=sps.level_idc,
        refs=max(1, sps.max_num_ref_frames),
        colour=sps.colour or (2, 2, 2),
        range_declared=sps.full_range is not None,
    )


def combined_avcc(source: bytes, encoder: bytes) -> bytes:
    """The output's avcC: the source's record with the re-encoding encoder's SPS and PPS added
    after its own (their ids differ: the source's are 0, the encoder's 1); the header fields
    and the High-profile tail are the source's, byte for byte."""
    record = h264.parse_avcc(source)
    added = h264.parameter_sets(encoder)
    sps = tuple(u for u in added if u[0] & 31 == h264.NAL_SPS)
    pps = tuple(u for u in added if u[0] & 31 == h264.NAL_PPS)
    ids = {h264.parse_sps(u).sps_id for u in record.sps} & {h264.parse_sps(u).sps_id for u in sps}
    if ids or {h264.pps_ids(u)[0] for u in record.pps} & {h264.pps_ids(u)[0] for u in pps}:
        raise ValueError("the encoder's parameter sets reuse the source's ids")
    combined = h264.Avcc(
        record.profile, record.compatibility, record.level, record.length_size,
        record.sps + sps, record.pps + pps, record.tail,
    )  # fmt: skip
    return combined.to_bytes()


def keeps_parameter_sets(output: bytes, source: bytes) -> bool:
    """Whether a stream with avcC `output` decodes the source's packets exactly as the source
    does: the same header and tail, every SPS and PPS of the source in it byte for byte, and
    no other parameter set in it taking one of their ids (an equal avcC qualifies, as a
    normalised stream's does)."""
    try:
        out, src = h264.parse_avcc(output), h264.parse_avcc(source)
        header = (out.profile, out.compatibility, out.level, out.length_size, out.tail)
        if header != (src.profile, src.compatibility, src.level, src.length_size, src.tail):
            return False
        if not set(src.sps) <= set(out.sps) or not set(src.pps) <= set(out.pps):
            return False
        sps_ids = {h264.parse_sps(u).sps_id for u in src.sps}
        pps_ids = {h264.pps_ids(u)[0] for u in src.pps}
        return not any(h264.parse_sps(u).sps_id in sps_ids for u in out.sps if u not in src.sps) and not any(
            h264.pps_ids(u)[0] in pps_ids for u in out.pps if u not in src.pps
        )
    except (h264.H264SyntaxError, IndexError):
        return False


def _references(settings: EncoderSettings, most: int) -> int:
    """The reference count to ask x264 for: its preset's own (0: left to it) unless that is
    more than the source's SPS allows, then the source's. The re-encoded GOPs then never need
    a larger decoded picture buffer than the source's (asking for the source's count always
    would cost: 4 references instead of veryfast's 1 encode ~30 % slower)."""
    from vpipe.media.normalize import new_encoder

    sps = h264.parse_sps(next(u for u in h264.parameter_sets(new_encoder(settings).extradata) if u[0] & 31 == h264.NAL_SPS))
    return 0 if sps.max_num_ref_frames <= most else most


def own_index(path: Path, layout: GopLayout, crf: int, preset: str, pictures: Path) -> GopIndex:
    """The GOP table of the source itself (presentation order, from its packets) and the
    encoder settings its re-encoded GOPs are made with (`layout`: what `inspect` found);
    `pictures`: the folder first_generation keeps the re-encoded GOPs' pictures in."""
    from vpipe.media.normalize import EncoderSettings, gop_table

    primaries, transfer, matrix = layout.colour
    settings = EncoderSettings(
        layout.width,
        layout.height,
        layout.time_base,
        layout.rate,
        crf,
        preset,
        layout.longest_gop,  # the re-encoded runs keep keyframes as close as the source's
        None,
        (matrix, primaries, transfer),  # FFmpeg's order: colour space, primaries, transfer
        profile=layout.profile,
        level=layout.level,
        sps_id=1,
        dts_delay=layout.delay,
        tag_range=layout.range_declared,
    )
    encoder = replace(settings, refs=_references(settings, layout.refs))
    table = gop_table(path)
    n = int(table.pts.shape[0])
    return GopIndex(
        path,
        encoder.to_json(),
        table.starts,
        table.digests,
        table.pts,
        np.full(n, 99.0, np.float32),  # the copied frames are the source's own: no loss to report
        path.stat().st_size,
        own=True,
        pictures=pictures,
    )
