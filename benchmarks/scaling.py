"""Per-row cost against the length of the recording: naive vs compiled (part of `make bench`).

The glasses clip (4.9 s, 524², 25 fps) is looped to about 30 s and 120 s inside this
benchmark's temporary folder (ffmpeg concat, stream copy: nothing is committed), with the
transcript repeated and the slot on the first "regulation". For each length, `vpipe run
--jobs 1` renders N rows in a fresh process:

- compiled: the default pipeline, fresh cache. Per-row marginal cost = the median of the
  rows' own CPU seconds in the manifest, first row excluded (it pays the process's imports);
  the rows carry 100 distinct values, so no row is a copy of another;
- rows 1/10/100: the same run with each of `--rows` counts (at `--rows-at`'s length its
  counts instead), each in a fresh process with a fresh cache, and the per-row cost from one
  count to the next out of the runs' whole CPU: (T_b − T_a) / (b − a), shared work, start-up
  and first-row warm-up all included in T (so they cancel only as far as they are the same);
  the largest count is the run measured in full (the other columns);
- cached re-run: the same command again (every row up to date), all rows and one row:
  per row = (cpu_all − cpu_one) / (N − 1), the rest is start-up;
- naive: `--pipeline O0 --no-cache` (no optimisation pass, nothing reused: every row
  aligns, tracks, re-encodes and measures the whole video), two rows, the second one's cost;
- floor: what a row cannot avoid, measured here: its speech (fit, voice match, splice) and
  lip-sync as the compiled rows' manifests time them, plus encoding as many frames as the
  row re-encoded with the normalised stream's encoder and as many AAC blocks as the row's
  sound re-encoded (splice-aac; the whole track where it is not spliced), except where the
  voice guard made the row's AAC splice (to hear it as written) and the write took it: that
  encode is already in the speech ops' CPU, and is not counted a second time; plus muxing
  the whole output (every packet of a rendered row's MP4 copied as it is into a new
  faststart file: the "+ mux" of the issue's floor, which every output of this length needs;
  until the seventh session the floor left it out, and the table gives that ratio too);
- the row's AAC: its CPU seconds as QC reads them off the splice report, beside what
  encoding the whole track costs (what every row paid before splice-aac);
- peak RSS of the compiled run (build, shared work and all its rows: one `vpipe run`): of the
  tree's largest process (getrusage; with `--jobs 1` the vpipe process itself, the speech
  worker apart), and of the whole tree summed (proportional set size, shared pages once),
  sampled every 0.1 s (may miss a short peak).

CPU seconds (all threads of the rendering process; the speech worker's synthesis, a few
tens of ms per row, is apart) because the machine this ran on was shared: wall times there
include waiting for a core and are printed beside them. Medians of repeated measurements
(the rows); ratios from the same run.

Usage: python benchmarks/scaling.py [--lengths 5,30,120] [--rows 1,10] [--rows-at 30:1,10,100]
                                   [--naive-lengths 5,30]
       python benchmarks/scaling.py --combine LOG...   (one table from runs made apart)
`--rows 4` (one count, and then no `--rows-at` unless given) measures as before: one run of 4
rows per length, no whole-run steps. The default (1/10 rows at 5 s and 120 s, 1/10/100 at
30 s, naive at 5 s and 30 s) takes about 15 min of CPU (about 45 min wall on a 2-core machine
shared by six); `make bench` runs it so.
Prints JSON lines and a Markdown table (also written to benchmarks/out/scaling.md).
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import MEDIA, ROOT, looped_recipe, median
from tests.clips import GLASSES

# 100 distinct values: no row is a copy of another (dedupe would copy it, not render it)
VALUES = (
    "oversight", "legislation", "market", "supervision", "framework", "policy",
    "budget", "strategy", "agenda", "mandate", "treaty", "pension",
    "committee", "government", "industry", "economy", "evidence", "research",
    "analysis", "education", "community", "security", "property", "insurance",
    "transport", "energy", "finance", "taxation", "commission", "parliament",
    "minister", "election", "council", "reform", "proposal", "directive",
    "program", "project", "report", "review", "audit", "standard",
    "procedure", "guidance", "approval", "license", "contract", "agreement",
    "partnership", "investment", "development", "innovation", "technology", "science",
    "medicine", "hospital", "compliance", "enforcement", "inspection", "consultation",
    "management", "leadership", "district", "region", "county", "nation",
    "province", "territory", "border", "customs", "trade", "export",
    "import", "harbor", "railway", "highway", "airport", "station",
    "benefit", "subsidy", "allowance", "grant", "loan", "mortgage",
    "salary", "income", "revenue", "deficit", "surplus", "interest",
    "dividend", "capital", "currency", "banking", "pricing", "shipping",
    "farming", "fishing", "mining", "housing",
)  # fmt: skip
assert len(set(VALUES)) == len(VALUES) == 100
OUT = Path(__file__).resolve().parent / "out"
SPEECH_OPS = ("speech", "slot_audio", "matched", "track")


def concat_args(exe: str) -> list[str]:
    return [exe, "-v", "error", "-y", "-f", "concat", "-safe", "0"]


def looped(source: Path, seconds: float, work: Path) -> tuple[Path, int]:
    """`source` repeated to at least `seconds` (stream copy), and how many times."""
    import imageio_ffmpeg

    from vpipe.probe import probe_video

    times = max(1, round(seconds / probe_video(source).duration))
    listing = work / f"loop-{times}.txt"
    listing.write_text("".join(f"file '{source}'\n" for _ in range(times)), encoding="utf-8")
    target = work / f"source-{times}x.mp4"
    subprocess.run(
        [*concat_args(imageio_ffmpeg.get_ffmpeg_exe()), "-i", str(listing), "-c", "copy", str(target)],
        check=True,
    )
    return target, times


def write_recipe(work: Path, source: Path, times: int, rows: int) -> Path:
    return looped_recipe(work, source, times, VALUES, rows, name="scaling")


# Runs the command; prints its exit code, wall seconds, the largest max RSS of any process of
# its tree (getrusage: the vpipe process, and apart from it the speech worker), the tree's CPU
# seconds, and the peak of the whole tree's summed PSS sampled every 0.1 s from /proc (0 where
# there is none): the first is exact but per process; the second adds the processes, each
# shared page counted once (RSS would count a child forked for a moment as a second copy).
_WRAP = """
import os, resource, subprocess, sys, time

