"""The copied-GOP packet check of a spliced MP4, read in place instead of demuxed.

`qc/pairs.py` `copied_gops` demuxes every packet of the output (3,000 at 2 minutes, each a
Python object) and hashes every copied GOP: a cost that grows with the source, on every
row. The same figures come from libavformat's own index of the MP4's sample tables, which
it builds when the file is opened (each video sample's file offset, size, decoding time,
key flag), and from the bytes at those offsets:

- a packet `container.demux` gives is the sample's bytes at its offset (the mov demuxer
  reads `size` bytes at `pos`), with its key flag, and, when the track has no composition
  offsets, pts = dts = the indexed time; so the GOPs, timestamps and first packets are the
  same;
- a copied GOP is identical when its packets' SHA-256 is the digest the writer recorded.
  The source's GOPs are hashed once per process (the source does not change from row to
  row); where the source GOP's digest is the recorded one and the output GOP's bytes are
  that GOP's bytes, byte for byte, the output GOP's SHA-256 *is* the recorded digest. Any
  other GOP is hashed as before. A wrong or damaged copied byte is still found: it differs
  from the source's.

So each row reads its copied packets once (a comparison, no hash) and creates no Python
object per packet. Where the index might not be what demuxing gives (not an MP4 with one
`moov`, a fragmented file, composition offsets (`ctts`: pts ≠ dts, B-frames), an empty or
discarded sample) `read_in_place` returns None and the caller demuxes as before.
`tests/qc/test_copied_in_place.py` holds the two equal on real rows.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vpipe.media.decode import UNPROBED

_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"mvex", b"udta"}
_REFUSED = {b"ctts", b"mvex", b"moof"}  # composition offsets, fragments: demux instead


@dataclass(frozen=True)
class Samples:
    """A file's video samples in decoding order, as libavformat indexed them."""

    path: Path
    pos: np.ndarray  # int64 file offset
    size: np.ndarray  # int64 bytes
    pts: np.ndarray  # int64: the indexed time (pts = dts: no composition offsets)
    starts: np.ndarray  # int64: the samples that start a GOP (key flag), and len(pos) at the end
    extradata: bytes

    def __post_init__(self) -> None:
        # plain ints for the per-GOP reads (numpy scalars cost more than the reads at 250 GOPs)
        ends = self.pos + self.size
        breaks = np.concatenate([[0], np.cumsum(self.pos[1:] != ends[:-1])])  # gaps before each sample
        object.__setattr__(self, "_pos", self.pos.tolist())
        object.__setattr__(self, "_ends", ends.tolist())
        object.__setattr__(self, "_breaks", breaks.tolist())

    def gop(self, i: int) -> tuple[int, int]:
        return int(self.starts[i]), int(self.starts[i + 1])

    def read(self, fd: int, a: int, b: int) -> bytes:
        """Samples a … b-1 as demuxing gives them, one after the other: the file span they lie
        in is read in one call (a muxed file interleaves other streams' samples between them)."""
        pos: list[int] = self._pos  # type: ignore[attr-defined]
        ends: list[int] = self._ends  # type: ignore[attr-defined]
        start = pos[a]
        if self._breaks[b - 1] == self._breaks[a]:  # type: ignore[attr-defined]
            return os.pread(fd, ends[b - 1] - start, start)  # adjacent samples: the span is theirs
        view = memoryview(os.pread(fd, max(ends[a:b]) - start, start))
        return b"".join([view[p - start : q - start] for p, q in zip(pos[a:b], ends[a:b], strict=True)])


def _header(head: bytes | memoryview, left: int) -> tuple[bytes, int, int] | None:
    """A box header (its first 16 bytes or fewer) with `left` bytes from its start to the end
    of what holds it: (type, header length, box size), or None when it does not fit (not
    ISO BMFF as expected). Size 1: a 64-bit size follows; size 0: to the end."""
    size, kind, length = int.from_bytes(head[:4], "big"), bytes(head[4:8]), 8
    if size == 1 and len(head) >= 16:
        size, length = int.from_bytes(head[8:16], "big"), 16
    elif size == 0:
        size = left
    return None if size < length or size > left else (kind, length, size)


