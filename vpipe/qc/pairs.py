"""The (output frame, source frame) pairs QC compares, each picture decoded once.

A spliced output is the source's GOPs (the normalised stream's, or the recording's own:
copied, their packets re-timestamped) and re-encoded GOPs. QC compares the frames around the
edits (`measured_ranges`). A copied GOP decodes to exactly the source frames it was copied
from when

- its packets are the source GOP's (the digest the writer recorded),
- the output's avcC holds the source's parameter sets byte for byte and gives no other
  parameter set their ids (a normalised stream's avcC is equal to the output's; a source
  spliced on its own GOPs has the re-encoded GOPs' SPS/PPS added under id 1),
- its first packet is an IDR (nothing in it refers to a picture before it) that is shown
  first, and the source's GOPs are closed in presentation order (each GOP's frames are shown
  before the next IDR's: B-frames stay inside their GOP),
- the output frames it covers are paired with that GOP's source frames, one for one.

Those output frames are not decoded a second time: the source's decoded frame is paired with
itself (it *is* the output's picture). Everything else (the re-encoded frames, or a copied GOP
that fails any of the checks) is decoded from the output as before.

A re-encoded frame is compared with the recording's own picture it was encoded from
(`recording_pictures`), not with the normalised copy, whose own difference from the
recording would otherwise count twice; so the source's decoder seeks over the re-encoded
GOPs instead of decoding them. Same pictures, same measures: around one re-encoded run of
two GOPs, 48 frames are decoded where 96 were.

Short ranges are decoded on one thread: frame threads add ~20 % CPU for a few dozen frames,
and rows already run one per core. A large output's re-encoded runs are the exception: they
are cut at the IDRs inside them and decoded two segments at a time, each on a decoder of its
own (qc/output_segments.py).
"""

from __future__ import annotations

import bisect
import itertools
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vpipe.data.media import Frames, OutputFile
from vpipe.qc.copied_in_place import SourceGops, identical_gop, read_in_place
from vpipe.qc.kept_frames import KeptFrames
from vpipe.qc.output_segments import SegmentsAhead, cut, fresh_starts, helped

IDR = 5  # H.264 nal_unit_type of an IDR slice


def measured_ranges(splice: dict[str, Any], n: int) -> list[tuple[int, int]]:
    """Output frames QC decodes for a spliced file: each re-encoded range, one GOP either side
    (the seams and the natural frame-to-frame change around them), merged."""
    gop = int(splice.get("gop", 12))
    grown = sorted((max(0, int(a) - gop), min(n, int(b) + gop)) for a, b in splice.get("reencoded") or [])
    merged: list[tuple[int, int]] = []
    for a, b in grown:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def pairs_full(file: OutputFile, frames: Frames) -> Iterator[tuple[int, Any, Any]]:
    """(output index, output frame, source frame it shows) for every frame: both files decoded
    from the start."""
    from vpipe.media.decode import iter_decoded

    source = iter_decoded(frames.source)
    src_index, src_frame = -1, None
    for k, (_, _, frame) in enumerate(iter_decoded(file.path)):
        if k >= len(frames.times):
            break
        want = int(frames.source_index[k])
        while src_index < want:
            src_index, _, src_frame = next(source)
        yield k, frame, src_frame


@dataclass(frozen=True)
class CopiedGops:
    """What one pass over a spliced output's packets found."""

    copied: int  # GOPs the writer copied
    identical: int  # of them, those whose packets are the normalised stream's
    out_pts: np.ndarray  # every output frame's timestamp, presentation order
    intact: tuple[tuple[int, int, int], ...]  # (GOP, first output frame, frames) of the identical
    # ones that start with an IDR shown before every other frame of the GOP
    extradata: bytes  # the output video stream's avcC
    in_place: bool = False  # read in place: a plain MP4 a decoder may open unprobed (decode.UNPROBED)
    fresh_starts: tuple[int, ...] = ()  # re-encoded frames a decoder may start at (qc/output_segments.py)


