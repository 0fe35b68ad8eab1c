"""Run-time values around media: the opened source, the row's audio track with its timeline
edits, the frames to write, and the written file."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vpipe.data.alignment import Segment
from vpipe.data.audio import Audio
from vpipe.data.codec import cacheable


@cacheable("GopIndex")
@dataclass(frozen=True)
class GopIndex:
    """How a normalised source is cut: its encoder settings (vpipe.media.normalize), the first
    frame of every GOP, a digest of every GOP's packets, each frame's timestamp in the stream's
    time base, and each frame's luma PSNR against the original source."""

    original: Path
    encoder: dict[str, object]
    starts: np.ndarray  # int64
    digests: tuple[str, ...]
    pts: np.ndarray  # int64
    psnr: np.ndarray  # float32, dB
    size: int  # bytes of the normalised file
    # the source's own GOPs (media.own_gops): `original` is the stream spliced, its packets as
    # they are; there is no normalised file, so the re-encoded GOPs' pictures are kept in
    # `pictures` (a folder in the run's store), never beside the source
    own: bool = False
    pictures: Path | None = (
        None  # where first_generation keeps this index's pictures (None: beside the normalised file)
    )

    def gop_of(self, frame: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.starts, frame, side="right") - 1

    def gop_range(self, g: int) -> tuple[int, int]:
        end = int(self.starts[g + 1]) if g + 1 < len(self.starts) else int(self.pts.shape[0])
        return int(self.starts[g]), end


@cacheable("GopLayout")
@dataclass(frozen=True)
class GopLayout:
    """Whether rows can be spliced on a source's own GOPs (vpipe.media.source_gops) and, when
    they can, what the re-encoded GOPs must match: timing, size, profile, level, reference
    count and colour of the source's SPS, and its decoding delay (ticks)."""

    eligible: bool
    reason: str  # why not, when not
    frames: int = 0
    gops: int = 0
    longest_gop: int = 0
    delay: int = 0  # pts − dts of every IDR, in the stream's time base
    time_base: tuple[int, int] = (1, 90000)
    rate: tuple[int, int] = (25, 1)
    width: int = 0
    height: int = 0
    profile: str = ""
    level: int = 0  # level_idc
    refs: int = 1
    colour: tuple[int, int, int] = (2, 2, 2)  # (primaries, transfer, matrix) as the SPS codes them
    range_declared: bool = False  # the SPS says video range (else it says nothing)

    @staticmethod
    def refused(reason: str) -> GopLayout:
        return GopLayout(False, reason)


@cacheable("VideoSource")
@dataclass(frozen=True)
class VideoSource:
    path: Path
    sha256: str
    width: int
    height: int
    times: np.ndarray  # float64 presentation time of every frame, seconds
    time_base: tuple[int, int]
    duration: float
    has_audio: bool
    gops: GopIndex | None = None  # set on a normalised source: it can be spliced GOP by GOP

    def still_valid(self) -> bool:
        """A normalised file is kept outside the cache entry: it must still be there, whole."""
        if self.gops is None:
            return True
        try:
            return self.path.stat().st_size == self.gops.size
        except OSError:
            return False

    @property
    def frames(self) -> int:
        return int(self.times.shape[0])

    @property
    def fps(self) -> float:
        return self.frames / self.duration if self.duration > 0 else 25.0

    def frame_at(self, t: float) -> int:
        i = int(np.searchsorted(self.times, t + 1e-9, side="right")) - 1
        return min(max(i, 0), self.frames - 1)


@cacheable("ImageSource")
@dataclass(frozen=True)
class ImageSource:
    path: Path
    sha256: str
    width: int
    height: int


@cacheable("TimelineEdit")
@dataclass(frozen=True)
class TimelineEdit:
    """Source time [source_start, source_end) is played as output time [output_start, output_end)."""

    slot: str
    source_start: float
    source_end: float
    output_start: float
    output_end: float
    said: str = ""  # the new words (as spoken)
    replaced: str = ""  # the recorded words they replace
    phones: tuple[Segment, ...] = ()  # the new words' phones, times relative to output_start
    before: tuple[Segment, ...] = ()  # recorded context words before the slot (output time)
    after: tuple[Segment, ...] = ()  # recorded context words after the slot (output time)

    @property
    def shift(self) -> float:
        """How much later everything after this edit plays."""
        return (self.output_end - self.output_start) - (self.source_end - self.source_start)