def _boxes(data: bytes | memoryview, found: set[bytes]) -> bool:
    """Collect the types of the boxes in `data` and inside the containers among them; False
    when a box header does not fit (not ISO BMFF as expected)."""
    i = 0
    while i + 8 <= len(data):
        box = _header(data[i : i + 16], len(data) - i)
        if box is None:
            return False
        kind, head, size = box
        found.add(kind)
        if kind in _CONTAINERS and not _boxes(data[i + head : i + size], found):
            return False
        i += size
    return i == len(data)


def _plain_mp4(path: Path) -> bool:
    """One `moov`, no fragments, no composition offsets anywhere in it."""
    top: list[tuple[bytes, int, int]] = []
    with open(path, "rb") as f:
        end, at = os.fstat(f.fileno()).st_size, 0
        while at + 8 <= end:
            box = _header(os.pread(f.fileno(), 16, at), end - at)
            if box is None:
                return False
            kind, skip, size = box
            top.append((kind, at + skip, size - skip))
            at += size
        moovs = [(a, n) for kind, a, n in top if kind == b"moov"]
        if at != end or len(moovs) != 1 or any(kind in _REFUSED for kind, _, _ in top):
            return False
        found: set[bytes] = set()
        return _boxes(memoryview(os.pread(f.fileno(), moovs[0][1], moovs[0][0])), found) and not found & _REFUSED


def read_in_place(path: Path) -> Samples | None:
    """The video samples of `path` from libavformat's index (nothing demuxed), or None where
    demuxing might give other packets (see the module docstring)."""
    import av

    if not _plain_mp4(path):
        return None
    # the index and the avcC come from the MP4's boxes when the file is opened; probing the
    # streams (decoding their first frames) would add ~5 ms and change neither
    with av.open(str(path), options=UNPROBED) as container:
        stream = container.streams.video[0]
        extradata = bytes(stream.codec_context.extradata or b"")
        entries = [(e.pos, e.size, e.timestamp, e.is_keyframe, e.is_discard) for e in stream.index_entries]
    if not entries or any(size <= 0 or discard for _, size, _, _, discard in entries) or not entries[0][3]:
        return None
    pos, size, pts, key, _ = (np.asarray(c) for c in zip(*entries, strict=True))
    starts = np.append(np.flatnonzero(key), len(entries)).astype(np.int64)
    return Samples(path, pos.astype(np.int64), size.astype(np.int64), pts.astype(np.int64), starts, extradata)


@dataclass(frozen=True)
class SourceGops:
    """A source's samples and each GOP's SHA-256 (the writer's `gop_digest` of its packets)."""

    samples: Samples
    digests: tuple[str, ...]


def hashed_source(path: Path) -> SourceGops | None:
    """Hashed once per process and source (the caller keeps it): every GOP read in place."""
    samples = read_in_place(path)
    if samples is None:
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        digests = tuple(
            hashlib.sha256(samples.read(fd, *samples.gop(i))).hexdigest() for i in range(len(samples.starts) - 1)
        )
    finally:
        os.close(fd)
    return SourceGops(samples, digests)


def identical_gop(
    out: Samples, out_fd: int, i: int, digest: str, g: int, source: SourceGops | None, source_fd: int
) -> bool:
    """Whether output GOP i's packets have SHA-256 `digest` (the writer's record): when source
    GOP g's digest is `digest` and the output GOP's bytes are that GOP's bytes, they have it;
    otherwise (no such source GOP, or other bytes) they are hashed, as demuxed packets were."""
    a, b = out.gop(i)
    got = out.read(out_fd, a, b)
    known = source is not None and 0 <= g < len(source.digests) and source.digests[g] == digest
    if known and source is not None and got == source.samples.read(source_fd, *source.samples.gop(g)):
        return True
    return hashlib.sha256(got).hexdigest() == digest
