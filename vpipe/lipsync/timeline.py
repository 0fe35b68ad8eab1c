"""The output frame timeline of a row.

With every slot fitted to its recorded word, the output shows the source's frames at the
source's own times (variable frame rate included). An elastic slot changes the length of
its window: frames outside every window keep their timestamps (shifted by the slots
before them), and inside a stretched window new frame times are laid at the window's own
frame rate, each showing the head pose of the source moment it maps to. That moment
usually falls between two source frames: `position` says where (a fractional frame index),
so a renderer can interpolate the picture and the landmarks instead of repeating a frame.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vpipe.data.media import Track, VideoSource


@dataclass(frozen=True)
class Timeline:
    times: np.ndarray  # float64 output times
    identity: bool  # the source's own frames at their own times
    position: np.ndarray  # float64 source position: a frame index + the fraction (< 1) of the way to the next

    @functools.cached_property
    def pose_frame(self) -> np.ndarray:
        """int64 source frame shown (or used as the head) at each output frame."""
        return np.floor(self.position).astype(np.int64)


def output_timeline(video: VideoSource, track: Track, windows: list[tuple[float, float]]) -> Timeline:
    if not track.retimed:
        return Timeline(video.times.copy(), True, np.arange(video.frames, dtype=np.float64))
    stretched = [(a, b) for a, b in windows if _shift_inside(track, a, b)]
    kept = np.flatnonzero(~within(video.times, stretched))  # the source's frames outside the stretched windows
    times: list[float] = track.to_outputs(video.times[kept]).tolist()
    positions: list[float] = kept.astype(np.float64).tolist()
    for a, b in stretched:
        inside = video.times[(video.times >= a) & (video.times < b)]
        step = float(np.median(np.diff(inside))) if len(inside) > 1 else 1.0 / max(video.fps, 1.0)
        start, end = track.to_output(a), track.to_output(b)
        first = float(inside[0]) - a if len(inside) else 0.0  # keep the window's phase
        for t in np.arange(start + first, end - 1e-9, step):
            source_time = track.to_source(float(t))
            k = video.frame_at(source_time)
            times.append(float(t))
            positions.append(k + _fraction(video.times, k, source_time))
    order = np.argsort(times, kind="stable")
    return Timeline(np.asarray(times)[order], False, np.asarray(positions)[order])


def within(times: Sequence[float] | np.ndarray, windows: Sequence[Sequence[float]]) -> np.ndarray:
    """Whether each of `times` lies in one of the [start, end) `windows` (bool array): the
    comparisons of a loop over the frames, in float64, in numpy (a 2-minute recording has
    3,000 frames per row to look at; tests/qc/test_windows.py)."""
    times = np.asarray(times, np.float64)
    out = np.zeros(times.shape, bool)
    for a, b in windows:
        out |= (times >= a) & (times < b)
    return out


def _fraction(times: np.ndarray, k: int, t: float) -> float:
    """Where `t` lies between source frames k and k + 1, in [0, 1)."""
    if k + 1 >= len(times) or times[k + 1] <= times[k]:
        return 0.0
    return float(np.clip((t - times[k]) / (times[k + 1] - times[k]), 0.0, 0.999))


def _shift_inside(track: Track, a: float, b: float) -> bool:
    return any(abs(e.shift) > 1e-6 and e.source_start < b and e.source_end > a for e in track.edits)


def merge_windows(times: list[tuple[float, float]], margin: float, duration: float | None) -> list[tuple[float, float]]:
    """Grow each (start, end) by `margin` on both sides (within [0, duration]) and merge overlaps."""
    grown = sorted(
        (max(0.0, a - margin), b + margin if duration is None else min(duration, b + margin)) for a, b in times
    )
    merged: list[tuple[float, float]] = []
    for a, b in grown:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def slot_windows(track: Track, margin: float, duration: float) -> list[tuple[float, float]]:
    """Source-time windows of the slots plus the coarticulation margin (merged)."""
    return merge_windows([(e.source_start, e.source_end) for e in track.edits], margin, duration)
