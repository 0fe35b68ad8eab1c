"""The interpolated heads QC compares a window's seam frames with (qc/visual.py's seam measure).

A frame of an elastic window shows a head drawn between two source frames
(lipsync/interpolate.py); at a seam the edit is measured against that same head, drawn again
here from the source the way the writer converted it. The source frames around an edit are
decoded from their own keyframes when the source's GOPs are closed, and taken from the
frames earlier rows decoded (qc/kept_frames.py) when they are there.
"""

from __future__ import annotations

import bisect
from typing import Any

import numpy as np

from vpipe.data.media import Frames
from vpipe.qc.kept_frames import KeptFrames


def by_gop(indices: list[int], keyframes: tuple[int, ...]) -> list[list[int]]:
    """Sorted frame indices split where the next one lies past a GOP start after the one
    before: each part is decoded from its own keyframe (seeking over the frames between, which
    nobody asked for) instead of decoding on from the part before. No GOP starts: one part."""
    parts: list[list[int]] = []
    for i in indices:
        start = keyframes[bisect.bisect_right(keyframes, i) - 1] if keyframes and i >= keyframes[0] else -1
        if parts and start <= parts[-1][-1]:
            parts[-1].append(i)
        else:
            parts.append([i])
    return parts


def referenced(report: dict[str, Any], seams: list[int]) -> list[int]:
    """The interpolated frames next to a seam: those `interpolated_references` draws a head
    for (all of them but one whose second source frame does not exist)."""
    phases = [int(k) for k, _ in report.get("interpolated") or []]
    return sorted(k for k in phases if k in seams or k + 1 in seams)


def interpolated_references(
    frames: Frames,
    report: dict[str, Any],
    seams: list[int],
    src_pts: np.ndarray | None = None,
    keyframes: tuple[int, ...] = (),
    probe: bool = True,
    kept: KeptFrames | None = None,
    box: Any = None,
) -> dict[int, np.ndarray]:
    """Luma of the interpolated head each interpolated frame next to a seam was drawn on
    (only those: the seam measure compares the edit across the seam), over the face region
    `box` only (copied_figures.crop's region: all the seam measure reads; the whole frame
    without one). Only that region of the head is drawn and converted: each pixel's value is
    the one the whole head gives it (interpolate.between's `region`; the writer's conversion
    gives a pixel's luma from that pixel alone, tests/qc/test_head_regions.py). `keyframes`: the
    source's GOP starts when its GOPs are closed (the frames around the window's start and its
    end are then decoded from their own keyframes: the same pictures; and a part whose frames
    an earlier row decoded is taken from `kept`, qc/kept_frames.py). probe=False: the source
    is a plain MP4 (decode.UNPROBED)."""
    from vpipe.lipsync.interpolate import between
    from vpipe.media.convert import bgr_to_frame
    from vpipe.media.decode import luma, read_decoded, to_bgr
    from vpipe.qc.copied_figures import face_region

    phases = {int(k): float(p) for k, p in report.get("interpolated") or []}
    wanted = referenced(report, seams)
    if not wanted:
        return {}
    poses = {int(frames.source_index[k]) for k in wanted}
    # a few frames around one edit: decoded on this thread (frame threads cost more than they save)
    images: dict[int, np.ndarray] = {}
    keep = kept if keyframes and src_pts is not None else None
    for part in by_gop(sorted(poses | {p + 1 for p in poses}), keyframes if src_pts is not None else ()):
        taken = {i: keep.get(i) for i in part} if keep is not None else {}
        if not taken or any(f is None for f in taken.values()):
            taken = read_decoded(frames.source, part, src_pts, threads=False, probe=probe)
            if keep is not None:
                for i, f in taken.items():
                    keep.put(i, f)
        images.update({i: to_bgr(f) for i, f in taken.items()})  # read_frames' images
    out = {}
    for k in wanted:
        f = int(frames.source_index[k])
        if f + 1 in images:
            region = face_region(images[f].shape, box)
            image = between(images[f], images[f + 1], phases[k], region)
            # the Y plane as the writer makes it (media/convert.py), at any frame size
            out[k] = luma(bgr_to_frame(image, "yuv420p")).astype(np.float32)
    return out
