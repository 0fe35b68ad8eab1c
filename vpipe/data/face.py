"""Tracked face of a source: per-frame landmarks, pose and presence of the chosen face."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vpipe.data.codec import cacheable


@cacheable("FaceTrack")
@dataclass(frozen=True)
class FaceTrack:
    landmarks: np.ndarray  # (N, 478, 3) float32: x, y in pixels, z relative depth (pixels); NaN where absent
    present: np.ndarray  # (N,) bool: the chosen face was found in frame i
    pose: np.ndarray  # (N, 3) float32: yaw, pitch, roll in degrees; NaN where absent
    usable: np.ndarray  # (N,) bool: present and turned no further than the recipe's max_yaw_deg
    faces: np.ndarray  # (N,) int16: how many faces were detected in frame i
    times: np.ndarray  # (N,) float64: presentation time of frame i in seconds
    width: int
    height: int

    @property
    def frames(self) -> int:
        return int(self.present.shape[0])

    def frame_at(self, t: float) -> int:
        """Index of the frame shown at time t (the last frame starting at or before t)."""
        i = int(np.searchsorted(self.times, t + 1e-9, side="right")) - 1
        return min(max(i, 0), self.frames - 1)