@dataclass(frozen=True)
class StreamGops:
    """The source's GOP starts (frame indices in presentation order) and avcC."""

    starts: tuple[int, ...]
    extradata: bytes
    closed: bool  # every GOP's frames are shown from its IDR up to the next IDR (no frame across)


def nal_types(packet: bytes, length_size: int) -> list[int]:
    """nal_unit_type of each NAL unit of an MP4 (length-prefixed) H.264 packet."""
    types, i = [], 0
    while i + length_size < len(packet):
        size = int.from_bytes(packet[i : i + length_size], "big")
        i += length_size
        if size <= 0 or i + size > len(packet):
            return []  # not length-prefixed as the avcC says: no claim
        types.append(packet[i] & 0x1F)
        i += size
    return types


def _length_size(extradata: bytes) -> int | None:
    return (extradata[4] & 3) + 1 if len(extradata) > 6 and extradata[0] == 1 else None


def copied_gops(path: Path, splice: dict[str, Any], source: SourceGops | None = None) -> CopiedGops:
    """One pass over the output's packets, nothing decoded: each copied GOP's digest against
    the one the writer recorded, every frame's timestamp, and which identical GOPs are intact.
    A plain MP4 is read in place (qc/copied_in_place.py: the same figures, its copied GOPs
    compared with `source`'s, the source's GOPs hashed once per process); anything else demuxed."""
    expected = {int(k0): (int(g), str(d)) for g, k0, d in splice.get("copied") or []}
    inside = _inside_reencoded(splice)
    samples = read_in_place(path)
    if samples is None:
        return _copied_demuxed(path, expected, inside)
    length_size = _length_size(samples.extradata)
    same = 0
    intact: list[tuple[int, int, int]] = []
    fd = os.open(path, os.O_RDONLY)
    source_fd = os.open(source.samples.path, os.O_RDONLY) if source is not None else -1
    try:
        for i in range(len(samples.starts) - 1):
            first, end = samples.gop(i)
            if first not in expected:
                continue
            g, digest = expected[first]
            if not identical_gop(samples, fd, i, digest, g, source, source_fd):
                continue
            same += 1
            if _shown_first(
                samples.pts[first:end].tolist(), end - first, length_size, samples.read(fd, first, first + 1)
            ):
                intact.append((g, first, end - first))
        fresh = fresh_starts(
            samples.pts,
            (int(i) for i in samples.starts[:-1] if inside(int(i))),
            lambda i: bool(length_size and IDR in nal_types(samples.read(fd, i, i + 1), length_size)),
        )
    finally:
        os.close(fd)
        if source_fd >= 0:
            os.close(source_fd)
    return CopiedGops(len(expected), same, np.sort(samples.pts), tuple(intact), samples.extradata, True, fresh)


def _inside_reencoded(splice: dict[str, Any]) -> Callable[[int], bool]:
    """Whether an output frame lies inside a re-encoded run, past its first frame (where a
    run may be cut: qc/output_segments.py)."""
    runs = [(int(a), int(b)) for a, b in splice.get("reencoded") or []]
    return lambda k: any(a < k < b for a, b in runs)


def _shown_first(group_pts: list[int], packets: int, length_size: int | None, first_packet: bytes) -> bool:
    """A GOP whose every packet has its own timestamp, whose first packet is shown first and
    is an IDR slice."""
    shown_first = len(group_pts) == packets and len(set(group_pts)) == len(group_pts)
    shown_first = shown_first and min(group_pts) == group_pts[0]
    return bool(length_size and shown_first and IDR in nal_types(first_packet, length_size))


