"""The source frames QC decoded, kept for the later rows of the same process.

The rows of a run share their source, and their slots sit at the same places in it, so each
row's QC decodes the same source frames: those of the copied GOPs next to a re-encoded run
(paired with the output frames that are their very pictures, qc/pairs.py) and the two heads an
interpolated frame was drawn between (qc/heads.py `interpolated_references`). At 2-3 ms a
frame and one open of the source per GOP run, that is 0.03-0.08 s of a row's QC, the same
pictures every time.

A frame is taken from here only as the very `av.VideoFrame` a decoder gave for that frame of
that file (path, size and modification time unchanged: the keeper is looked up by them), and
only when the source's GOPs are closed in presentation order: each starts with an IDR and
shows its frames before the next one's, so a frame's picture does not depend on the keyframe
decoding began at (what qc/pairs.py `_Shown` already relies on when it seeks). The source of a
spliced row is the normalised stream or a recording whose every keyframe is an IDR
(media/source_gops.py), and only spliced rows keep frames. Every figure is
then computed from the same picture as before; tests/qc/test_kept_frames.py compares a row's
QC with and without frames kept from the rows before, on real rows.

Bounded: one source's frames at a time (a run has one source), at most `BUDGET_BYTES` of
pictures, the least recently used going first: ~75 frames of a 524×524 source (a row asks for
12-40; rows with an interpolated head at a seam ask for a few more than those without, and
they alternate), ~10 at 1080p.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from vpipe.kernel_api.context import RunContext

BUDGET_BYTES = 32 * 1024 * 1024


def _size(frame: Any) -> int:
    return sum(int(plane.buffer_size) for plane in frame.planes)


class KeptFrames:
    """Decoded frames of one source by frame index, least recently used first."""

    def __init__(self, budget: int = BUDGET_BYTES) -> None:
        self.budget = budget
        self.source: tuple[str, int, int] | None = None  # path, size, modification time
        self.frames: OrderedDict[int, Any] = OrderedDict()
        self.held = 0  # bytes of `frames`
        # rows of a batch run in threads of one process (runtime/batches.py), one at a time
        # but handing over at the batched model: a lookup and its bookkeeping are not split
        self.lock = threading.Lock()

    def get(self, index: int) -> Any | None:
        """The frame kept for `index` (now the most recently used), or None."""
        with self.lock:
            frame = self.frames.get(index)
            if frame is not None:
                self.frames.move_to_end(index)
            return frame

    def put(self, index: int, frame: Any) -> None:
        """Keep a frame just decoded, within the budget (the least recently used go)."""
        size = _size(frame)
        with self.lock:
            if index in self.frames or size > self.budget:
                return
            self.frames[index] = frame
            self.held += size
            while self.held > self.budget:
                _, dropped = self.frames.popitem(last=False)
                self.held -= _size(dropped)

    def of(self, source: tuple[str, int, int]) -> KeptFrames:
        """This keeper for `source`: everything kept of another file (or of this one before it
        changed) is forgotten."""
        with self.lock:
            if source != self.source:
                self.source, self.frames, self.held = source, OrderedDict(), 0
        return self


def kept_frames(source: Path, rt: RunContext) -> KeptFrames:
    """This process's keeper, for `source` as it is now."""
    stat = source.stat()
    return rt.resource("qc-kept-frames", KeptFrames).of((str(source), stat.st_size, stat.st_mtime_ns))
