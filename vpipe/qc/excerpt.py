"""The sound of a written file around its edits, decoded without decoding the rest.

QC's audio measures look at most a second or two around each slot (the heard check's context
words, the loudness reference's CONTEXT_LOUDNESS, the speaker-similarity context), so a row
need not decode the whole track: each span is decoded from a seek point PREROLL before it
(the AAC decoder's overlap with the previous frame is rebuilt there) and placed at the
sample index it has in the whole decoded track. An `Excerpt` is sliced like that whole
array (`x[a:b]` with whole-track indices, `len(x)`) and refuses a slice outside what was
decoded, so a measure cannot silently read silence.

Decoded this way the samples equal a decode from the start except where the encoder used
perceptual noise substitution: those bands are noise the decoder generates, and its random
state depends on where decoding began. Measured on spliced outputs of the shared clips: at
most 6e-4 (full scale 1) apart, and every audio measure the same to the precision the
manifest keeps (tests/qc/test_excerpt.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vpipe.media.decode import NO_PICTURES, DecodeError

PREROLL = 0.25  # seconds decoded and dropped before each span (a few AAC frames)
UNKNOWN = 2**62


@dataclass(frozen=True)
class Excerpt:
    """Pieces of one decoded track: (first sample index, samples) in whole-track indices."""

    pieces: tuple[tuple[int, np.ndarray], ...]
    rate: int
    total: int | None  # the whole track's sample count when a piece reached its end, else unknown
    decoded: int = 0  # samples decoded to make it (preroll included)

    @property
    def length(self) -> int:
        """len(): the track's length when known; otherwise past any index, so that a slice
        beyond what was decoded is refused rather than cut short."""
        return self.total if self.total is not None else UNKNOWN

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, key: slice) -> np.ndarray:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("an Excerpt is read by contiguous slices")
        start = 0 if key.start is None else max(0, int(key.start))
        stop = self.length if key.stop is None else min(self.length, int(key.stop))
        if stop <= start:
            return self.pieces[0][1][:0]
        for first, samples in self.pieces:
            if first <= start and stop <= first + len(samples):
                return samples[start - first : stop - first]
        raise IndexError(f"samples {start}-{stop} were not decoded (QC reads only around the edits)")

    def mono(self) -> Excerpt:
        return Excerpt(
            tuple((f, s.mean(axis=1).astype(np.float32) if s.ndim == 2 else s) for f, s in self.pieces),
            self.rate,
            self.total,
            self.decoded,
        )


def merged(spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for a, b in sorted((max(0.0, a), b) for a, b in spans if b > a):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


class _Inexact(Exception):
    """A frame's timestamp does not give its sample index (a codec that drops samples at the
    start, like Opus' pre-skip, or a coarse time base): decode from the start instead."""


def read_excerpt(path: Path, spans: Iterable[tuple[float, float]]) -> Excerpt:
    """The first audio track of `path` over `spans` (seconds), as float32 (n, channels) in the
    layout and rate read_audio gives, indexed like read_audio's samples. Each span is decoded
    from a seek point when the frames' timestamps place their samples exactly (MP4 with AAC);
    otherwise the track is decoded from the start and only the spans are kept."""
    import av

    wanted = merged(spans)
    try:
        with av.open(str(path), options=NO_PICTURES) as container:
            if not container.streams.audio:
                raise DecodeError(f"{path.name} has no audio track")
            try:
                return _seeking(container, wanted)
            except _Inexact:
                pass
        with av.open(str(path), options=NO_PICTURES) as container:
            return _sequential(container, wanted)
    except av.error.FFmpegError as exc:
        raise DecodeError(f"cannot decode the audio of {path.name}: {exc.strerror}") from None


def _resampler(stream: Any) -> Any:
    import av

    ctx = stream.codec_context
    return av.AudioResampler(format="fltp", layout=ctx.layout.name, rate=ctx.sample_rate)


def _seeking(container: Any, spans: list[tuple[float, float]]) -> Excerpt:
    stream = container.streams.audio[0]
    rate = stream.codec_context.sample_rate
    tb = stream.time_base
    origin = stream.start_time or 0
    pieces: list[tuple[int, np.ndarray]] = []
    total: int | None = None
    decoded = 0
    # read_audio counts samples from the first frame: the timestamps must agree with that count
    # from the start on (Opus' pre-skip, for one, shortens the first frame but not its successor's pts)
    count = 0
    for n, frame in enumerate(container.decode(stream)):
        if frame.pts is None or (frame.pts - origin) * tb * rate != count:
            raise _Inexact
        count += sum(out.samples for out in _resampler(stream).resample(frame))
        decoded += frame.samples
        if n == 2:
            break
    for a, b in spans:
        i0, i1 = int(a * rate), int(np.ceil(b * rate)) + 1
        container.seek(max(0, int((a - PREROLL) / tb) + origin), stream=stream, backward=True)
        resampler = _resampler(stream)
        chunks: list[tuple[int, np.ndarray]] = []
        at_end = True
        for frame in container.decode(stream):
            if frame.pts is None:
                raise _Inexact
            exact = (frame.pts - origin) * tb * rate
            if exact.denominator != 1:
                raise _Inexact
            first = int(exact)
            if first >= i1:
                at_end = False
                break
            position = first
            for out in resampler.resample(frame):
                block = out.to_ndarray().T
                chunks.append((position, block))
                position += block.shape[0]
                decoded += block.shape[0]
        if not chunks:
            raise _Inexact
        start = chunks[0][0]
        ends = np.cumsum([len(c) for _, c in chunks])
        if start > i0 or any(p != start + int(e) - len(c) for (p, c), e in zip(chunks, ends, strict=True)):
            raise _Inexact  # a gap or overlap: the timestamps do not count the samples
        samples = np.concatenate([c for _, c in chunks]).astype(np.float32, copy=False)
        keep = max(0, i0 - start)
        pieces.append((start + keep, np.ascontiguousarray(samples[keep:])))
        if at_end:
            total = start + len(samples)
    return Excerpt(tuple(pieces), rate, total, decoded)


def _sequential(container: Any, spans: list[tuple[float, float]]) -> Excerpt:
    """Decode from the start counting samples, as read_audio does; keep only the spans."""
    stream = container.streams.audio[0]
    rate = stream.codec_context.sample_rate
    resampler = _resampler(stream)
    bounds = [(int(a * rate), int(np.ceil(b * rate)) + 1) for a, b in spans]
    kept: list[list[np.ndarray]] = [[] for _ in bounds]
    position = 0
    for frame in container.decode(stream):
        for out in [*resampler.resample(frame)]:
            block = out.to_ndarray().T
            for n, (i0, i1) in enumerate(bounds):
                lo, hi = max(i0, position), min(i1, position + len(block))
                if lo < hi:
                    kept[n].append(block[lo - position : hi - position])
            position += len(block)
    pieces = tuple(
        (max(i0, 0), np.concatenate(k).astype(np.float32, copy=False))
        for (i0, _), k in zip(bounds, kept, strict=True)
        if k
    )
    return Excerpt(pieces, rate, position, position)