def tree_kb(pid):
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                total += next((int(line.split()[1]) for line in f if line.startswith("Pss:")), 0)
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except (OSError, ValueError):
            pass
    return total

t = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
peak = 0
while proc.poll() is None:
    peak = max(peak, tree_kb(proc.pid))
    time.sleep(0.1)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(proc.returncode, time.perf_counter() - t, u.ru_maxrss, u.ru_utime + u.ru_stime, peak)
"""


def vpipe_run(recipe: Path, cache: Path, *extra: str) -> dict[str, Any]:
    """Run `vpipe run` in a fresh process; its wall and CPU seconds, peak RSS and manifest."""
    command = [sys.executable, "-m", "vpipe", "run", str(recipe), "--jobs", "1", "--no-progress"]
    command += ["--cache-dir", str(cache), *extra]
    proc = subprocess.run([sys.executable, "-c", _WRAP, *command], capture_output=True, text=True, cwd=ROOT, check=True)
    code, wall, rss_kb, cpu, tree_kb = proc.stdout.split()
    runs = sorted((recipe.parent / "out" / "runs").glob("*/manifest.jsonl"))  # this run's own manifest
    path = runs[-1] if runs else recipe.parent / "out" / "manifest.jsonl"
    manifest = [json.loads(line) for line in path.read_text().splitlines()]
    return {
        "code": int(code),
        "wall": float(wall),
        "cpu": float(cpu),
        "rss_mb": int(rss_kb) / 1024,
        "tree_rss_mb": int(tree_kb) / 1024 or None,
        "rows": [r for r in manifest if r["type"] == "row"],
        "shared": next((r for r in manifest if r["type"] == "shared"), {}),
    }


def floor_encode(normalised: Path, frames: int, audio_source: Path, audio_blocks: int, repeat: int = 3) -> float:
    """CPU seconds to encode `frames` frames with the normalised stream's encoder settings and
    `audio_blocks` AAC blocks of the row's sound (what the row re-encoded; the whole track
    when the sound is not spliced), and mux them: the video and audio work a row cannot avoid."""
    import av

    from vpipe.data.audio import Audio
    from vpipe.media.decode import frame_timing, iter_decoded, read_audio
    from vpipe.media.normalize import EncoderSettings, new_encoder, nominal_rate
    from vpipe.media.write import VideoSettings, encode

    decoded = [f for _, _, f in itertools.islice(iter_decoded(normalised), max(frames, 1))]  # not the whole video
    whole = read_audio(audio_source)
    audio = Audio(whole.samples[: max(audio_blocks - 1, 1) * 1024], whole.rate)  # the priming block is the encoder's
    with av.open(str(normalised)) as c:
        s = c.streams.video[0]
        tb = s.time_base
        settings = EncoderSettings(
            s.width, s.height, (tb.numerator, tb.denominator), nominal_rate(s), 12, "veryfast", 12
        )
    timing = frame_timing(normalised)
    times = []
    for _ in range(repeat):
        t0 = time.process_time()
        enc = new_encoder(settings)
        for i, f in enumerate(decoded):
            f.pts = int(timing.pts[i])
            enc.encode(f)
        enc.encode(None)
        with tempfile.TemporaryDirectory() as tmp:  # the audio: the row's AAC blocks, muxed
            encode(lambda: iter([]), (settings.width, settings.height), tb, audio, Path(tmp) / "a.mp4", VideoSettings())
        times.append(time.process_time() - t0)
    return median(times)


def floor_mux(output: Path, repeat: int = 3) -> float:
    """CPU seconds to mux every packet of a rendered row's output, as they are, into a new
    faststart MP4 (a stream copy, as `ffmpeg -c copy` would): the "+ mux" of the issue's floor.
    Every output holds the whole video, so a row cannot write less than this; the packets it
    re-encodes are in `floor_encode`, whose own mux of the row's AAC blocks is a few ms."""
    import av

    times = []
    for _ in range(repeat):
        t0 = time.process_time()
        with tempfile.TemporaryDirectory() as tmp, av.open(str(output)) as src:
            kept = [s for s in src.streams if s.type in ("video", "audio")]
            with av.open(str(Path(tmp) / "m.mp4"), "w", options={"movflags": "+faststart"}) as out:
                copies = {s.index: out.add_stream_from_template(s) for s in kept}
                for packet in src.demux(*kept):
                    if packet.dts is None:  # the demuxer's end-of-stream marker
                        continue
                    packet.stream = copies[packet.stream.index]
                    out.mux(packet)
        times.append(time.process_time() - t0)
    return median(times)


