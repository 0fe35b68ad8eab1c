"""What QC's frame compare takes from a copied GOP of the source, kept in the run's store.

QC compares the frames around each edit: the re-encoded GOPs and one copied GOP either side
(qc/pairs.py `measured_ranges`). A copied GOP whose frames are, picture for picture, the
source's (qc/pairs.py `same_pictures`) gives the same figures on every row that copies it:

- its frames' PSNR against the source is infinite (not computed: the same pictures);
- the edit's change between its frames is zero (output − source is zero in each);
- the face region's change from one frame to the next is the source's own, the "calm" change
  the seam ratio is judged against;
- and its first and last frames' face region is what the frames next to it (re-encoded ones)
  are compared with across the GOP's edges.

So those figures are computed once per source GOP and face box, by decoding that GOP the way
the compare loop would (the same pictures, the same luma and crop, the same float32
arithmetic, so the same numbers to the bit), and stored beside the other source figures.
Every later row (and every worker) that copies the GOP reads them instead of decoding it: at
the usual two copied GOPs of 12 frames around an edit, 24 frames a row. The figures say
which frames they stand for and QC still counts them among the frames it compared.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vpipe.atomic import atomic_write_bytes
from vpipe.ir.hashing import digest

VERSION = "1"  # part of each stored file's key: a change of what is stored starts afresh


def face_region(shape: tuple[int, ...], box: Any) -> tuple[int, int, int, int] | None:
    """The face region (`box` = x0, y0, x1, y1 in pixels) clamped to an image of `shape`, as
    (x0, y0, x1, y1); None without a box or when the clamped box is empty (the whole image)."""
    if not box:
        return None
    h, w = shape[:2]
    x0, y0, x1, y1 = (int(max(0, box[0])), int(max(0, box[1])), int(min(w, box[2])), int(min(h, box[3])))
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def crop(image: np.ndarray, box: Any) -> np.ndarray:
    """The face region of a plane (`face_region`); the whole plane without one."""
    region = face_region(image.shape, box)
    if region is None:
        return image
    x0, y0, x1, y1 = region
    return image[y0:y1, x0:x1]


def region_change(region: np.ndarray, previous: np.ndarray) -> float:
    """Mean absolute change between two face regions (float32 luma): the compare loop's figure."""
    return float(np.abs(region - previous).mean())


@dataclass(frozen=True)
class CopiedGop:
    """The figures of one copied GOP: output frames `first_frame` … `first_frame + frames - 1`,
    which show the source's frames `source_start` … onwards, picture for picture."""

    first_frame: int
    source_start: int
    edges: np.ndarray  # float32 (2, h, w): the face region of its first and of its last frame
    changes: np.ndarray  # float64 (frames - 1,): region change of each frame from the one before

    @property
    def frames(self) -> int:
        return int(self.changes.shape[0]) + 1


def _decode_figures(source: Path, start: int, end: int, box: Any, src_pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Decode the source's frames [start, end) (from the keyframe at `start`, one thread) and
    return (edges, changes) as the compare loop computes them."""
    from vpipe.media.decode import iter_decoded, luma

    first: np.ndarray | None = None
    last: np.ndarray | None = None
    changes: list[float] = []
    for index, _, frame in iter_decoded(source, start, src_pts, threads=False):
        if index < start:
            continue
        region = crop(luma(frame), box)
        if last is not None:
            changes.append(region_change(region, last))
        first = region if first is None else first
        last = region
        if index >= end - 1:
            break
    if first is None or last is None or len(changes) != end - start - 1:
        raise ValueError(f"frames {start}-{end - 1} of {source.name} did not all decode")
    return np.stack([first, last]), np.asarray(changes, np.float64)


def copied_gop(
    source: Path,
    first_frame: int,
    start: int,
    end: int,
    box: Any,
    src_pts: np.ndarray,
    store_dir: Path | None,
) -> CopiedGop | None:
    """The figures of the source GOP [start, end) copied at output frame `first_frame`, from the
    store or decoded (and stored). None without a store: the caller then compares the frames
    themselves, as it must for the first row anyway."""
    if store_dir is None:
        return None
    stat = source.stat()
    key = digest(VERSION, str(source.resolve()), str(stat.st_size), str(stat.st_mtime_ns), str(start), str(end), repr(box))
    saved = Path(store_dir) / "qc-copied-gops" / f"{key}.npz"
    if saved.is_file():
        try:
            with np.load(saved, allow_pickle=False) as stored:
                edges, changes = stored["edges"], stored["changes"]
            if edges.ndim == 3 and edges.shape[0] == 2 and changes.shape == (end - start - 1,):
                return CopiedGop(first_frame, start, edges, changes)
        except (OSError, ValueError, KeyError):
            pass  # damaged: decoded again
    try:
        edges, changes = _decode_figures(source, start, end, box, src_pts)
    except ValueError:
        return None
    buffer = io.BytesIO()
    np.savez(buffer, edges=edges, changes=changes)
    try:
        saved.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(saved, buffer.getvalue())
    except OSError:
        pass  # a read-only store: the figures are still right for this row
    return CopiedGop(first_frame, start, edges, changes)
