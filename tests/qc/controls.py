"""Control files for `vpipe eval`, made from a real output: what a broken pipeline would
write. Each must be flagged, while the real output passes."""

from __future__ import annotations

import subprocess
from pathlib import Path


def _ffmpeg(*args: str | Path) -> None:
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *map(str, args)], check=True)


def untouched_mouth(source: Path, output: Path, path: Path) -> Path:
    """The new audio over the source's own pictures: the mouth says the recorded words."""
    _ffmpeg("-i", source, "-i", output, "-map", "0:v", "-map", "1:a", "-c", "copy", "-shortest", path)
    return path


def shifted_audio(output: Path, path: Path, ms: int = 200) -> Path:
    """The output with its audio 200 ms late (silence padded in front, the end cut)."""
    _ffmpeg("-i", output, "-af", f"adelay={ms}:all=1", "-c:v", "copy", "-c:a", "aac", "-shortest", path)
    return path


def frozen_mouth(output: Path, start: float, end: float, path: Path) -> Path:
    """The output with every frame shown from `start` to `end` (seconds) replaced by the first
    of them (frame indices from the file's own timestamps: sources may have a variable rate)."""
    from vpipe.media.decode import frame_timing

    times = frame_timing(output).times
    times = times - times[0]
    inside = [k for k, t in enumerate(times) if start <= t < end]
    first, last = inside[0], inside[-1]
    _ffmpeg(
        "-i", output, "-i", output,
        "-filter_complex", f"[0:v][1:v]freezeframes=first={first}:last={last}:replace={first}[v]",
        "-map", "[v]", "-map", "0:a", "-c:v", "libx264", "-crf", "12", "-preset", "veryfast",
        "-fps_mode", "passthrough", "-c:a", "copy", path,
    )  # fmt: skip
    return path


def sound_moved_after(output: Path, at: float, path: Path, ms: int = 200) -> Path:
    """The output with `ms` of silence put into its audio at `at` seconds, the pictures left as
    they were: what an elastic slot whose pictures were not retimed looks like (in sync before
    the edit, out of sync after it)."""
    graph = (
        f"[0:a]atrim=0:{at},asetpts=PTS-STARTPTS[a1];"
        f"[0:a]atrim={at},asetpts=PTS-STARTPTS,adelay={ms}:all=1[a2];[a1][a2]concat=n=2:v=0:a=1[a]"
    )
    _ffmpeg("-i", output, "-filter_complex", graph, "-map", "0:v", "-map", "[a]", "-c:v", "copy", "-c:a", "aac", path)
    return path