def whole_track_aac(audio_source: Path, repeat: int = 3) -> float:
    """CPU seconds to encode the whole sound track as AAC: what every row paid before splice-aac."""
    from vpipe.media.aac_splice import AacSettings, encode_all
    from vpipe.media.decode import read_audio

    audio = read_audio(audio_source)
    settings = AacSettings(audio.rate, min(audio.channels, 2), 128)
    times = []
    for _ in range(repeat):
        t0 = time.process_time()
        encode_all(settings, audio.samples)
        times.append(time.process_time() - t0)
    return median(times)


def run_totals(source: Path, times: int, counts: list[int], work: Path) -> dict[int, dict[str, Any]]:
    """Fresh-cache `vpipe run`s of each of `counts` rows (shared work included): their CPU, wall
    and peak RSS, for the per-row cost from one count to the next out of whole-run totals."""
    out = {}
    for n in counts:
        run = vpipe_run(write_recipe(work / f"rows-{n}", source, times, n), work / f"rows-{n}" / "cache")
        assert run["code"] == 0 and all(r["status"] == "ok" for r in run["rows"]), f"{n}-row run failed"
        out[n] = {"cpu": round(run["cpu"], 2), "wall": round(run["wall"], 1), "rss_mb": round(run["rss_mb"])}
    return out


