"""Splice a row's AAC track from encodes of the recording, re-encoding only around the slots.

AAC codes 1024-sample blocks; block j's packet carries an MDCT of samples
[(j-1)·1024, (j+1)·1024) (the encoder's 1024 samples of priming shift it by one), and the
decoder's output frame j is the overlap-add of packets j-1 and j. So the decoded track
depends on which packets sit next to each other, nothing else (PNS noise aside, which is
random by design).

A row's sound equals the recording's outside its slots, shifted by each elastic slot
before it. The recording is encoded once per *phase* (the shift modulo 1024, so its
blocks line up with the row's; `aac_shared`). Per row, each changed range of blocks is
encoded by a fresh encoder, primed with PRIMING blocks of the real samples before it
(its packets dropped), and the fresh encoder's packets replace the shared ones between
two *exact joins*: block indices where the fresh packet is byte-identical to the shared
one. At a join the pair of packets the decoder overlaps is then a pair that one complete
encode produced, so every decoded frame of the row equals a frame of a complete encode
(the shared one or the fresh one): there is no seam to hear. A restarted encoder does not
reproduce the full encode's packets everywhere (its rate control differs), but it meets
them often (about one block in four to ten once primed); where no join is found within
reach the span just grows: to the row's start or end, at worst the whole track, which is
the full encode. Every join is checked by comparing bytes; nothing is assumed.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

BLOCK = 1024  # samples per AAC frame (AAC-LC)
PRIMING = 96  # blocks of real samples a fresh encoder codes before its span (packets dropped)
SETTLE = 16  # a start join is taken only this many blocks into the fresh encode, or more
STEP = 32  # blocks encoded at a time while looking for a join


@dataclass(frozen=True)
class AacSettings:
    """What makes two AAC encoders produce the same packets for the same samples."""

    rate: int
    channels: int  # 1 or 2
    bitrate_kbps: int

    @property
    def layout(self) -> str:
        return "mono" if self.channels == 1 else "stereo"

    def encoder(self) -> Any:
        import av

        enc = av.CodecContext.create("aac", "w")
        enc.sample_rate, enc.layout, enc.format = self.rate, self.layout, "fltp"
        enc.bit_rate = self.bitrate_kbps * 1000
        enc.time_base = Fraction(1, self.rate)
        enc.options = {"aac_coder": "fast"}  # as media/write.py's stream: the same packets
        enc.open()
        return enc


def planar(samples: np.ndarray) -> np.ndarray:
    """(n, channels) float samples (as `Audio` holds them) the way the encoder takes them:
    (≤ 2, n) float32 in [-1, 1]."""
    return np.ascontiguousarray(np.clip(samples[:, :2], -1.0, 1.0).T.astype(np.float32))


class Fresh:
    """An encoder fed `samples` (n, channels) from block `start` on; `packets[i]` is block
    start + i's packet."""

    def __init__(self, settings: AacSettings, samples: np.ndarray, start: int) -> None:
        self.settings, self.samples, self.start = settings, samples, start
        self.enc = settings.encoder()
        self.fed = start * BLOCK  # next sample to feed
        self.packets: list[tuple[bytes, int]] = []
        self.flushed = False

    def block(self, j: int) -> tuple[bytes, int] | None:
        i = j - self.start
        return self.packets[i] if 0 <= i < len(self.packets) else None

    def feed_to(self, block: int) -> None:
        """Feed samples until block `block`'s packet is out (or the track ends: then flush)."""
        import av

        n = self.samples.shape[0]
        while not self.flushed and self.start + len(self.packets) <= block:
            if self.fed >= n:
                self._take(self.enc.encode(None))
                self.flushed = True
                break
            chunk = planar(self.samples[self.fed : self.fed + BLOCK])  # a block at a time: no copy of the track
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=self.settings.layout)
            frame.sample_rate, frame.pts = self.settings.rate, self.fed - self.start * BLOCK
            frame.time_base = Fraction(1, self.settings.rate)
            self._take(self.enc.encode(frame))
            self.fed += chunk.shape[1]

    def _take(self, packets: list[Any]) -> None:
        self.packets += [(bytes(p), int(p.duration or BLOCK)) for p in packets]


def encode_all(settings: AacSettings, samples: np.ndarray) -> list[tuple[bytes, int]]:
    """Every packet of one complete encode of `samples` (n, channels)."""
    fresh = Fresh(settings, samples, 0)
    fresh.feed_to(1 << 62)
    return fresh.packets