@cacheable("Track")
@dataclass(frozen=True)
class Track:
    audio: Audio
    edits: tuple[TimelineEdit, ...]  # in time order; empty for a pure narration

    @property
    def retimed(self) -> bool:
        return any(abs(e.shift) > 1e-6 for e in self.edits)

    def sample_shifts(self) -> tuple[int, ...]:
        """Where the recording's stretches sit in the row's sound, in samples: 0 before the first
        slot, then after each slot the sum of the slots' changes of length so far (each edit's
        lengths rounded as audio.splice cut them)."""
        rate = self.audio.rate
        shifts, shift = [0], 0
        for e in self.edits:
            new = round((e.output_end - e.output_start) * rate)  # the samples audio.splice put in
            old = round(e.source_end * rate) - round(e.source_start * rate)  # the recorded ones it took out
            shift += new - old
            shifts.append(shift)
        return tuple(shifts)

    def to_output(self, t: float) -> float:
        """Output time of source time t (inside an edit: linear within it)."""
        shift = 0.0
        for e in self.edits:
            if t < e.source_start:
                break
            if t < e.source_end:
                frac = (t - e.source_start) / max(e.source_end - e.source_start, 1e-9)
                return e.output_start + frac * (e.output_end - e.output_start)
            shift += e.shift
        return t + shift

    def to_outputs(self, times: np.ndarray) -> np.ndarray:
        """`to_output` of each of `times` (float64), the same operations on each: a row's every
        frame time is mapped at once, not one Python call per frame of the recording."""
        times = np.asarray(times, np.float64)
        out = np.empty_like(times)
        todo = np.ones(times.shape, bool)
        shift = 0.0
        for e in self.edits:
            before = todo & (times < e.source_start)
            out[before] = times[before] + shift
            todo &= ~before
            inside = todo & (times < e.source_end)
            frac = (times[inside] - e.source_start) / max(e.source_end - e.source_start, 1e-9)
            out[inside] = e.output_start + frac * (e.output_end - e.output_start)
            todo &= ~inside
            shift += e.shift
        out[todo] = times[todo] + shift  # after every edit (and NaN, as to_output gives it)
        return out

    def to_source(self, t: float) -> float:
        """Source time shown at output time t (inverse of to_output)."""
        shift = 0.0
        for e in self.edits:
            if t < e.output_start:
                break
            if t < e.output_end:
                frac = (t - e.output_start) / max(e.output_end - e.output_start, 1e-9)
                return e.source_start + frac * (e.source_end - e.source_start)
            shift += e.shift
        return t - shift


@cacheable("Frames")
@dataclass(frozen=True)
class Frames:
    """What to write: for each output frame, its time and where its pixels come from."""

    source: Path  # the source video (or image) the untouched frames come from
    times: np.ndarray  # float64 output presentation times
    source_index: np.ndarray  # int64 source frame whose pixels (or head pose) the frame uses
    rendered: dict[int, np.ndarray]  # output frame index → re-rendered BGR image
    time_base: tuple[int, int]
    width: int
    height: int
    still: bool = False  # the source is a single image
    report: dict[str, object] | None = None  # what the renderer did (windows, faces lost, ...)

    @property
    def is_passthrough(self) -> bool:
        """The source's own frames at their own times: the video stream can be copied."""
        return not self.rendered and not self.still and bool(self.report and self.report.get("identity_timeline"))


@cacheable("OutputFile")
@dataclass(frozen=True)
class OutputFile:
    path: Path
    sha256: str
    size: int
    splice: dict[str, object] | None = None  # how it was spliced from a normalised source (media.splice)
    mtime_ns: int = 0  # modification time when written: an unchanged file is not hashed again
    # files written with it (its provenance sidecar) and their SHA-256: the row is not up to date
    # while one of them is gone or changed
    companions: tuple[tuple[str, str], ...] = ()

    @staticmethod
    def of(
        path: Path,
        splice: dict[str, object] | None = None,
        companions: tuple[Path, ...] = (),
        sha256: str | None = None,
    ) -> OutputFile:
        """`sha256`: the file's digest when the writer has just computed it (not read twice)."""
        stat = path.stat()
        written = tuple((str(c), file_digest(c)) for c in companions)
        return OutputFile(path, sha256 or file_digest(path), stat.st_size, splice, stat.st_mtime_ns, written)

    def still_valid(self) -> bool:
        """The file on disk is still the one this value describes (resume / up-to-date check).
        Same size and modification time: taken as unchanged without reading it (a no-op re-run
        must not hash every output); otherwise its content hash decides."""
        try:
            if any(file_digest(Path(c)) != sha256 for c, sha256 in self.companions):
                return False
            stat = self.path.stat()
            if stat.st_size != self.size:
                return False
            if self.mtime_ns and stat.st_mtime_ns == self.mtime_ns:
                return True
            return file_digest(self.path) == self.sha256
        except OSError:
            return False


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()
