"""Splicing on the source's own GOPs against normalising it: what a row and the shared phase cost.

Sources are made here, never committed: the glasses clip (looped to `--seconds` by stream
copy, as benchmarks/scaling.py does) re-encoded by x264 with closed GOPs of each length in
`--gops` and 3 B-frames. For each source, both paths the compiler can take:

- own: `media.gop_layout` + `media.own_gops` (demux, no re-encode) as the shared phase; a
  row reads its window's pictures from the source's own GOPs and splices on them;
- normalised (`--disable-pass own-gops`): the source normalised once (12-frame GOPs, the
  `media.normalize` kernel's work: encode, GOP table, timing, per-frame PSNR); a row reads its
  pictures from the first-generation store (warmed first: a later row) and splices.

Per row: the median CPU seconds, over window positions spread through the source and
`--repeat` repetitions, of what the video costs a row: `source_images` for a 26-frame window
(what the lip-sync renderer starts from) + the splice that writes the file (with 0.2 s of
sound: the row's AAC is spliced by splice-aac alike on both paths). Shared: the median
over `--repeat` runs of each path's shared phase. All in this process, CPU seconds
(`time.process_time`: the machine is shared), ratios from the same run.

`--runs N` adds whole `vpipe run` measurements on the `--run-gop` source (N rows, fresh cache
each, one process per run): the median CPU seconds of a row after the first (lip-sync, speech
and QC included) and the shared phase's seconds, own against `--disable-pass own-gops`.

Usage: python benchmarks/own_gops.py [--seconds 5,30] [--gops 12,25,50,100] [--repeat 3] [--runs 4]
Prints one JSON line per measurement, then tables.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import MEDIA, looped_recipe, median
from tests.clips import GLASSES

WINDOW = 26  # frames re-rendered by a typical row (0.8 s slot + 2 × 120 ms margins at 25 fps)
NORMALISED_GOP = 12  # splice-gops' default


def cpu(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.process_time()
    out = fn()
    return time.process_time() - t0, out


def closed_gop_source(seconds: float, gop: int, work: Path) -> tuple[Path, int]:
    from benchmarks.scaling import looped
    from tests.gop_sources import reencode

    loop, times = looped(MEDIA / GLASSES.file, seconds, work)
    return reencode(loop, work / f"closed-{gop}-{times}x.mp4", f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=3:open-gop=0"), times


def shared_own(source: Path) -> Any:
    from vpipe.media.source_gops import inspect, own_index

    layout = inspect(source, 1 << 30)
    return own_index(source, layout, 12, "veryfast", source.with_name(f"{source.stem}.own.gen1"))


def shared_normalised(source: Path, target: Path) -> Any:
    """What the media.normalize kernel does."""
    from vpipe.data.media import GopIndex
    from vpipe.media.decode import frame_timing
    from vpipe.media.normalize import frame_psnr, gop_table, normalize

    settings = normalize(source, target, 12, "veryfast", NORMALISED_GOP)
    table = gop_table(target)
    frame_timing(target)
    psnr = frame_psnr(source, target)
    return GopIndex(source, settings.to_json(), table.starts, table.digests, table.pts, psnr, target.stat().st_size)


def row_costs(stream: Path, index: Any, images: dict[int, np.ndarray], work: Path, repeat: int) -> list[float]:
    """CPU seconds of each row's video: its window's pictures read, then the splice."""
    from vpipe.data.audio import Audio
    from vpipe.data.media import Frames, VideoSource
    from vpipe.media.decode import frame_timing, read_audio
    from vpipe.media.first_generation import source_images
    from vpipe.media.splice import splice
    from vpipe.media.write import VideoSettings

    timing = frame_timing(stream)
    n = timing.count
    encoder = index.encoder
    video = VideoSource(stream, "", int(encoder["width"]), int(encoder["height"]), timing.times, timing.time_base, 0.0, True, index)
    sound = read_audio(index.original)
    # a fifth of a second of sound: the row's AAC is not what is compared (splice-aac splices it
    # the same way on both paths), and a whole track encoded per row would drown the video
    audio = Audio(sound.samples[: sound.rate // 5], sound.rate, sound.start)
    costs = []
    for start in range(WINDOW, n - 2 * WINDOW, max(1, (n - 3 * WINDOW) // 8)):
        window = list(range(start, start + WINDOW))
        frames = Frames(stream, timing.times, np.arange(n), {k: images[k % len(images)] for k in window},
                        timing.time_base, video.width, video.height)  # fmt: skip

        def row(frames: Frames = frames, window: list[int] = window) -> None:
            list(source_images(video, window))
            splice(frames, stream, index, audio, work / "row.mp4", VideoSettings())

        costs += [cpu(row)[0] for _ in range(repeat)]
    return costs


def measure(seconds: float, gop: int, work: Path, repeat: int) -> dict[str, Any]:
    from vpipe.media.decode import iter_frames
    from vpipe.media.first_generation import recording_pictures

    source, times = closed_gop_source(seconds, gop, work)
    own_shared = [cpu(lambda: shared_own(source))[0] for _ in range(repeat)]
    own = shared_own(source)
    target = work / f"norm-{gop}-{times}.mp4"
    norm_shared = [cpu(lambda: shared_normalised(source, target))[0] for _ in range(max(1, repeat - 1))]
    norm = shared_normalised(source, target)
    recording_pictures(norm, target, range(len(norm.starts)))  # later rows: the stores are warm
    recording_pictures(own, source, range(len(own.starts)))
    images = {i: im for i, _, im in iter_frames(MEDIA / GLASSES.file)}  # stand-ins for re-rendered frames
    own_rows = row_costs(source, own, images, work, repeat)
    norm_rows = row_costs(target, norm, images, work, repeat)
    return {
        "seconds": round(times * 4.88, 1),
        "gop": gop,
        "frames": int(own.pts.shape[0]),
        "own_shared_cpu_s": round(median(own_shared), 3),
        "normalised_shared_cpu_s": round(median(norm_shared), 3),
        "shared_saving_cpu_s": round(median(norm_shared) - median(own_shared), 3),
        "own_row_cpu_s": round(median(own_rows), 3),
        "normalised_row_cpu_s": round(median(norm_rows), 3),
        "own_over_normalised": round(median(own_rows) / median(norm_rows), 2),
    }


def whole_runs(gop: int, rows: int, work: Path) -> dict[str, Any]:
    """`vpipe run` with `rows` rows on a closed-GOP source: own GOPs against normalised."""
    from benchmarks.scaling import vpipe_run

    source, times = closed_gop_source(5, gop, work)
    out: dict[str, Any] = {"gop": gop, "rows": rows}
    for name, extra in (("own", ()), ("normalised", ("--disable-pass", "own-gops"))):
        folder = work / f"run-{name}"
        recipe = looped_recipe(folder, source, times, GLASSES.values, rows, name=f"own-gops-{name}")
        run = vpipe_run(recipe, folder / "cache", *extra)
        assert run["code"] == 0, f"{name} run failed"
        later = [r for r in run["rows"] if r["status"] == "ok"][1:]
        out[f"{name}_row_cpu_s"] = round(median([r["cpu_seconds"] for r in later]), 3)
        out[f"{name}_shared_s"] = round(run["shared"].get("seconds", 0.0), 2)
        out[f"{name}_verdicts"] = [r.get("verdict") for r in run["rows"]]
    out["own_over_normalised"] = round(out["own_row_cpu_s"] / out["normalised_row_cpu_s"], 2)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", default="5,30", help="source lengths (the glasses clip looped)")
    parser.add_argument("--gops", default="12,25,50,100", help="closed GOP lengths of the sources (frames)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--runs", type=int, default=0, help="rows of the whole `vpipe run` comparison (0: skip)")
    parser.add_argument("--run-gop", type=int, default=25)
    args = parser.parse_args()
    results, runs = [], None
    with tempfile.TemporaryDirectory() as tmp:
        for seconds in (float(s) for s in args.seconds.split(",")):
            for gop in (int(g) for g in args.gops.split(",")):
                work = Path(tmp) / f"{seconds:g}-{gop}"
                work.mkdir()
                result = measure(seconds, gop, work, args.repeat)
                print(json.dumps(result), flush=True)
                results.append(result)
        if args.runs:
            work = Path(tmp) / "runs"
            work.mkdir()
            runs = whole_runs(args.run_gop, args.runs, work)
            print(json.dumps(runs), flush=True)
    print("\n| source s | GOP | shared own / normalised (CPU s) | row own / normalised (CPU s) | own ÷ normalised |")
    print("|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['seconds']} | {r['gop']} | {r['own_shared_cpu_s']} / {r['normalised_shared_cpu_s']} | "
            f"{r['own_row_cpu_s']} / {r['normalised_row_cpu_s']} | {r['own_over_normalised']} |"
        )
    if runs:
        print(f"\nwhole rows (vpipe run, {runs['rows']} rows, GOP {runs['gop']}): own {runs['own_row_cpu_s']} s, "
              f"normalised {runs['normalised_row_cpu_s']} s CPU per row after the first ({runs['own_over_normalised']}×); "
              f"shared {runs['own_shared_s']} s vs {runs['normalised_shared_s']} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