def _copied_demuxed(
    path: Path, expected: dict[int, tuple[int, str]], inside: Callable[[int], bool] = lambda k: False
) -> CopiedGops:
    """copied_gops by demuxing every packet (a file libavformat's index may not stand for)."""
    import av

    from vpipe.media.normalize import gop_digest, packet_groups

    extradata: bytes | None = None  # read from the first packet's stream: one open of the file, not two
    length_size: int | None = None
    same = 0
    pts: list[int] = []
    intact: list[tuple[int, int, int]] = []
    idrs: dict[int, bool] = {}  # GOP starts inside re-encoded runs: is the first packet an IDR
    counted = 0
    for first, packets in packet_groups(path):
        if extradata is None:
            extradata = bytes(packets[0].stream.codec_context.extradata or b"")
            length_size = _length_size(extradata)
        group_pts = [int(p.pts) for p in packets if p.pts is not None]
        counted += len(packets)
        if inside(first) and len(pts) == counted - len(packets) == first:
            idrs[first] = bool(length_size and IDR in nal_types(bytes(packets[0]), length_size))
        pts += group_pts
        if first not in expected or gop_digest(packets) != expected[first][1]:
            continue
        same += 1
        if _shown_first(group_pts, len(packets), length_size, bytes(packets[0])):
            intact.append((expected[first][0], first, len(packets)))
    if extradata is None:  # no packet at all
        with av.open(str(path)) as container:
            extradata = bytes(container.streams.video[0].codec_context.extradata or b"")
    # every packet timed: a sample's index in `pts` is its decoding index
    fresh = fresh_starts(np.asarray(pts, np.int64), idrs, idrs.__getitem__) if len(pts) == counted else ()
    return CopiedGops(len(expected), same, np.sort(np.asarray(pts, np.int64)), tuple(intact), extradata, False, fresh)


def stream_gops(path: Path) -> StreamGops:
    """The source's GOP starts, by demuxing (no pixels). A GOP's start counted in decode order
    is its start in presentation order too when the GOPs are closed (`closed` says whether)."""
    import av

    starts: list[int] = []
    spans: list[tuple[int, int]] = []  # (first, last) pts shown by each GOP
    closed = True
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        extradata = bytes(stream.codec_context.extradata or b"")
        index = 0
        for packet in container.demux(stream):
            if packet.dts is None or not packet.size:
                continue
            if packet.pts is None:
                closed = False
                continue
            if packet.is_keyframe:
                starts.append(index)
                spans.append((int(packet.pts), int(packet.pts)))
            elif spans:
                first, last = spans[-1]
                closed &= packet.pts > first  # shown after its GOP's IDR
                spans[-1] = (first, max(last, int(packet.pts)))
            index += 1
        starts.append(index)  # the end of the last GOP
    closed = closed and bool(spans) and all(a[1] < b[0] for a, b in itertools.pairwise(spans))
    return StreamGops(tuple(starts), extradata, closed)


def same_pictures(frames: Frames, found: CopiedGops, source: StreamGops) -> set[int]:
    """Output frames that are, picture for picture, the source frame QC pairs them with."""
    from vpipe.media.source_gops import keeps_parameter_sets

    if not (source.closed and found.extradata and keeps_parameter_sets(found.extradata, source.extradata)):
        return set()
    same: set[int] = set()
    for g, k0, n in found.intact:
        if not 0 <= g < len(source.starts) - 1:
            continue
        s0, s1 = source.starts[g], source.starts[g + 1]
        shown = np.asarray(frames.source_index[k0 : k0 + n], np.int64)
        if s1 - s0 == n and shown.shape[0] == n and np.array_equal(shown, np.arange(s0, s1)):
            same.update(range(k0, k0 + n))
    return same