def block_count(samples: int) -> int:
    """Packets of a complete encode of `samples` samples (priming block included)."""
    return -(-samples // BLOCK) + 1


# ---- which blocks of the row are the recording's ------------------------------------------------


def copy_runs(row: np.ndarray, source: np.ndarray, shifts: list[int]) -> np.ndarray:
    """`row`, `source`: (n, channels) samples. Per block of the row's encode: the index into `shifts` of the first shift whose shared
    encode has a packet coding exactly the row's samples there (block j's support
    [(j-1)·1024, (j+1)·1024), zero beyond either end, equal bit for bit), or -1 (the block is
    encoded afresh)."""
    row, source = _words(row), _words(source)  # one integer per sample frame: fast exact compares
    n, n_src = row.shape[0], source.shape[0]
    n_blocks = block_count(n)
    run = np.full(n_blocks, -1, np.int64)
    for k, shift in enumerate(shifts):  # a few: one per edit
        same = np.empty((n_blocks + 1) * BLOCK, bool)  # per sample q (from -BLOCK): row[q] == source[q - shift]
        cuts = sorted(
            {-BLOCK, (n_blocks) * BLOCK, *(min(max(x, -BLOCK), n_blocks * BLOCK) for x in (0, n, shift, n_src + shift))}
        )
        for q0, q1 in itertools.pairwise(cuts):
            mine, theirs = _part(row, 0, q0, q1), _part(source, shift, q0, q1)
            if mine is None and theirs is None:
                same[q0 + BLOCK : q1 + BLOCK] = True  # silence in both (padding)
            elif mine is None or theirs is None:
                same[q0 + BLOCK : q1 + BLOCK] = (mine if theirs is None else theirs) == 0
            else:
                same[q0 + BLOCK : q1 + BLOCK] = mine == theirs
        halves = same.reshape(-1, BLOCK).all(axis=1)  # the n_blocks + 1 half-supports
        ok = halves[:-1] & halves[1:]
        phase = shift % BLOCK  # the shared encode's block i is the row's block i + (shift - phase) / BLOCK
        i = np.arange(n_blocks) - (shift - phase) // BLOCK
        ok &= (i >= 0) & (i < block_count(n_src + phase))
        run[(run < 0) & ok] = k
    return run


def _part(samples: np.ndarray, offset: int, q0: int, q1: int) -> np.ndarray | None:
    """samples[q0 - offset : q1 - offset], or None where that lies
    wholly outside them (silence); [q0, q1) never straddles an end (the caller cuts there)."""
    a, b = q0 - offset, q1 - offset
    if b <= 0 or a >= samples.shape[0]:
        return None
    return samples[a:b]


def _words(samples: np.ndarray) -> np.ndarray:
    """The encoded channels of (n, channels) samples as one unsigned integer per sample frame
    (their float32 bits): equal words, equal samples (a -0.0 against a 0.0 counts as a
    difference: a block more encoded, never a wrong packet)."""
    x = np.ascontiguousarray(samples[:, :2], dtype=np.float32)
    return x.view(np.uint64 if x.shape[1] == 2 else np.uint32).reshape(-1)


# ---- the splice ---------------------------------------------------------------------------------


@dataclass
class Span:
    """Blocks [a, b) taken from one fresh encoder."""

    a: int
    b: int
    fresh: Fresh
    first: int  # index of the first changed range it covers
    last: int  # index of the last one


@dataclass
class SpliceResult:
    packets: list[tuple[bytes, int]]  # per block of the row: payload, duration
    spans: list[tuple[int, int]]  # re-encoded block ranges [a, b)
    joins: int  # exact joins made (each checked byte for byte)
    phases: list[int] = field(default_factory=list)  # shared encodes used (shift mod 1024)
    fresh_starts: list[int] = field(default_factory=list)  # per span: the block its encoder started at


SharedPackets = Callable[[int], list[tuple[bytes, int]]]  # phase → the recording's encode at that phase


def changed_ranges(run: np.ndarray) -> list[tuple[int, int]]:
    changed = np.flatnonzero(np.diff(np.concatenate([[0], (run < 0).astype(np.int8), [0]])))
    return [(int(a), int(b)) for a, b in zip(changed[::2], changed[1::2], strict=True)]


def splice_packets(
    settings: AacSettings, row: np.ndarray, run: np.ndarray, shifts: list[int], shared: SharedPackets
) -> SpliceResult:
    """The row's packets: shared ones where `run` says the recording is heard, fresh ones
    between exact joins around every changed range."""
    n_blocks = run.shape[0]
    ranges = changed_ranges(run)

    def shared_block(j: int) -> tuple[bytes, int] | None:
        if j < 0 or j >= n_blocks or run[j] < 0:
            return None
        shift = shifts[int(run[j])]
        packets = shared(shift % BLOCK)
        i = j - (shift - shift % BLOCK) // BLOCK
        return packets[i] if 0 <= i < len(packets) else None

    spans: list[Span] = []
    i = 0
    through = -1  # a span must cover changed ranges up to this one (its start join failed before)
    while i < len(ranges):
        lo = spans[-1].b if spans else 0
        span = _span(settings, row, ranges, i, max(i, through), lo, shared_block, n_blocks)
        if span is None:  # no start join after the previous span: make that span reach through this range
            prev = spans.pop()
            i, through = prev.first, i
            continue
        spans.append(span)
        i, through = span.last + 1, -1

    def shared_blocks(a: int, b: int) -> list[tuple[bytes, int]]:
        """[shared_block(j) for j in a..b), each needed: a run of blocks from one shared
        encode is a slice of its packets (the same packets), not a call per block of the
        recording."""
        out: list[tuple[bytes, int]] = []
        edges = [a, *(a + 1 + np.flatnonzero(np.diff(run[a:b]))).tolist(), b] if b > a else [a]
        for j0, j1 in itertools.pairwise(edges):
            k = int(run[j0])
            shift = shifts[k] if k >= 0 else 0
            packets = shared(shift % BLOCK) if k >= 0 else []
            i0 = j0 - (shift - shift % BLOCK) // BLOCK
            if k < 0 or i0 < 0 or i0 + (j1 - j0) > len(packets):  # a block without its packet: say which
                out += [_need(shared_block(j), j) for j in range(j0, j1)]
            else:
                out += packets[i0 : i0 + (j1 - j0)]
        return out

    packets: list[tuple[bytes, int]] = []
    cursor = 0
    for s in spans:
        packets += shared_blocks(cursor, s.a)
        packets += [_need(s.fresh.block(j), j) for j in range(s.a, s.b)]
        cursor = s.b
    packets += shared_blocks(cursor, n_blocks)
    joins = sum((s.a > 0) + (s.b < n_blocks) for s in spans)
    phases = sorted({shifts[int(k)] % BLOCK for k in set(run.tolist()) if k >= 0})
    return SpliceResult(packets, [(s.a, s.b) for s in spans], joins, phases, [s.fresh.start for s in spans])


def _need(packet: tuple[bytes, int] | None, j: int) -> tuple[bytes, int]:
    if packet is None:
        raise ValueError(f"no packet for AAC block {j}")  # a planning error, never silent
    return packet


def _span(
    settings: AacSettings,
    row: np.ndarray,
    ranges: list[tuple[int, int]],
    first: int,
    through: int,
    lo: int,
    shared_block: Callable[[int], tuple[bytes, int] | None],
    n_blocks: int,
) -> Span | None:
    """A fresh encode from an exact start join at or after `lo` to the first exact end join
    after changed range `through` (absorbing any range reached before one is found); None when
    no start join exists in [lo, ranges[first]) (lo > 0)."""
    a0 = ranges[first][0]
    a = _start(settings, row, a0, lo, shared_block)
    if a is None:
        return None
    fresh, start = a
    last = through
    j = ranges[last][1]  # the join: the first block after the change whose packets match
    while True:
        fresh.feed_to(j + STEP)
        while j < n_blocks:
            if last + 1 < len(ranges) and j >= ranges[last + 1][0]:
                last += 1  # reached the next changed range first: it joins this span
                j = ranges[last][1]
                continue
            mine = fresh.block(j)
            if mine is None:
                break  # encode further
            theirs = shared_block(j)
            if theirs is not None and theirs[0] == mine[0] and j + 1 < n_blocks:
                return Span(start, j + 1, fresh, first, last)
            j += 1
        if j >= n_blocks:
            return Span(start, n_blocks, fresh, first, last)  # to the end: no join needed


def _start(
    settings: AacSettings, row: np.ndarray, a0: int, lo: int, shared_block: Callable[[int], tuple[bytes, int] | None]
) -> tuple[Fresh, int] | None:
    """A fresh encoder and the block its span starts at: just after the last block before `a0`
    whose fresh packet equals the shared one (the join), searching back to `lo`."""
    back = PRIMING
    while True:
        c = max(lo, a0 - back)
        if c == 0:
            return Fresh(settings, row, 0), 0  # from the track's start: the same as a full encode
        fresh = Fresh(settings, row, c)
        fresh.feed_to(a0)
        for j in range(a0 - 1, c + SETTLE - 1, -1):  # a settled encoder's packet, not one of its first
            mine, theirs = fresh.block(j), shared_block(j)
            if mine is not None and theirs is not None and mine[0] == theirs[0]:
                return fresh, j + 1
        if c == lo:
            return None
        back *= 4


def packets_of(result: SpliceResult, stream: Any, rate: int) -> Iterator[Any]:
    """av.Packets for the output's audio `stream`, timestamped as the encoder would have:
    block j at (j - 1)·1024 (block 0 is the priming, before 0: the muxer's edit list hides it)."""
    import av

    tb = Fraction(1, rate)
    for j, (payload, duration) in enumerate(result.packets):
        packet = av.Packet(payload)
        packet.pts = packet.dts = (j - 1) * BLOCK
        packet.duration = duration
        packet.time_base = tb
        packet.stream = stream
        yield packet
