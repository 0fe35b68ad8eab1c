"""Fixtures for the face tests: real clips tracked once per session, and synthetic videos
(two people side by side, black frames inserted) built from real frames in a temp folder."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pytest

from tests import media
from tests.media import shared_media

CLIPS = ("interview_man", "studio_woman", "glasses_woman", "silent_presenter")
APPEAR = 20  # frame where the second person enters in the "appear_right" layout


def write_video(path: Path, frames_bgr: Iterable[np.ndarray], fps: int = 25) -> Path:
    """Encode BGR frames as H.264 (near-lossless, constant frame rate)."""
    return media.write_video(path, list(frames_bgr), fps=fps, crf=16)


def frames_of(name: str, count: int | None = None) -> list[np.ndarray]:
    from vpipe.media.decode import iter_frames

    return [img for _, _, img in iter_frames(shared_media(f"{name}.mp4"), 0, count)]


def place(canvas: np.ndarray, img: np.ndarray, scale: float, cx: int, cy: int) -> None:
    """Paste img scaled by `scale`, centred at (cx, cy), into canvas (in place)."""
    import cv2

    h, w = img.shape[:2]
    sw, sh = round(w * scale), round(h * scale)
    small = cv2.resize(img, (sw, sh), interpolation=cv2.INTER_AREA)
    x0, y0 = cx - sw // 2, cy - sh // 2
    canvas[y0 : y0 + sh, x0 : x0 + sw] = small


@pytest.fixture(scope="session")
def raw_tracks() -> dict:
    """Each shared clip tracked once, unsmoothed (smooth_hz=0)."""
    from vpipe.face.tracker import track_video

    return {name: track_video(shared_media(f"{name}.mp4"), smooth_hz=0.0) for name in CLIPS}


@pytest.fixture(scope="session")
def two_face_video(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Videos of interview_man (left) and studio_woman (right) on one 1400x700 canvas.

    Layouts: "equal" both full size; "shrink_left" the left person shrinks from 1.0 to 0.45
    while the right one stays at 0.7, so the largest face changes identity mid-video;
    "appear_right" the right person only appears from frame `APPEAR` on (black before)."""
    folder = tmp_path_factory.mktemp("two_faces")
    made: dict[str, Path] = {}

    def make(layout: str) -> Path:
        if layout in made:
            return made[layout]
        left, right = frames_of("interview_man", 60), frames_of("studio_woman", 60)
        frames = []
        for i, (a, b) in enumerate(zip(left, right, strict=False)):
            canvas = np.zeros((700, 1400, 3), np.uint8)
            if layout == "equal":
                canvas[:, :700], canvas[:, 700:] = a, b
            elif layout == "appear_right":
                canvas[:, :700] = a
                if i >= APPEAR:
                    canvas[:, 700:] = b
            else:
                place(canvas, a, 1.0 - 0.55 * i / (len(left) - 1), 350, 350)
                place(canvas, b, 0.7, 1050, 350)
            frames.append(canvas)
        made[layout] = write_video(folder / f"{layout}.mp4", frames)
        return made[layout]

    return make
