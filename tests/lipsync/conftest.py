"""Session fixtures of the lip-sync tests: a real clip with its face knocked out mid-slot."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tests.lipsync.sources import Source, edit, face, frames, open_video, source, track_of, write_video
from vpipe.data.face import FaceTrack
from vpipe.data.media import Frames, Track, VideoSource
from vpipe.lipsync.inventory import MouthInventory

KEEP = 60  # the first 60 frames of interview_man (0.03-2.77 s): "my biggest ... help when needed"
BLACK = (31, 32, 33, 34)  # 1.43-1.57 s, inside "asking for help"
SLOT = (1.22, 1.87)
NEW = ("P", "AA", "M", "AA", "P", "AA", "M", "AA")


@dataclass(frozen=True)
class BlackFrames:
    src: Source  # interview_man itself (its alignment and audio are reused)
    path: Path
    video: VideoSource
    face: FaceTrack
    inventory: MouthInventory
    track: Track
    black: list[int]

    def windows(self) -> list[tuple[float, float]]:
        from vpipe.lipsync.timeline import slot_windows

        return slot_windows(self.track, 0.12, self.video.duration)

    def retrieve(self, max_offset: int | None = None) -> Frames:
        from vpipe.lipsync.retrieve import retrieve

        return retrieve(self.video, self.face, self.inventory, self.track, self.windows(), max_offset)


@pytest.fixture(scope="session")
def black_frames(tmp_path_factory: pytest.TempPathFactory) -> BlackFrames:
    """interview_man's first 60 frames at their own (VFR) times, frames 31-34 black."""
    from vpipe.lipsync.inventory import build_inventory

    src = source("interview_man")
    images = [img if i not in BLACK else np.zeros_like(img) for i, img in enumerate(frames(src.path)[:KEEP])]
    path = write_video(tmp_path_factory.mktemp("black") / "black.mp4", images, src.video.times[:KEEP])
    video = open_video(path)
    assert video.frames == KEEP and np.allclose(video.times, src.video.times[:KEEP], atol=1e-4)
    track = face(path)
    inventory = build_inventory(path, track, src.alignment)
    return BlackFrames(src, path, video, track, inventory, track_of(src, edit(src, *SLOT, NEW)), list(BLACK))