class _Shown:
    """The source frames a range's output frames show, decoded forwards (the timeline is
    monotone in source frames), from the keyframe before the first one asked for. A frame a
    whole GOP or more ahead is reached by seeking to its keyframe instead of decoding the
    frames between, which nobody asked for (the re-encoded frames are compared with the
    recording's pictures): the normalised stream's GOPs are closed, so the pictures are the same."""

    def __init__(
        self,
        frames: Frames,
        src_pts: np.ndarray,
        keyframes: tuple[int, ...],
        probe: bool = True,
        kept: KeptFrames | None = None,
    ) -> None:
        self.frames, self.src_pts, self.keyframes, self.probe = frames, src_pts, keyframes, probe
        self.kept = kept if keyframes else None  # closed GOPs only (qc/kept_frames.py)
        self.decoded: Iterator[tuple[int, float, Any]] | None = None
        self.index, self.frame = -1, None

    def __call__(self, k: int) -> Any:
        from vpipe.media.decode import iter_decoded

        want = int(self.frames.source_index[k])
        if self.kept is not None and (picture := self.kept.get(want)) is not None:
            return picture  # the very frame a decoder gave for it in an earlier row
        if self.decoded is None or self._keyframe_before(want) > self.index:
            if self.decoded is not None:
                self.decoded.close()  # type: ignore[attr-defined]
            self.decoded = iter_decoded(self.frames.source, want, self.src_pts, threads=False, probe=self.probe)
            self.index = -1
        while self.index < want:
            self.index, _, self.frame = next(self.decoded)
        if self.kept is not None:
            self.kept.put(want, self.frame)
        return self.frame

    def _keyframe_before(self, frame: int) -> int:
        """The last GOP start at or before `frame` (-1 when the GOPs are not known: decode on)."""
        i = bisect.bisect_right(self.keyframes, frame) - 1
        return self.keyframes[i] if i >= 0 else -1


def pairs_spliced(
    file: OutputFile,
    frames: Frames,
    out_pts: np.ndarray,
    src_pts: np.ndarray,
    same: set[int],
    keyframes: tuple[int, ...] = (),
    copied: Callable[[int, int], Any] | None = None,
    probe: tuple[bool, bool] = (True, True),
    kept: KeptFrames | None = None,
    fresh: tuple[int, ...] = (),
) -> Iterator[Any]:
    """Like pairs_full, but only around the re-encoded GOPs (seeking both files there); an
    output frame in `same` is its source frame (see the module docstring), decoded once.
    `out_pts` are the output's own frame timestamps as its packets carry them (a muxer may
    shift them from the ones the writer asked for: a source that does not start at 0).
    copied(k, b): for a frame k in `same`, what stands for the copied GOP that starts there
    and ends before b without decoding it (qc/copied_figures.py), or None; it is yielded in
    place of that GOP's pairs (anything with a `frames` count). probe: whether the output and
    the source are opened probed (False: plain MP4s, decode.UNPROBED). kept: the source frames
    earlier rows decoded, taken instead of decoding them again when `keyframes` are known
    (the source's GOPs are closed), and this row's kept for later ones (qc/kept_frames.py).
    fresh: output frames a decoder may start at (CopiedGops.fresh_starts): a large output's
    runs of frames to decode are cut there and decoded two at a time (qc/output_segments.py)."""
    recording = recording_pictures(file.splice or {})
    reencoded = [(int(r0), int(r1)) for r0, r1 in (file.splice or {}).get("reencoded") or []]

    def reference(j: int, shown: _Shown) -> Any:
        # a re-encoded frame against the recording's picture it was encoded from (the normalised
        # copy differs from the recording too, and that difference would count twice)
        if any(r0 <= j < r1 for r0, r1 in reencoded):
            picture = recording.get(int(frames.source_index[j]))
            if picture is not None:
                return recorded(picture)
        return shown(j)

    ranges = measured_ranges(file.splice or {}, len(frames.times))
    runs = _output_runs(ranges, same)
    run_end = dict(runs)  # each run's first frame → the frame after its last
    segments = cut(runs, fresh) if helped(frames.width, frames.height) else runs
    decoded = SegmentsAhead(file.path, segments, out_pts, probe[0])
    next_segment = 0
    try:
        for a, b in ranges:
            shown = _Shown(frames, src_pts, keyframes, probe[1], kept)
            k = a
            while k < b:
                if k in same:
                    stored = copied(k, b) if copied is not None else None
                    if stored is not None:
                        yield stored
                        k += int(stored.frames)
                        continue
                    picture = shown(k)
                    yield k, picture, picture
                    k += 1
                    continue
                end = run_end[k]  # k starts a run: the range's start, or the frame after a source picture
                while next_segment < len(segments) and segments[next_segment][1] <= end:
                    for j, frame in decoded.read(next_segment):
                        yield j, frame, reference(j, shown)
                    next_segment += 1
                k = end
    finally:
        decoded.close()


