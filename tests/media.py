"""Test media: paths of the shared real clips, and tiny synthetic clips made on demand.

The shared clips live in ../shared/media beside the project. In CI (CI=true) their
absence is a failure, not a skip: a suite that silently skips its real-media tests
proves nothing.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_MEDIA = ROOT.parent / "shared" / "media"


def shared_media(name: str) -> Path:
    path = SHARED_MEDIA / name
    if not path.is_file():
        if os.environ.get("CI") or (ROOT.parent / "shared").is_dir():
            pytest.fail(f"shared test media missing: {path}")
        pytest.skip(f"shared test media not available: {path}")
    return path


def make_video(
    path: Path,
    seconds: float = 1.0,
    fps: int = 25,
    size: tuple[int, int] = (64, 64),
    audio: bool = True,
    sample_rate: int = 16000,
) -> Path:
    """A small H.264 (+ AAC) clip: a moving gradient and a 220 Hz tone. Deterministic."""
    import av

    w, h = size
    n = round(seconds * fps)
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.options = {"preset": "ultrafast"}
        a_stream = None
        if audio:
            a_stream = out.add_stream("aac", rate=sample_rate)
            a_stream.layout = "mono"
        yy, xx = np.mgrid[0:h, 0:w]
        for i in range(n):
            img = np.stack([(xx * 4 + i * 3) % 256, (yy * 4) % 256, np.full_like(xx, 128)], -1).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for packet in vs.encode(frame):
                out.mux(packet)
        for packet in vs.encode():
            out.mux(packet)
        if a_stream is not None:
            t = np.arange(int(seconds * sample_rate)) / sample_rate
            pcm = (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
            chunk = 1024
            for start in range(0, len(pcm), chunk):
                block = pcm[start : start + chunk]
                frame = av.AudioFrame.from_ndarray(block[None, :], format="flt", layout="mono")
                frame.sample_rate = sample_rate
                frame.pts = start
                frame.time_base = Fraction(1, sample_rate)
                for packet in a_stream.encode(frame):
                    out.mux(packet)
            for packet in a_stream.encode():
                out.mux(packet)
    return path


def write_video(
    path: Path, images: Sequence[np.ndarray], times: Sequence[float] | None = None, fps: int = 25, crf: int = 12
) -> Path:
    """Encode BGR images as near-lossless H.264 (no audio): at `times` (seconds; a variable
    frame rate is kept) or at a constant `fps`."""
    import av

    rate = 15360
    stamps = list(times) if times is not None else [i / fps for i in range(len(images))]
    steps = np.diff(stamps)
    nominal = max(fps, round(1 / steps[steps > 0].min())) if (steps > 0).any() else fps  # the fastest frame rate
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=nominal)
        stream.height, stream.width = images[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, rate)
        stream.options = {"preset": "ultrafast", "crf": str(crf)}
        for img, t in zip(images, stamps, strict=True):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="bgr24")
            frame.pts = round(t * rate)
            frame.time_base = Fraction(1, rate)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def frame_hashes(path: Path) -> list[tuple[int, str]]:
    """(pts, sha256 of the three yuv420p planes) of every decoded frame, in presentation order:
    what "bit-identical frames" means in the splice tests."""
    import hashlib

    import av

    out = []
    with av.open(str(path)) as c:
        for frame in c.decode(c.streams.video[0]):
            h = hashlib.sha256()
            for plane in frame.to_ndarray(format="yuv420p"):
                h.update(np.ascontiguousarray(plane).tobytes())
            out.append((int(frame.pts), h.hexdigest()))
    return out
