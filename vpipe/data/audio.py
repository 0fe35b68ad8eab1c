"""PCM audio as vpipe passes it between kernels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vpipe.data.codec import cacheable


@cacheable("Audio")
@dataclass(frozen=True)
class Audio:
    samples: np.ndarray  # float32, shape (n, channels), nominally in [-1, 1]
    rate: int
    start: float = 0.0  # time of the first sample on the container's timeline (seconds)

    def __post_init__(self) -> None:
        if self.samples.ndim != 2:
            raise ValueError(f"audio samples must be (n, channels), got shape {self.samples.shape}")

    @property
    def channels(self) -> int:
        return int(self.samples.shape[1])

    @property
    def frames(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration(self) -> float:
        return self.frames / self.rate

    def mono(self) -> np.ndarray:
        return self.samples.mean(axis=1).astype(np.float32)

    def seconds_to_index(self, t: float) -> int:
        return round(t * self.rate)

    @staticmethod
    def from_mono(mono: np.ndarray, rate: int, channels: int = 1, start: float = 0.0) -> Audio:
        mono = np.asarray(mono, dtype=np.float32).reshape(-1, 1)
        return Audio(np.repeat(mono, channels, axis=1), rate, start)
