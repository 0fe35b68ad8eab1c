"""The report's contact sheet of one row: for each chosen output frame (the worst frame by
each visual measure, then frames over the slots), the source frame it replaces above it
(before) and the output frame below (after), cropped to the face and labelled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

TILE = 150  # tile height in pixels


def _crop_box(box: Any, width: int, height: int) -> tuple[int, int, int, int]:
    from vpipe.qc.contact import _face_crop

    return _face_crop(box if isinstance(box, list | tuple) and len(box) == 4 else None, width, height)


def contact_sheet(output: Path, source: Any, picks: list[dict[str, Any]], face_box: Any = None) -> np.ndarray | None:
    """BGR image, source row over output row, one column per pick; None when nothing to show.
    `source` is the source video's path, or an object whose `frames(indices)` returns them."""
    import cv2

    from vpipe.media.decode import read_frames

    if not picks:
        return None
    wanted_out = sorted({int(p["frame"]) for p in picks})
    outs = read_frames(output, wanted_out, seek_index(output, wanted_out[0]))
    wanted = sorted({int(p["source_frame"]) for p in picks})
    # `source` is a path, or an object that decodes and keeps source frames for many rows
    srcs = source.frames(wanted) if hasattr(source, "frames") else read_frames(source, wanted)
    first = next(iter(outs.values()), None)
    if first is None:
        return None
    h, w = first.shape[:2]
    x0, y0, x1, y1 = _crop_box(face_box, w, h)
    scale = TILE / max(1, y1 - y0)
    size = (max(1, round((x1 - x0) * scale)), TILE)

    def tile(image: np.ndarray | None, label: str, color: tuple[int, int, int]) -> np.ndarray:
        if image is None or image.shape[:2] != (h, w):
            t = np.zeros((size[1], size[0], 3), np.uint8)
        else:
            t = cv2.resize(image[y0:y1, x0:x1], size, interpolation=cv2.INTER_AREA)
        cv2.rectangle(t, (0, 0), (size[0], 16), (0, 0, 0), -1)
        cv2.putText(t, label, (3, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.38, color, 1, cv2.LINE_AA)
        return t

    top, bottom = [], []
    for p in picks:
        worst = str(p["why"]).startswith("worst")
        color = (80, 80, 255) if worst else (255, 255, 255)
        top.append(tile(srcs.get(int(p["source_frame"])), f"before {p['time']:.2f}s", (200, 200, 200)))
        bottom.append(tile(outs.get(int(p["frame"])), f"{p['why']} #{p['frame']}", color))
    sep = np.full((TILE, 2, 3), 255, np.uint8)

    def row(tiles: list[np.ndarray]) -> np.ndarray:
        parts: list[np.ndarray] = []
        for t in tiles:
            parts += [t, sep]
        return np.hstack(parts[:-1])

    return np.vstack([row(top), np.full((2, row(top).shape[1], 3), 255, np.uint8), row(bottom)])


SEEK_FROM = 250  # frames: past this, demuxing the timestamps to seek costs less than decoding up to the pick


def seek_index(path: Path, first: int, closed: bool = True) -> np.ndarray | None:
    """The stream's timestamps, for read_frames to start at the keyframe before frame `first`
    (vpipe's outputs have closed GOPs, as QC's contact sheet relies on), when it lies far
    enough in; None: decode from the first frame (what a slot near the start costs least)."""
    if first < SEEK_FROM or not closed:
        return None
    from vpipe.media.decode import frame_timing

    return frame_timing(path).pts


def frames_around_slots(duration: float, fps: float | None, slots: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Review frames for a row measured without visual QC: the frames at each slot's middle,
    start and end (output and source on the same index only when the timing was kept)."""
    if not fps or not slots:
        return []
    picks = []
    for s in slots:
        fitted = abs((s["end"] - s["start"]) - (s["source_end"] - s["source_start"])) < 1 / fps
        for t, src_t in (
            (s["start"], s["source_start"]),
            ((s["start"] + s["end"]) / 2, None),
            (s["end"], s["source_end"]),
        ):
            if src_t is None:
                src_t = t if fitted else (s["source_start"] + s["source_end"]) / 2
            k = int(min(t, duration) * fps)
            picks.append({"frame": k, "source_frame": int(src_t * fps), "time": round(t, 3), "why": "slot"})
    return picks


def write_sheet(
    path: Path, output: Path, source: Path, picks: list[dict[str, Any]], face_box: Any = None
) -> Path | None:
    import cv2

    from vpipe.atomic import atomic_write_bytes

    image = contact_sheet(output, source, picks, face_box)
    if image is None:
        return None
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        return None
    atomic_write_bytes(path, data.tobytes())
    return path
