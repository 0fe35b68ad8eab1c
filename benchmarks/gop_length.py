"""How long should the normalised source's GOP be? (splice-gops' `gop` option.)

A row re-encodes every GOP its slot windows touch: on average the window plus one GOP, so
short GOPs make rows cheaper; but every GOP starts with an intra frame, so short GOPs make
the normalised stream (and every output) bigger. For each GOP length this measures, on a
real clip: the normalised stream's bitrate, and the median time to splice a row whose
re-rendered window (26 frames, a typical slot of 0.8 s plus margins) starts at each frame
position in turn — what a row pays for its video.

Usage: python benchmarks/gop_length.py [--clip glasses] [--gops 6,12,25,50] [--repeat 3]
Prints one JSON line per GOP length, then a table.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import CLIPS, MEDIA, median

WINDOW = 26  # frames re-rendered by a typical row (0.8 s slot + 2 × 120 ms margins at 25 fps)


def measure(source: Path, gop: int, work: Path, repeat: int) -> dict[str, float]:
    from vpipe.data.media import Frames, GopIndex
    from vpipe.media.decode import frame_timing, iter_frames, read_audio
    from vpipe.media.normalize import frame_psnr, gop_table, normalize
    from vpipe.media.splice import splice
    from vpipe.media.write import VideoSettings

    target = work / f"norm-{gop}.mp4"
    t0 = time.perf_counter()
    settings = normalize(source, target, 12, "veryfast", gop)
    seconds_normalise = time.perf_counter() - t0
    table = gop_table(target)
    timing = frame_timing(target)
    index = GopIndex(source, settings.to_json(), table.starts, table.digests, table.pts, frame_psnr(source, target), 0)
    audio = read_audio(source)
    n = len(timing.pts)
    images = {i: im for i, _, im in iter_frames(target)}
    times: list[float] = []
    reencoded: list[int] = []
    for start in range(0, n - WINDOW, max(1, (n - WINDOW) // 8)):
        rendered = {k: images[k] for k in range(start, start + WINDOW)}
        frames = Frames(target, timing.times, np.arange(n), rendered, timing.time_base, settings.width, settings.height)
        for _ in range(repeat):
            t0 = time.perf_counter()
            report = splice(frames, target, index, audio, work / "row.mp4", VideoSettings())
            times.append(time.perf_counter() - t0)
        reencoded.append(int(report["reencoded_frames"]))
    duration = float(timing.times[-1] - timing.times[0]) + float(np.median(np.diff(timing.times)))
    return {
        "gop": gop,
        "kbit_per_s": round(target.stat().st_size * 8 / 1000 / duration, 1),
        "normalise_s": round(seconds_normalise, 3),
        "row_splice_s": round(median(times), 4),
        "reencoded_frames": float(np.median(reencoded)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", default="glasses", choices=[c.name for c in CLIPS])
    parser.add_argument("--gops", default="6,12,25,50")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    clip = next(c for c in CLIPS if c.name == args.clip)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for gop in (int(g) for g in args.gops.split(",")):
            result = {"clip": clip.name, **measure(MEDIA / clip.file, gop, Path(tmp), args.repeat)}
            print(json.dumps(result), flush=True)
            rows.append(result)
    print("\n| GOP (frames) | normalised kbit/s | row splice, s (median) | frames re-encoded per row |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r['gop']} | {r['kbit_per_s']} | {r['row_splice_s']} | {r['reencoded_frames']:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
