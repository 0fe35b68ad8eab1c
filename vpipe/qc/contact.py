"""Contact sheets: the slot frames of an output next to the source frames they replace.

A picture a reviewer can take in at a glance — top row the source (what the speaker's
mouth did), bottom row the output (what it does now), cropped to the face, one column
per sampled frame of the re-rendered windows. Written by the lip-sync benchmark and the
end-to-end tests as artifacts; numbers say whether sync is right, the sheet says whether
it looks right.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vpipe.data.media import Frames

TILE_HEIGHT = 160


def window_frames(frames: Frames, columns: int) -> list[int]:
    """Up to `columns` output frame indices over the re-rendered frames: the frames where each
    run of them starts and ends come first (the eases in and out, where two mouths meet), the
    rest spread evenly."""
    rendered = sorted(frames.rendered)
    if len(rendered) <= columns:
        return rendered
    edges: list[int] = []
    for k in rendered:
        if k - 1 not in frames.rendered or k - 2 not in frames.rendered:
            edges.append(k)  # the first two of a run
        elif k + 1 not in frames.rendered or k + 2 not in frames.rendered:
            edges.append(k)  # the last two
    picked = set(edges[: max(0, columns // 2)])
    spread = np.linspace(0, len(rendered) - 1, columns).round().astype(int)
    for i in spread:
        if len(picked) >= columns:
            break
        picked.add(rendered[i])
    return sorted(picked)


def _face_crop(box: Sequence[float] | None, width: int, height: int) -> tuple[int, int, int, int]:
    """The face box (over the whole clip) with a margin, or the whole frame."""
    if not box:
        return 0, 0, width, height
    x0, y0, x1, y1 = box
    mx, my = 0.15 * (x1 - x0), 0.1 * (y1 - y0)
    return (
        int(max(0, x0 - mx)),
        int(max(0, y0 - my)),
        int(min(width, x1 + mx)),
        int(min(height, y1 + my)),
    )


def contact_sheet(output: Path, frames: Frames, columns: int = 8) -> np.ndarray:
    """BGR image: source frames (top) over output frames (bottom) for sampled slot frames."""
    import cv2

    from vpipe.media.decode import frame_timing, read_frames

    picks = window_frames(frames, columns)
    if not picks:
        return np.zeros((TILE_HEIGHT, TILE_HEIGHT, 3), np.uint8)
    # both decoded from the keyframe before the first pick (a spliced output has one per GOP), by
    # the output's own timestamps (a muxer may move them from those the writer asked for)
    out_images = read_frames(output, picks, frame_timing(output).pts)
    src_images = read_frames(
        frames.source, sorted({int(frames.source_index[k]) for k in picks}), frame_timing(frames.source).pts
    )
    x0, y0, x1, y1 = _face_crop((frames.report or {}).get("face_box"), frames.width, frames.height)
    scale = TILE_HEIGHT / max(1, y1 - y0)
    size = (max(1, round((x1 - x0) * scale)), TILE_HEIGHT)

    def tile(image: np.ndarray | None, label: str) -> np.ndarray:
        if image is None:
            return np.zeros((size[1], size[0], 3), np.uint8)
        t = cv2.resize(image[y0:y1, x0:x1], size, interpolation=cv2.INTER_AREA)
        cv2.putText(t, label, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
        return t

    top = [tile(src_images.get(int(frames.source_index[k])), f"src {frames.times[k]:.2f}s") for k in picks]
    bottom = [tile(out_images.get(k), f"out {frames.times[k]:.2f}s") for k in picks]
    return np.vstack([np.hstack(top), np.hstack(bottom)])


def write_contact_sheet(path: Path, output: Path, frames: Frames, columns: int = 8) -> Path:
    """Write the sheet of `output` (rendered from `frames`) as a PNG, atomically."""
    import cv2

    from vpipe.atomic import atomic_write_bytes

    ok, png = cv2.imencode(".png", contact_sheet(output, frames, columns))
    if not ok:
        raise OSError(f"could not encode {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, png.tobytes())
    return path