def _output_runs(ranges: list[tuple[int, int]], same: set[int]) -> list[tuple[int, int]]:
    """The runs of output frames pairs_spliced decodes from the output: in the measured ranges,
    those that are not their source frame's picture."""
    runs: list[tuple[int, int]] = []
    for a, b in ranges:
        k = a
        while k < b:
            if k in same:
                k += 1
                continue
            end = k
            while end < b and end not in same:
                end += 1
            runs.append((k, end))
            k = end
    return runs


class RecordingPicture:
    """A recording's stored I420 picture (media/first_generation.py) standing for the source
    frame a re-encoded output frame is compared with: QC reads only its luma, so it is not
    made into an av.VideoFrame first (~0.25 ms a picture, 20-40 a row)."""

    __slots__ = ("yuv",)

    def __init__(self, yuv: np.ndarray) -> None:
        self.yuv = yuv

    def luma(self) -> np.ndarray:
        """`decode.luma(first_generation.as_frame(yuv))`, bit for bit: as_frame's yuv420p frame
        (video range, no display matrix) holds the first h = rows·2/3 rows as its Y plane,
        which luma reads as float32 (tests/qc/test_recording_luma.py, every shape)."""
        return self._y().astype(np.float32)

    @property
    def shape(self) -> tuple[int, int]:
        """The luma's shape."""
        return self._y().shape  # type: ignore[return-value]

    def __getitem__(self, key: tuple[slice, slice]) -> np.ndarray:
        """`luma()[key]`, converting only that region (each sample on its own)."""
        return self._y()[key].astype(np.float32)

    def _y(self) -> np.ndarray:
        return self.yuv[: self.yuv.shape[0] * 2 // 3]


def recorded(picture: np.ndarray) -> Any:
    """What stands for the recording's `picture` in a pair: a RecordingPicture where its shape
    is one as_frame takes (2-D uint8, rows a multiple of 3, even width), else the frame
    as_frame makes (or the error it raises), as before."""
    if picture.ndim == 2 and picture.dtype == np.uint8 and picture.shape[0] % 3 == 0 and picture.shape[1] % 2 == 0:
        return RecordingPicture(picture)
    from vpipe.media.first_generation import as_frame

    return as_frame(picture)


def luma_of(frame: Any) -> np.ndarray:
    """The luma QC compares of a decoded frame or a RecordingPicture (decode.luma's)."""
    from vpipe.media.decode import luma

    return frame.luma() if isinstance(frame, RecordingPicture) else luma(frame)


def luma_regions_of(frame: Any) -> Any:
    """`luma_of(frame)` read region by region (`[y0:y1, x0:x1]` and `shape`, converting only
    what is read): a RecordingPicture itself, a decoded frame's decode.LumaRegions."""
    from vpipe.media.decode import LumaRegions

    return frame if isinstance(frame, RecordingPicture) else LumaRegions(frame)


def recording_pictures(splice: dict[str, Any]) -> dict[int, np.ndarray]:
    """Source frame → the recording's own picture, for the GOPs the writer re-encoded from
    them (media/first_generation.py; read memory-mapped). Empty when the store no longer holds
    them as the writer left them: the re-encoded frames are then compared with the normalised
    copy, which can only lower their figures (never hide a fault)."""
    from vpipe.media.first_generation import FirstGenerationError, stored_pictures

    stored = splice.get("first_generation") or {}
    try:
        return stored_pictures(Path(str(stored.get("folder", ""))), stored.get("gops") or [])
    except FirstGenerationError:
        return {}