def steps(totals: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """Per-row CPU from each count of rows to the next: (T_b − T_a) / (b − a) of whole-run totals."""
    ns = sorted(totals)
    return [
        {"from": a, "to": b, "cpu_per_row": round((totals[b]["cpu"] - totals[a]["cpu"]) / (b - a), 3)}
        for a, b in itertools.pairwise(ns)
    ]


def bench_length(seconds: float, counts: list[int], naive: bool, work: Path) -> dict[str, Any]:
    work.mkdir(parents=True)
    source, times = looped(MEDIA / GLASSES.file, seconds, work)
    rows = max(counts)
    recipe = write_recipe(work, source, times, rows)
    cache = work / "cache"
    compiled = vpipe_run(recipe, cache)
    assert compiled["code"] == 0, f"compiled run failed at {seconds} s"
    later = [r for r in compiled["rows"] if r["status"] == "ok"][1:]
    assert later, f"no row rendered at {seconds} s"

    def cpu_of(r: dict[str, Any], *names: str) -> float:
        return sum(r.get("cpu_timings", {}).get(n, 0.0) for n in names)

    marginal = median([r["cpu_seconds"] for r in later])
    qc = median([cpu_of(r, "report") for r in later])
    speech = median([cpu_of(r, *SPEECH_OPS) for r in later])
    lipsync = median([cpu_of(r, "frames") for r in later])
    reencoded = int(median([r["qc"]["metrics"].get("reencoded_frames", 0) for r in later]))
    metrics = [r["qc"]["metrics"] for r in later]
    audio_blocks = int(median([m.get("audio_reencoded_blocks", m.get("audio_blocks", 0)) for m in metrics]))
    audio_cpu = median([m.get("audio_cpu_s", 0.0) for m in metrics])
    normalised = next((cache.parent / "cache-store" / "normalized").glob("*.mp4"))
    in_speech = median([m.get("audio_splice_remembered", 0.0) for m in metrics]) >= 0.5  # encoded by the guard
    video_floor = floor_encode(normalised, reencoded, source, 1 if in_speech else audio_blocks or 1 << 40)
    mux_floor = floor_mux(sorted((recipe.parent / "out").glob("*.mp4"))[-1])
    floor = speech + lipsync + video_floor + mux_floor
    rerun = vpipe_run(recipe, cache)
    rerun_one = vpipe_run(recipe, cache, "--rows", "1")
    assert all(r["status"] == "up-to-date" for r in rerun["rows"]), [r["status"] for r in rerun["rows"]]
    totals = run_totals(source, times, [n for n in counts if n != rows], work)
    totals[rows] = {
        "cpu": round(compiled["cpu"], 2),
        "wall": round(compiled["wall"], 1),
        "rss_mb": round(compiled["rss_mb"]),
    }
    result: dict[str, Any] = {
        "seconds": round(float(seconds), 1),
        "source_s": round(times * 4.88, 1),
        "rows": rows,
        "run_totals": {str(n): totals[n] for n in sorted(totals)},
        "steps": steps(totals),
        "shared_s": round(compiled["shared"].get("seconds", 0.0), 2),
        "marginal_cpu_s": round(marginal, 3),
        "marginal_wall_s": round(median([r["seconds"] for r in later]), 3),
        "qc_cpu_s": round(qc, 3),
        "qc_share": round(qc / marginal, 3) if marginal else None,
        "floor_s": round(floor, 3),
        "floor_parts": {
            "speech": round(speech, 3),
            "lipsync": round(lipsync, 3),
            "video+audio": round(video_floor, 3),
            "mux": round(mux_floor, 3),
        },
        "vs_floor": round(marginal / floor, 2) if floor else None,
        # the ratio as measured before the floor counted the whole output's mux (sixth session)
        "vs_floor_without_mux": round(marginal / (floor - mux_floor), 2) if floor > mux_floor else None,
        "reencoded_frames": reencoded,
        "audio_reencoded_blocks": audio_blocks,
        "audio_blocks": int(median([m.get("audio_blocks", 0) for m in metrics])),
        "audio_cpu_s": round(audio_cpu, 4),
        "audio_encoded_in_speech": in_speech,
        "audio_whole_track_cpu_s": round(whole_track_aac(source), 4),
        "peak_rss_mb": round(compiled["rss_mb"]),
        "peak_tree_rss_mb": round(compiled["tree_rss_mb"]) if compiled["tree_rss_mb"] else None,
        "rerun_per_row_cpu_s": round((rerun["cpu"] - rerun_one["cpu"]) / max(rows - 1, 1), 4),
        "rerun_per_row_wall_s": round((rerun["wall"] - rerun_one["wall"]) / max(rows - 1, 1), 4),
        "rerun_startup_s": round(rerun_one["wall"], 2),
        "rerun_startup_cpu_s": round(rerun_one["cpu"], 2),
        "compiled_wall_s": round(compiled["wall"], 1),
        "compiled_cpu_s": round(compiled["cpu"], 1),
    }
    print(json.dumps({"partial": True, **result}), flush=True)  # kept if the naive run fails
    if naive:
        run = vpipe_run(recipe, work / "naive-cache", "--pipeline", "O0", "--no-cache", "--rows", "1:2")
        assert run["code"] == 0, f"naive run failed at {seconds} s"
        second = run["rows"][-1]
        assert second["status"] == "ok", second
        result["naive_cpu_s"] = round(second["cpu_seconds"], 3)
        result["naive_wall_s"] = round(second["seconds"], 3)
        result["naive_over_marginal"] = round(result["naive_cpu_s"] / marginal, 1) if marginal else None
        result["naive_peak_rss_mb"] = round(run["rss_mb"])
    return result


def _without_mux(r: dict[str, Any]) -> str:
    """The floor ratio as the benchmark measured it before the floor counted the output's mux."""
    return f" ({r['vs_floor_without_mux']:.2f}× without the mux)" if r.get("vs_floor_without_mux") else ""


def table(results: list[dict[str, Any]]) -> str:
    head = (
        "| source | per extra row, CPU s (wall) | of which QC | floor, CPU s | / floor | naive per row, CPU s "
        "| naive / compiled | re-run per row, CPU s (start-up) | peak RSS, MB (tree) | shared once, s "
        "| row's AAC, CPU s (whole track) | rows | per row from whole runs, CPU s |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for r in results:
        naive = f"{r['naive_cpu_s']:.1f}" if "naive_cpu_s" in r else "—"
        ratio = f"{r['naive_over_marginal']:.1f}×" if "naive_over_marginal" in r else "—"
        counts = "/".join(r.get("run_totals", {str(r["rows"]): None}))
        aac = "in the guard" if r.get("audio_encoded_in_speech") else f"{r.get('audio_cpu_s', float('nan')):.3f}"
        whole = ", ".join(f"{x['from']}→{x['to']}: {x['cpu_per_row']:.2f}" for x in r.get("steps", [])) or "—"
        lines.append(
            f"| {r['source_s']:.0f} s | {r['marginal_cpu_s']:.2f} ({r['marginal_wall_s']:.1f}) "
            f"| {100 * (r['qc_share'] or 0):.0f} % | {r['floor_s']:.2f} | {r['vs_floor']:.2f}×{_without_mux(r)} | {naive} | {ratio} "
            f"| {r['rerun_per_row_cpu_s']:.3f} ({r['rerun_startup_cpu_s']:.1f}) "
            f"| {r['peak_rss_mb']} ({r.get('peak_tree_rss_mb') or '—'}) | {r['shared_s']:.1f} "
            f"| {aac} ({r.get('audio_whole_track_cpu_s', float('nan')):.2f}) "
            f"| {counts} | {whole} |"
        )
    base = results[0]
    summary = [
        f"per-row growth {base['source_s']:.0f} s → {r['source_s']:.0f} s: "
        f"{r['marginal_cpu_s'] / base['marginal_cpu_s']:.2f}× (rows' own CPU), {_whole_growth(base, r)} (whole runs), "
        f"peak RSS {r['peak_rss_mb'] / base['peak_rss_mb']:.2f}×"
        + (
            f" (tree {r['peak_tree_rss_mb'] / base['peak_tree_rss_mb']:.2f}×)"
            if r.get("peak_tree_rss_mb") and base.get("peak_tree_rss_mb")
            else ""
        )
        for r in results[1:]
    ]
    return head + "\n".join(lines) + "\n\n" + "\n".join(summary) + "\n"


def _whole_growth(base: dict[str, Any], r: dict[str, Any]) -> str:
    """Growth of the per-row cost read from whole-run totals: the first step (1 → 10 rows) at
    each length, the same counts at both."""
    a, b = base.get("steps") or [], r.get("steps") or []
    if not a or not b or (a[0]["from"], a[0]["to"]) != (b[0]["from"], b[0]["to"]):
        return "—"
    return f"{b[0]['cpu_per_row'] / a[0]['cpu_per_row']:.2f}×"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", default="5,30,120", help="source lengths in seconds (the clip looped)")
    parser.add_argument(
        "--rows",
        help="row counts at every length, each a fresh-cache run; the largest is measured in full (default 1,10)",
    )
    parser.add_argument(
        "--rows-at",
        help="other row counts at one length (LENGTH:COUNTS; default 30:1,10,100 unless --rows is given; empty: none)",
    )
    parser.add_argument("--naive-lengths", default="5,30", help="lengths at which the naive baseline runs")
    parser.add_argument("--combine", nargs="*", help="build the table from the JSON lines of earlier runs' output")
    args = parser.parse_args()
    if args.combine:  # lengths run as separate processes (in parallel), one table
        lines = [
            json.loads(line) for log in args.combine for line in Path(log).read_text().splitlines() if line[:1] == "{"
        ]
        final = {r["seconds"]: r for r in lines if r.get("partial")}  # a partial line only where no full one
        final.update({r["seconds"]: r for r in lines if not r.get("partial")})
        found = list(final.values())
        text = table(sorted(found, key=lambda r: r["seconds"]))
        print(text)
        OUT.mkdir(exist_ok=True)
        (OUT / "scaling.md").write_text(text, encoding="utf-8")
        return 0
    naive_at = {float(x) for x in args.naive_lengths.split(",") if x}
    counts = [int(x) for x in (args.rows or "1,10").split(",") if x]
    rows_at = args.rows_at if args.rows_at is not None else ("" if args.rows else "30:1,10,100")
    at, _, other = rows_at.partition(":")
    counts_at = {float(at): [int(x) for x in other.split(",") if x]} if at else {}
    results = []
    with tempfile.TemporaryDirectory(prefix="vpipe-scaling-") as tmp:
        for seconds in (float(x) for x in args.lengths.split(",")):
            here = counts_at.get(seconds, counts)
            assert max(here) >= 2, "the largest row count must be at least 2 (its later rows are measured)"
            result = bench_length(seconds, here, seconds in naive_at, Path(tmp) / f"L{seconds:g}")
            print(json.dumps(result), flush=True)
            results.append(result)
    text = table(results)
    print("\n" + text)
    OUT.mkdir(exist_ok=True)
    (OUT / "scaling.md").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
