"""Decoding with PyAV: the audio track as float PCM, video frames as BGR arrays with their
exact presentation times (variable-frame-rate sources keep their timing). Pictures come out
as a viewer sees them: a display matrix (phone videos) is applied, so everything downstream
(face tracking, lip-sync, QC, the encoder) works on upright frames."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vpipe.data.audio import Audio
from vpipe.media.convert import frame_to_bgr, frame_to_rgb, is_full_range, plane_arrays


class DecodeError(Exception):
    pass


# Probing a file's streams (libavformat's find_stream_info, on every open) decodes the first
# video picture, a key frame, on a codec context of its own, to guess parameters, and throws it
# away: 2-9 ms an open on the shared clips and the quickstart (a detailed key frame costs
# most). "skip_frame": "all" makes that probe decode no picture. It reaches only the probe's
# codec context: the decoder PyAV opens for the frames read has its own, without it, so the
# same frames come out (tests/qc/test_copied_in_place.py, test_a_plain_mp4_opened_unprobed_
# decodes_the_same_frames; tests/qc/test_no_pictures.py for the audio read this way).
NO_PICTURES = {"skip_frame": "all"}
# Opening without probing: libavformat reads no packet to guess the streams' parameters (with
# NO_PICTURES, ~0.4 ms an open instead of 4-9). Only for a file whose boxes already say
# everything a decoder needs and whose frames are shown in decoding order
# (qc/copied_in_place.py `read_in_place`); there it decodes the same frames (the tests above).
UNPROBED = {"analyzeduration": "0", "probesize": "32", **NO_PICTURES}


def _open(path: Path, probe: bool = True):  # type: ignore[no-untyped-def]
    import av

    try:
        return av.open(str(path)) if probe else av.open(str(path), options=UNPROBED)
    except av.error.FFmpegError as exc:
        raise DecodeError(f"cannot open {path.name}: {exc.strerror}") from None


def read_audio(path: Path, rate: int | None = None, mono: bool = False) -> Audio:
    """The first audio track, as float32 (n, channels); resampled when `rate` is given."""
    chunks: list[np.ndarray] = []
    out_rate, start = 0, 0.0
    for chunk, found_rate, found_start in iter_audio(path, rate, mono):
        chunks.append(chunk)
        out_rate, start = found_rate, found_start
    if not chunks:
        raise DecodeError(f"the audio track of {path.name} is empty")
    planar = np.concatenate(chunks, axis=1).astype(np.float32, copy=False)
    chunks.clear()  # not held while the planar track is interleaved: two copies of it at once, not three
    return Audio(np.ascontiguousarray(planar.T), out_rate, start)


def iter_audio(path: Path, rate: int | None = None, mono: bool = False) -> Iterator[tuple[np.ndarray, int, float]]:
    """The first audio track as `read_audio` decodes it, a block at a time: (planar samples
    (channels, n) as the resampler gives them, the rate, the track's start time). What reads
    the whole track once (a figure of the recording) need not hold all of it."""
    import av

    with _open(path) as container:
        if not container.streams.audio:
            raise DecodeError(f"{path.name} has no audio track")
        stream = container.streams.audio[0]
        out_rate = rate or stream.codec_context.sample_rate
        layout = "mono" if mono else stream.codec_context.layout.name
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=out_rate)
        start = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    yield out.to_ndarray(), out_rate, start
            for out in resampler.resample(None):
                yield out.to_ndarray(), out_rate, start
        except av.error.FFmpegError as exc:
            raise DecodeError(f"cannot decode the audio of {path.name}: {exc.strerror}") from None


@dataclass(frozen=True)
class FrameTiming:
    pts: np.ndarray  # int64, in `time_base` units, one per decoded frame (presentation order)
    time_base: tuple[int, int]
    times: np.ndarray  # float64 seconds

    @property
    def count(self) -> int:
        return int(self.pts.shape[0])


def frame_timing(path: Path) -> FrameTiming:
    """Presentation timestamps of every video frame, without decoding pixels."""
    with _open(path) as container:
        stream = container.streams.video[0]
        pts = sorted(p.pts for p in container.demux(stream) if p.pts is not None and p.size)
        tb = stream.time_base
    arr = np.asarray(pts, dtype=np.int64)
    return FrameTiming(arr, (tb.numerator, tb.denominator), arr * float(tb))


def iter_frames(
    path: Path, start: int = 0, stop: int | None = None, pts: np.ndarray | None = None
) -> Iterator[tuple[int, float, np.ndarray]]:
    """(index, seconds, BGR uint8 image) for frames start..stop-1 in presentation order.
    With `pts` (every frame's timestamp, sorted), decoding starts at the keyframe before
    `start` instead of the first frame: a source with short GOPs is read only where needed."""
    for index, _, frame in iter_decoded(path, start, pts):
        if index < start:
            continue
        if stop is not None and index >= stop:
            break
        yield index, float(frame.time), to_bgr(frame)


def iter_decoded(
    path: Path, start: int = 0, pts: np.ndarray | None = None, threads: bool = True, probe: bool = True
) -> Iterator[tuple[int, float, object]]:
    """(index, seconds, av.VideoFrame) in presentation order, for callers that need only a
    plane (luma for PSNR) and would waste time converting every frame to BGR. With `pts`
    (see iter_frames) it seeks to the keyframe before frame `start` first. threads=False
    decodes on this thread only (the same pictures): for a few dozen frames, frame threads
    cost more CPU than they save. probe=False: see UNPROBED."""
    with _open(path, probe) as container:
        stream = container.streams.video[0]
        if threads:
            stream.thread_type = "AUTO"
        else:
            stream.codec_context.thread_count = 1
        if pts is None or start <= 0 or start >= len(pts):
            for index, frame in enumerate(container.decode(stream)):
                yield index, float(frame.time), frame
            return
        container.seek(int(pts[start]), stream=stream, backward=True, any_frame=False)
        for frame in container.decode(stream):
            index = int(np.searchsorted(pts, frame.pts)) if frame.pts is not None else -1
            if index < 0 or index >= len(pts) or pts[index] != frame.pts:
                continue  # not a frame of the index (cannot happen for the stream it was made from)
            yield index, float(frame.time), frame


def quarter_turns(frame) -> int:  # type: ignore[no-untyped-def]
    """Counter-clockwise quarter turns that make a decoded picture upright: its display matrix
    (a phone stores a portrait video sideways and says so; PyAV reports it as `rotation`)."""
    return round(float(getattr(frame, "rotation", 0) or 0) / 90) % 4


full_range = is_full_range


# 8-bit planar formats whose first plane is the Y plane, read as it is
_Y_PLANE_8BIT = ("yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "gray", "nv12")


def luma(frame) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The Y plane of a decoded frame as a viewer sees it: upright, float32 in 8-bit video range
    (10-bit samples scaled, full-range samples mapped), so frames of any layout compare."""
    if frame.format.name in _Y_PLANE_8BIT:
        y = plane_arrays(frame)[0].astype(np.float32)  # the Y plane without its line padding
    else:  # high bit depth or packed formats: swscale gives the Y plane of 4:4:4 at 8 bits
        y = frame.reformat(format="yuvj444p" if full_range(frame) else "yuv444p").to_ndarray()[0]
        y = y.astype(np.float32)
    return _turned(_video_range(y, full_range(frame)), frame)


def _video_range(y: np.ndarray, full: bool) -> np.ndarray:
    """float32 luma samples in 8-bit video range (full-range samples mapped), each on its own."""
    return 16.0 + y * (219.0 / 255.0) if full else y


class LumaRegions:
    """`luma(frame)` read region by region: `regions[y0:y1, x0:x1]` is `luma(frame)[y0:y1,
    x0:x1]` to the bit, and `shape` its shape. An 8-bit planar frame shown as stored (no
    display matrix) converts only the region asked for: each sample is converted on its own
    (tests/kernels/test_luma_regions.py, every format and shape). Any other frame is converted
    whole, once, when first read. The frame is only read, never changed, so another thread
    may read it at the same time."""

    def __init__(self, frame) -> None:  # type: ignore[no-untyped-def]
        turns = quarter_turns(frame)
        self._plane = plane_arrays(frame)[0] if frame.format.name in _Y_PLANE_8BIT and not turns else None
        self._frame = None if self._plane is not None else frame
        self._full = full_range(frame)
        self._whole: np.ndarray | None = None
        self.shape = (frame.width, frame.height) if turns % 2 else (frame.height, frame.width)

    def __getitem__(self, key: tuple[slice, slice]) -> np.ndarray:
        if self._plane is not None:
            return _video_range(self._plane[key].astype(np.float32), self._full)
        if self._whole is None:
            self._whole = luma(self._frame)
        return self._whole[key]


def to_bgr(frame) -> np.ndarray:  # type: ignore[no-untyped-def]
    """A decoded frame as an upright BGR image (the conversion lives in `media/convert.py`;
    the display matrix is applied here)."""
    return _turned(frame_to_bgr(frame), frame)


def to_rgb(frame) -> np.ndarray:  # type: ignore[no-untyped-def]
    """to_bgr's image in RGB order, bit for bit (convert.frame_to_rgb; turning an image upright
    moves whole pixels, so it commutes with the channel order)."""
    return _turned(frame_to_rgb(frame), frame)


def _turned(image: np.ndarray, frame) -> np.ndarray:  # type: ignore[no-untyped-def]
    """`image` (a plane or a picture of `frame`) turned upright by the frame's display matrix."""
    k = quarter_turns(frame)
    return np.ascontiguousarray(np.rot90(image, k)) if k else image


# Planar formats whose planes can each be turned on their own (equal subsampling both ways).
_TURNABLE = ("yuv420p", "yuvj420p", "yuv444p", "yuvj444p", "yuv420p10le", "yuv444p10le", "gray")


def upright(frame):  # type: ignore[no-untyped-def]
    """The decoded frame turned upright as a new frame of the same format and colour tags
    (each plane turned: exact, no resampling), or a BGR image for formats whose chroma
    subsampling a quarter turn would change (4:2:2)."""
    import av

    k = quarter_turns(frame)
    if k == 0:
        return frame
    name = frame.format.name
    if name not in _TURNABLE:
        return to_bgr(frame)
    w, h = (frame.height, frame.width) if k % 2 else (frame.width, frame.height)
    out = av.VideoFrame(w, h, name)
    dtype = np.uint16 if name.endswith("10le") else np.uint8
    for src, dst in zip(frame.planes, out.planes, strict=True):
        a = np.frombuffer(src, dtype).reshape(-1, src.line_size // dtype().itemsize)[: src.height, : src.width]
        turned = np.rot90(a, k)
        view = np.frombuffer(dst, dtype).reshape(-1, dst.line_size // dtype().itemsize)
        view[: turned.shape[0], : turned.shape[1]] = turned
    out.color_range = frame.color_range
    out.colorspace = frame.colorspace
    return out


def read_frames(
    path: Path,
    indices: list[int] | None = None,
    pts: np.ndarray | None = None,
    threads: bool = True,
    probe: bool = True,
) -> dict[int, np.ndarray]:
    """Decode the frames with the given indices (all frames when None); with `pts` (see
    iter_frames) from the keyframe before the first one. Only the frames asked for are
    converted to BGR (the ones between are decoded, never converted). threads, probe: see
    iter_decoded."""
    return {i: to_bgr(frame) for i, frame in _wanted(path, indices, pts, threads, probe)}


def read_decoded(
    path: Path, indices: list[int], pts: np.ndarray | None = None, threads: bool = True, probe: bool = True
) -> dict[int, object]:
    """read_frames' frames as the decoder gives them (av.VideoFrame), not converted."""
    return dict(_wanted(path, indices, pts, threads, probe))


def _wanted(
    path: Path, indices: list[int] | None, pts: np.ndarray | None, threads: bool, probe: bool
) -> Iterator[tuple[int, object]]:
    """(index, frame) of the frames asked for (all when None) as they are decoded, from the
    keyframe before the first one (with `pts`) up to the last one."""
    wanted = set(indices) if indices is not None else None
    if wanted is not None and not wanted:
        return
    stop = max(wanted) if wanted else None
    for i, _, frame in iter_decoded(path, min(wanted) if wanted else 0, pts, threads, probe):
        if wanted is None or i in wanted:
            yield i, frame
        if stop is not None and i >= stop:
            break
