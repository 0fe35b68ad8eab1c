"""The output's re-encoded frames decoded on two decoders at once.

QC decodes every re-encoded output frame (qc/pairs.py), one after the other, and on a large
output that is most of a row's QC: a 1080×1920 frame takes ~8.5 ms to decode here, 30-34 of
them a row, while the other core waits on the tracker for part of that time. The writer
re-encodes a run of GOPs as one segment whose GOPs each start with an IDR
(media/splice.py). A decoder that starts at such an IDR gives exactly the pictures that one
decoding from the run's start gives from there on: an IDR empties the decoder's reference
pictures, so nothing after it refers to anything before it. `fresh_starts` finds those
IDRs in the file itself (not trusting the writer): the sample is an IDR slice, every sample
before it is shown before it and every sample from it on at or after it, so its decoding
index is its frame index too.

The runs are cut there into segments (`cut`), and `SegmentsAhead` hands QC's loop each
segment's frames in order, as one decoder would: the loop decodes a segment itself while a
helper thread decodes the next one or two on a decoder of its own (two decoders share
nothing; PyAV releases the GIL while one decodes: two decode side by side in the time one
takes). The pictures and their order are the same; only who decodes them changes
(tests/qc/test_output_segments.py compares every picture and every QC figure).
overlap.ON_THREADS False: the loop decodes every segment itself.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from vpipe.qc import overlap

AHEAD = 2  # segments the helper may decode past the one the loop reads (each held until read)
# Outputs of this many pixels a frame or more are cut and decoded two at a time. Measured
# (benchmarks/qc_parts.py --pairs segments,segments_all): QC's wall time −18 % on the
# 1080×1920 clip, but 0 to +8 % on 524×524 and 700×700 (and in an ad-hoc replay of a clip
# scaled up, +8 % at 1280×720, −7 % at 1920×1080): where a frame decodes in a few ms, a
# segment's own file opening and seek, and the hand-over, cost more than the decoding the
# other core takes over.
HELPED_FROM = 1_500_000


def helped(width: int, height: int) -> bool:
    """Whether an output of this frame size is decoded two segments at a time."""
    return width * height >= HELPED_FROM


def fresh_starts(pts: np.ndarray, starts: Iterable[int], idr: Callable[[int], bool]) -> tuple[int, ...]:
    """Of the GOP starts `starts` (sample indices in decoding order, `pts` every sample's
    timestamp in that order), those a decoder may start at: every sample before it is shown
    before it, every sample from it on is shown at or after it (so its decoding index is its
    frame index), and it is an IDR slice (`idr(i)`, asked last: it reads the sample)."""
    n = int(pts.shape[0])
    if n == 0:
        return ()
    before = np.maximum.accumulate(pts)  # before[i - 1]: the latest time shown by samples 0..i-1
    after = np.minimum.accumulate(pts[::-1])[::-1]  # after[i]: the earliest shown by samples i..
    return tuple(int(i) for i in starts if 0 < i < n and before[i - 1] < pts[i] and pts[i] == after[i] and idr(int(i)))


def cut(runs: Iterable[tuple[int, int]], starts: Iterable[int]) -> list[tuple[int, int]]:
    """The runs (output frames a..b-1, in order) cut at each fresh start inside them."""
    at = sorted(set(starts))
    out: list[tuple[int, int]] = []
    for a, b in runs:
        edges = [a, *(s for s in at if a < s < b), b]
        out.extend(itertools.pairwise(edges))
    return out


class SegmentsAhead:
    """Output frames segment by segment, `read(i)` giving segment i's (index, av.VideoFrame)
    pairs in order, the segments read in order. The first is decoded by the reader; a helper
    thread decodes later ones (up to AHEAD past the one being read) into lists meanwhile; a
    segment the helper has not started is decoded by the reader itself. `close()` stops the
    helper (QC failed, or the loop is done). Each segment starts at a fresh start, or is
    the first of its run (decoded from the keyframe before it, as the loop always has)."""

    def __init__(self, path: Path, segments: list[tuple[int, int]], pts: np.ndarray, probe: bool) -> None:
        self._path, self._segments, self._pts, self._probe = path, segments, pts, probe
        self._claimed = [False] * len(segments)
        self._done: dict[int, list[tuple[int, Any]] | BaseException] = {}
        self._reading = 0
        self._closed = False
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        if overlap.ON_THREADS and len(segments) > 1:
            self._thread = threading.Thread(target=self._help, name="qc-segments", daemon=True)
            self._thread.start()

    def _decode(self, i: int) -> Iterator[tuple[int, Any]]:
        """Segment i's frames from a decoder of its own (what the loop took from one decoder
        per run before: a frame the file lacks is missing here too, and QC's count of the
        frames it compared says so)."""
        from vpipe.media.decode import iter_decoded

        a, b = self._segments[i]
        for j, _, frame in iter_decoded(self._path, a, self._pts, threads=False, probe=self._probe):
            if j < a:
                continue
            if j >= b:
                return
            yield j, frame
            if j == b - 1:
                return  # the next frame is not wanted: not decoded

    def _help(self) -> None:
        while True:
            with self._changed:
                i = self._next_unclaimed()
                while i is None and not self._closed and not all(self._claimed):
                    self._changed.wait()
                    i = self._next_unclaimed()
                if self._closed or i is None:
                    return  # closed, or every segment has its decoder
                self._claimed[i] = True
            try:
                result: list[tuple[int, Any]] | BaseException = list(self._decode(i))
            except BaseException as error:  # raised on the reader's thread when it reads segment i
                result = error
            with self._changed:
                self._done[i] = result
                self._changed.notify_all()

    def _next_unclaimed(self) -> int | None:
        """The first segment past the one being read that nobody decodes yet, within AHEAD."""
        for i in range(self._reading + 1, min(len(self._segments), self._reading + AHEAD + 1)):
            if not self._claimed[i]:
                return i
        return None

    def read(self, i: int) -> Iterator[tuple[int, Any]]:
        """Segment i's (index, frame) pairs (segments are read in order, each once)."""
        with self._changed:
            self._reading = i
            mine = not self._claimed[i]
            self._claimed[i] = True
            self._changed.notify_all()  # the helper may look further ahead now
        if mine:
            yield from self._decode(i)
            return
        with self._changed:
            while i not in self._done:
                self._changed.wait()
            result = self._done.pop(i)
        if isinstance(result, BaseException):
            raise result
        yield from result

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._done.clear()
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join()
