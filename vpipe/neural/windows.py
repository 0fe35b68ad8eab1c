"""Where a windowed model runs: 16-frame windows over the slot windows, with context.

LatentSync denoises 16 frames at a time (its motion modules attend across them). Upstream
runs it over the whole video; vpipe runs it only where the mouth changes. Each run of output
frames to re-animate (a slot window, margin included) is seen with context frames on each side
that are never written, and is covered by windows of `size` frames
(a run longer than one window gets windows overlapping by `overlap` frames, cross-faded;
a run that fits one window gets one window centred on it, whatever context is left over).
The written frames ease in and out at the run's edges, so they blend into the untouched ones.

U-Net evaluations are counted in samples: one forward pass over one window (MuseTalk: over one
frame) per denoising step and per guidance branch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SIZE = 16
CONTEXT = 2
OVERLAP = 4


@dataclass(frozen=True)
class Window:
    start: int  # first output frame the model sees
    stop: int  # one past the last

    @property
    def frames(self) -> int:
        return self.stop - self.start

    def weights(self) -> np.ndarray:
        """Cross-fade weight of each frame (a tent, never zero) where windows overlap."""
        k = np.arange(self.frames, dtype=np.float64)
        return np.minimum(k + 1, self.frames - k)


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of every run of True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.nonzero(edges == 1)[0].tolist(), np.nonzero(edges == -1)[0].tolist(), strict=True))


def cover(
    run: tuple[int, int], total: int, size: int = SIZE, context: int = CONTEXT, overlap: int = OVERLAP
) -> list[Window]:
    """Windows of `size` frames covering `run` plus up to `context` frames on each side, inside
    [0, total). A run that fits one window gets one, centred (its context is what is left)."""
    size = min(size, total)
    if run[1] - run[0] <= size:
        start = min(max(0, (run[0] + run[1] - size) // 2), total - size)
        return [Window(start, start + size)]
    a, b = max(0, run[0] - context), min(total, run[1] + context)
    step = size - overlap
    count = 1 + math.ceil((b - a - size) / step)
    starts = [a + round(i * (b - a - size) / (count - 1)) for i in range(count)]
    return [Window(s, s + size) for s in starts]


def plan(mask: np.ndarray, size: int = SIZE, context: int = CONTEXT, overlap: int = OVERLAP) -> list[Window]:
    """Windows for every run of frames to re-animate (`mask`: one bool per output frame)."""
    out: list[Window] = []
    for run in runs(mask):
        for w in cover(run, len(mask), size, context, overlap):
            if w not in out:
                out.append(w)
    return out


def whole_video(total: int, size: int = SIZE) -> list[Window]:
    """Upstream's way: consecutive windows over every frame (the last one shorter)."""
    return [Window(s, min(total, s + size)) for s in range(0, total, size)]


def evaluations(windows: int, steps: int, guidance: float) -> int:
    """U-Net samples for `windows` windows: one per step, two with classifier-free guidance."""
    return windows * steps * (2 if guidance > 1.0 else 1)


def frames_in(windows: list[tuple[float, float]], fps: float, duration: float) -> np.ndarray:
    """Bool per frame of a constant-rate clip: inside one of the (start, end) second windows."""
    total = max(1, round(duration * fps))
    t = np.arange(total) / fps
    return np.array([any(a <= x < b for a, b in windows) for x in t], bool)
