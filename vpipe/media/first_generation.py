"""The recording's own pictures for the GOPs a row re-encodes (first generation).

A spliced row re-encodes whole GOPs, but only the frames inside the lip-sync windows
changed; the others in those GOPs must look as they do in the copied GOPs. Encoding them
from the *normalised* stream's decoded pictures would make them second-generation copies
(the recording encoded twice at the output's quality): on the quickstart that cost ~2.5 dB
(normalised frames 47.6 dB against the recording, re-encoded ones about 43 dB). So they are
encoded from the recording's own pictures instead, in exactly the layout normalisation fed
its encoder (upright, 8-bit video-range yuv420p), and end up as good as the copied frames.

Most recordings have one keyframe, so reaching a frame means decoding from the start. The
pictures of each GOP are therefore decoded once, on the first row that needs them, and kept
beside the normalised file (`<normalised>.gen1/<first frame>.npy`, raw I420, written
atomically, read memory-mapped): later rows and other workers read them back. Only GOPs
that some row re-encodes are ever stored (a few per slot), never the whole video.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from vpipe.atomic import atomic_path, make_dirs
from vpipe.data.media import GopIndex, VideoSource

VERSION = "1"  # part of the folder's name: a change of layout starts a new store


class FirstGenerationError(Exception):
    pass


def store_folder(normalized: Path, index: GopIndex | None = None) -> Path:
    """Where the pictures of a normalised file's GOPs are kept (its name says whose they are:
    the normalised file is named by the recording's content and the normalisation settings);
    an index of the source's own GOPs names its folder itself (the source is not ours to
    write beside)."""
    if index is not None and index.pictures is not None:
        return index.pictures
    return normalized.with_name(f"{normalized.stem}.gen{VERSION}")


def gop_file(folder: Path, first: int) -> Path:
    return folder / f"{first:08d}.npy"


def recording_pictures(index: GopIndex, normalized: Path, gops: Iterable[int]) -> dict[int, np.ndarray]:
    """Source frame → its picture in the recording (I420, shape (height·3/2, width), uint8,
    read-only) for every frame of `gops`; GOPs not stored yet are decoded from the recording
    first. Raises FirstGenerationError when the recording no longer has those frames."""
    folder = store_folder(normalized, index)
    make_dirs(folder, folder.parent)  # a link planted at the folder's name is refused
    wanted = sorted(set(gops))
    missing = [g for g in wanted if not gop_file(folder, index.gop_range(g)[0]).is_file()]
    if missing:
        _store(index, folder, missing)
    return stored_pictures(folder, [index.gop_range(g) for g in wanted])


def stored_pictures(folder: Path, ranges: Iterable[tuple[int, int]]) -> dict[int, np.ndarray]:
    """Source frame → its stored picture (read-only, memory-mapped) for each stored GOP whose
    frames are `[first, end)`. Raises FirstGenerationError when a GOP is missing or its file does
    not hold exactly those frames (a damaged or foreign store is never read as if it were right)."""
    pictures: dict[int, np.ndarray] = {}
    for first, end in ranges:
        first, end = int(first), int(end)
        try:
            block = np.load(gop_file(folder, first), mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise FirstGenerationError(f"stored pictures of frames {first}-{end - 1}: {exc}") from None
        if block.shape[0] != end - first or block.dtype != np.uint8 or block.ndim != 3:
            raise FirstGenerationError(f"stored pictures of frames {first}-{end - 1} do not match the index")
        for i in range(first, end):
            pictures[i] = block[i - first]
    return pictures


def source_images(video: VideoSource, wanted: Iterable[int]) -> Iterator[tuple[int, float, np.ndarray]]:
    """(index, seconds, upright BGR image) of the `wanted` frames, in order: the pictures a row's
    edit starts from. For a normalised source, the recording's own (first generation), read and
    stored for the GOPs that hold them only (the splice re-encodes those GOPs anyway; slots far
    apart never store the minutes between them); otherwise decoded from the video itself."""
    from vpipe.media.convert import frame_to_bgr
    from vpipe.media.decode import iter_frames

    frames = sorted({i for i in wanted if 0 <= i < video.frames})
    if not frames:
        return
    if video.gops is None:
        keep = set(frames)
        yield from ((i, t, image) for i, t, image in iter_frames(video.path, frames[0], frames[-1] + 1) if i in keep)
        return
    index = video.gops
    pictures = recording_pictures(index, video.path, {int(g) for g in index.gop_of(np.asarray(frames))})
    for i in frames:
        yield i, float(video.times[i]), frame_to_bgr(as_frame(pictures[i]))


def as_frame(picture: np.ndarray) -> Any:
    """An I420 picture as a yuv420p av.VideoFrame (video range, like the normalised stream's)."""
    import av

    return av.VideoFrame.from_ndarray(np.ascontiguousarray(picture), format="yuv420p")


def _store(index: GopIndex, folder: Path, gops: list[int]) -> None:
    """Decode the recording once from the keyframe before the first missing GOP to the end of
    the last, converting only the frames of the missing GOPs, and store each GOP as it completes."""
    import av

    from vpipe.media.normalize import _planar

    ranges = [index.gop_range(g) for g in gops]
    ends = dict(ranges)
    want = np.zeros(index.pts.shape[0], bool)
    for first, end in ranges:
        want[first:end] = True
    blocks: dict[int, dict[int, np.ndarray]] = {first: {} for first, _ in ranges}
    gop_first = {i: first for first, end in ranges for i in range(first, end)}
    last_needed = ranges[-1][1] - 1
    try:
        shift = _timestamp_shift(index)
        with av.open(str(index.original)) as src:
            stream = src.streams.video[0]
            stream.thread_type = "AUTO"
            src.seek(int(index.pts[ranges[0][0]]) + shift, stream=stream, backward=True, any_frame=False)
            for frame in src.decode(stream):
                i = _frame_number(frame, index, shift)
                if i is None or not want[i]:
                    if i is not None and i > last_needed:
                        break
                    continue
                first = gop_first[i]
                blocks[first][i] = _planar(frame).to_ndarray()
                end = ends[first]
                if len(blocks[first]) == end - first:
                    _write(gop_file(folder, first), [blocks[first][j] for j in range(first, end)])
                    del blocks[first]
                if i >= last_needed:
                    break
    except av.error.FFmpegError as exc:
        raise FirstGenerationError(f"cannot read {index.original.name}: {exc}") from None
    if blocks:
        lost = ", ".join(f"{first}" for first in sorted(blocks))
        raise FirstGenerationError(f"{index.original.name} lacks frames of the GOPs starting at {lost}")


def _timestamp_shift(index: GopIndex) -> int:
    """Recording timestamp − normalised timestamp of the same frame. Normalisation writes each
    frame with its own timestamp, but the MP4 muxer starts the normalised stream at 0: a
    recording that does not start at 0 (a cut, a loop) is shifted by its first timestamp."""
    from vpipe.media.decode import frame_timing

    recorded = frame_timing(index.original).pts  # demuxed, nothing decoded
    if recorded.shape[0] == 0:
        raise FirstGenerationError(f"{index.original.name} has no video frame")
    return int(recorded[0]) - int(index.pts[0])


def _frame_number(frame: Any, index: GopIndex, shift: int) -> int | None:
    """The normalised stream's number of a decoded recording frame, found by its timestamp."""
    if frame.pts is None:
        return None
    pts = frame.pts - shift
    i = int(np.searchsorted(index.pts, pts))
    return i if i < index.pts.shape[0] and index.pts[i] == pts else None


def _write(target: Path, pictures: list[np.ndarray]) -> None:
    with atomic_path(target) as tmp, open(tmp, "wb") as handle:
        np.save(handle, np.stack(pictures), allow_pickle=False)
