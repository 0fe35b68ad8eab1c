"""Where a row's QC time goes, measure by measure (issue 9 item 3 / issue 13: QC ≤ 20 % of a
row's render time).

The glasses clip looped to each length (as benchmarks/scaling.py does) is rendered with
`vpipe.compile(...).run(jobs=1)` in this process, N rows, fresh cache, while each part of
the QC kernel is timed in CPU seconds of this process (all its threads: mediapipe's and the
decoders' included). The first row is left out of the medians (it pays the imports and
model loads; its QC is reported apart, "qc_cpu_s_first_row"). Per part: the median over the
rows. "frames decoded and compared" is what the visual measures
take apart from the parts named (decoding both files around the edit, luma, PSNR, seams).
The parts are timed with QC's overlaps off (qc/overlap.py ON_THREADS: the sound measured
before the pictures, the interpolated heads drawn before decoding, the window frames tracked
after it, all on QC's thread), so each part's CPU is its own; the same figures either way
(tests/e2e/test_heard_exact.py). QC's share of the row's wall time is reported too
("qc_wall_share", with the overlaps off).

Parts nest: the heard check includes its phone loop; "visual" includes the face tracking,
the interpolated references and the copied-GOP check.

--paired: then QC runs again on the same rows, its decode shortcuts (qc/pairs.py) on and off
in turn, three rounds: what they save, measured side by side; and again with the heard check
aligning three context words each side and one (qc/audio.py HEARD_CONTEXT), in turn; and
again with the tracker's graphs and the copied GOPs' stored figures kept across rows and not;
and again with the copied-GOP packet check reading the output in place and demuxing it (that
check's own CPU reported too); and again with the plain MP4s QC decodes opened without probing
their streams and probed; and again with the recording's pictures read as arrays and the
window frames converted straight to RGB, and as before; and again with the source frames
earlier rows decoded kept and not; and again with the files QC opens probed without decoding
a picture and with it; and again with QC's overlaps on and off (CPU and wall seconds); and
again with the interpolated heads drawn over the face region only and over the whole frame,
then cropped (as before; CPU and wall seconds); and again with the window frames' luma
converted only in the regions QC reads and whole (as before; CPU and wall seconds); and again
with the output's re-encoded runs decoded two IDR-started segments at a time and each on one
decoder (as before; CPU and wall seconds), and with that cut forced at every frame size.
--pairs picks some of them (shortcuts, heard_context, reuse, in_place, unprobed, pictures,
kept, no_pictures, overlap, head_regions, window_regions, segments, segments_all).

--clips interview,studio: the named clips' own rows instead of the looped glasses clip (their
values, lip-sync `retrieve`, `duration: auto`, as benchmarks/estimates.py renders them): the
rows whose elastic windows show interpolated heads. `portrait` is the held-out clip.

Usage: python benchmarks/qc_parts.py [--lengths 5 | --clips interview] [--rows 4] [--paired [--pairs in_place]]
Prints JSON lines and a Markdown table (also written to benchmarks/out/qc_parts.md).
"""

from __future__ import annotations

import argparse
import collections
import functools
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import MEDIA, median
from benchmarks.scaling import OUT, looped, write_recipe
from tests.clips import CLIPS, GLASSES, HELD_OUT

# (module, function, part): the functions the QC kernel spends its time in
PARTS = (
    ("vpipe.kernels.qc", "Measure.run", "QC, all"),
    ("vpipe.qc.audio", "heard", "heard check (2 forced alignments, 2 passes each, + phone loop)"),
    ("vpipe.speech.align", "_phone_loop", "  of which the phone loop"),
    ("vpipe.kernels.qc", "read_excerpt", "audio decoded around the slot"),
    ("vpipe.qc.audio", "similarity_around", "speaker similarity"),
    ("vpipe.qc.audio", "loudness_delta", "loudness"),
    ("vpipe.qc.visual", "visual_metrics", "visual measures, all"),
    ("vpipe.qc.visual", "_track", "  face tracking of the window frames"),
    ("vpipe.qc.visual", "interpolated_references", "  interpolated references"),
    ("vpipe.qc.visual", "_check_copied_gops", "  copied-GOP packet check"),
    ("vpipe.qc.visual", "_double_exposure", "  double exposure"),
    ("vpipe.qc.visual", "_sharpness", "  mouth sharpness"),
    ("vpipe.qc.visual", "_sync", "  sync"),
)
DECODED = "  frames decoded and compared"
SPENT: dict[str, float] = collections.defaultdict(float)  # CPU seconds per part, for the row being measured


def instrument(spent: dict[str, float]) -> None:
    """Wrap each part so it adds its CPU seconds to `spent` (nested calls count in each);
    once per process."""
    import importlib

    for module_name, name, part in PARTS:
        module = importlib.import_module(module_name)
        owner: Any = module
        *path, attr = name.split(".")
        for p in path:
            owner = getattr(owner, p)
        setattr(owner, attr, _timed(getattr(owner, attr), part, spent))


def _timed(fn: Callable[..., Any], part: str, spent: dict[str, float]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[part] += time.process_time() - t0

    return wrapper


def overlaps_off() -> None:
    import vpipe.qc.overlap as overlap

    overlap.ON_THREADS = False


def overlaps_on() -> None:
    import vpipe.qc.overlap as overlap

    overlap.ON_THREADS = True


def bench_length(seconds: float, rows: int, work: Path, pairs: tuple[str, ...] = ()) -> dict[str, Any]:
    """The glasses clip looped to `seconds`, N rows."""
    work.mkdir(parents=True)
    source, times = looped(MEDIA / GLASSES.file, seconds, work)
    recipe = write_recipe(work, source, times, rows)
    return {"label": f"{times * 4.88:.0f} s", "seconds": seconds, "source_s": round(times * 4.88, 1)} | bench_rows(
        recipe, work, pairs
    )


def bench_clip(name: str, rows: int, work: Path, pairs: tuple[str, ...] = ()) -> dict[str, Any]:
    """The clip's own rows (its values; lip-sync retrieve, duration auto: elastic windows)."""
    from tests.e2e.helpers import write_recipe as clip_recipe

    clip = next(c for c in CLIPS + HELD_OUT if c.name == name)
    values = (clip.values * rows)[:rows]
    recipe = clip_recipe(work, clip, values, lipsync="retrieve", duration="auto")
    return {"label": name, "clip": name} | bench_rows(recipe, work, pairs)


def bench_rows(recipe: Path, work: Path, pairs: tuple[str, ...]) -> dict[str, Any]:
    """Render the recipe's rows in this process with QC's parts timed (the first row left out)."""
    import vpipe
    from vpipe.kernels.qc import Measure

    per_row: list[dict[str, float]] = []
    run = Measure.run

    calls: list[tuple[Any, ...]] = []

    def measured(self: Any, *args: Any) -> Any:  # one QC call = one row: keep its parts apart
        SPENT.clear()
        calls.append(args)
        try:
            return run(self, *args)
        finally:
            per_row.append(dict(SPENT))

    Measure.run = measured  # type: ignore[method-assign]
    overlaps_off()  # each part's CPU its own
    try:
        build = vpipe.compile(recipe, cache_dir=work / "cache")
        build.run(jobs=1)
    finally:
        Measure.run = run  # type: ignore[method-assign]
        overlaps_on()
    manifest = sorted((work / "out" / "runs").glob("*/manifest.jsonl"))[-1]
    lines = [json.loads(line) for line in manifest.read_text().splitlines()]
    steady = [r for r in lines if r.get("type") == "row" and r.get("status") == "ok"][1:]
    later = per_row[1 : 1 + len(steady)]
    assert later, f"no row rendered from {recipe}"
    parts = {part: round(median([p.get(part, 0.0) for p in later]), 3) for _, _, part in PARTS}
    known = ("  face tracking of the window frames", "  interpolated references", "  copied-GOP packet check")
    known += ("  double exposure", "  mouth sharpness", "  sync")
    parts[DECODED] = round(
        median([p.get("visual measures, all", 0.0) - sum(p.get(k, 0.0) for k in known) for p in later]), 3
    )
    shortcuts: dict[str, float] = {}
    for name, pair in PAIRS.items():
        if name in pairs:
            shortcuts.update(pair(calls[1 : 1 + len(steady)]))
    row_cpu = median([r["cpu_seconds"] for r in steady])
    qc_manifest = median([r["cpu_timings"].get("report", 0.0) for r in steady])
    wall_share = median([r["timings"].get("report", 0.0) / r["seconds"] for r in steady])
    # the voice guard (speech.match_voice: its heard checks, and the row's AAC splice where it
    # hears the row as QC will decode it) and the write, whose AAC splice it may have made
    guard = median([r["cpu_timings"].get("matched", 0.0) for r in steady])
    write = median([r["cpu_timings"].get("file", 0.0) for r in steady])
    taken = sum(int(r["qc"]["metrics"].get("value.heard_from_guard", 0.0)) for r in steady)
    return {
        "rows_measured": len(later),
        "row_cpu_s": round(row_cpu, 3),
        "qc_cpu_s_manifest": round(qc_manifest, 3),
        "qc_share": round(qc_manifest / row_cpu, 3) if row_cpu else None,
        "qc_wall_share": round(wall_share, 3),
        "guard_cpu_s": round(guard, 3),
        "write_cpu_s": round(write, 3),
        "heard_from_guard": f"{taken}/{len(steady)}",
        # the first row's QC, which loads the speaker encoder and decodes the source's audio
        # once per process (left out of the medians above)
        "qc_cpu_s_first_row": round(per_row[0].get("QC, all", 0.0), 3) if per_row else None,
        "parts": parts,
        **shortcuts,
    }


def paired_shortcuts(calls: list[tuple[Any, ...]], rounds: int = 3) -> dict[str, float]:
    """QC CPU of the same rows again, with qc/pairs.py's decode shortcuts (same-picture pairs,
    the source's seeks, one decoder thread) on and off in turn: the same pictures either way,
    so the same figures; the difference is what the shortcuts save."""
    import vpipe.media.decode as decode
    import vpipe.qc.visual as visual
    import vpipe.speech.align as align
    from vpipe.kernels.qc import Measure

    real = (visual.same_pictures, visual.pairs_spliced, decode.iter_decoded)

    def off() -> None:
        visual.same_pictures = lambda *_: set()  # type: ignore[assignment]
        visual.pairs_spliced = lambda f, fr, o, s, same, keyframes=(), copied=None, *_: real[1](
            f, fr, o, s, same, (), copied
        )  # type: ignore[assignment]
        decode.iter_decoded = lambda path, start=0, pts=None, threads=True, probe=True: real[2](  # type: ignore[assignment]
            path, start, pts, True, probe
        )

    cpu: dict[str, list[float]] = {"on": [], "off": []}
    for _ in range(rounds):
        for mode in ("on", "off"):
            if mode == "off":
                off()
            try:
                for args in calls:
                    align._LOOPS.clear()  # the phone loop is memoised by audio: measure it each time
                    t0 = time.process_time()
                    Measure().run(*args)
                    cpu[mode].append(time.process_time() - t0)
            finally:
                visual.same_pictures, visual.pairs_spliced, decode.iter_decoded = real  # type: ignore[assignment]
    return {f"qc_cpu_s_shortcuts_{mode}": round(median(v), 3) for mode, v in cpu.items()}


def _alternating(
    calls: list[tuple[Any, ...]],
    rounds: int,
    name: str,
    off: Callable[[], None],
    restore: Callable[[], None],
    part: str | None = None,
    wall: bool = False,
) -> dict[str, float]:
    """QC CPU of the same rows again with one switch on and off, alternating row by row (the
    load drifts less between them): `off()` turns it off for one row (its own cost is not
    timed), `restore()` turns it back on. With `part`, that instrumented part's CPU too; with
    `wall`, QC's wall seconds too."""
    import vpipe.speech.align as align
    from vpipe.kernels.qc import Measure

    cpu: dict[str, list[float]] = {"on": [], "off": []}
    spent: dict[str, list[float]] = {"on": [], "off": []}
    walls: dict[str, list[float]] = {"on": [], "off": []}
    for _ in range(rounds):
        for args in calls:
            for mode in ("on", "off"):
                align._LOOPS.clear()  # the phone loop is memoised by audio: measure it each time
                if mode == "off":
                    off()
                if part is not None:
                    SPENT.pop(part, None)
                try:
                    t0, w0 = time.process_time(), time.perf_counter()
                    Measure().run(*args)
                    cpu[mode].append(time.process_time() - t0)
                    walls[mode].append(time.perf_counter() - w0)
                    if part is not None:
                        spent[mode].append(SPENT.get(part, 0.0))
                finally:
                    restore()
    out = {f"qc_cpu_s_{name}_{mode}": round(median(v), 3) for mode, v in cpu.items()}
    if wall:
        out.update({f"qc_wall_s_{name}_{mode}": round(median(v), 3) for mode, v in walls.items()})
    if part is not None:
        out.update({f"check_cpu_s_{name}_{mode}": round(median(v), 4) for mode, v in spent.items()})
    return out


def paired_reuse(calls: list[tuple[Any, ...]], rounds: int = 5) -> dict[str, float]:
    """QC CPU of the same rows again with what QC keeps from one row to the next on and off in
    turn: the tracker's idle FaceMesh/detector graphs (face/tracker.py `_pooled`; off: dropped
    before each row, so each row builds its own, as before) and the stored figures of the
    copied GOPs around an edit (qc/copied_figures.py; off: those GOPs decoded each row).
    Either way the same figures (tests/face/test_graph_pool.py, tests/qc/test_copied_figures.py)."""
    import vpipe.qc.visual as visual
    from vpipe.face import tracker

    real = visual.copied_gop

    def off() -> None:
        visual.copied_gop = lambda *_: None  # type: ignore[assignment]
        tracker.close_idle_graphs()  # not timed: the row then builds its own graphs, timed

    def restore() -> None:
        visual.copied_gop = real  # type: ignore[assignment]

    return _alternating(calls, rounds, "reuse", off, restore)


def paired_in_place(calls: list[tuple[Any, ...]], rounds: int = 5) -> dict[str, float]:
    """QC CPU of the same rows again with the copied-GOP packet check reading the output in
    place (qc/copied_in_place.py) and demuxing every packet (as before), alternating row by
    row; also that check's own CPU. The same figures either way
    (tests/qc/test_copied_in_place.py)."""
    import vpipe.qc.pairs as pairs

    real = pairs.read_in_place

    def off() -> None:
        pairs.read_in_place = lambda _path: None  # type: ignore[assignment]

    def restore() -> None:
        pairs.read_in_place = real  # type: ignore[assignment]

    return _alternating(calls, rounds, "in_place", off, restore, part="  copied-GOP packet check")


def paired_unprobed(calls: list[tuple[Any, ...]], rounds: int = 5) -> dict[str, float]:
    """QC CPU of the same rows again with the plain MP4s it decodes opened without probing
    their streams (media/decode.py UNPROBED) and probed (as before), alternating row by row.
    The same frames either way (tests/qc/test_copied_in_place.py)."""
    import vpipe.qc.visual as visual

    real = visual._check_copied_gops

    def probed(*args: Any) -> Any:
        checked = real(*args)
        return (*checked[:4], (True, True), checked[5])

    def off() -> None:
        visual._check_copied_gops = probed  # type: ignore[assignment]

    def restore() -> None:
        visual._check_copied_gops = real  # type: ignore[assignment]

    return _alternating(calls, rounds, "unprobed", off, restore)


def paired_pictures(calls: list[tuple[Any, ...]], rounds: int = 5) -> dict[str, float]:
    """QC CPU of the same rows again with the recording's pictures read as arrays and the window
    frames converted straight to RGB (qc/pairs.py RecordingPicture, decode.to_rgb), and as before
    (each picture made an av.VideoFrame for its luma; each window frame converted to BGR, then
    swapped to RGB), alternating row by row. The same values either way
    (tests/qc/test_recording_luma.py, tests/kernels/test_frame_to_rgb.py)."""
    import vpipe.media.decode as decode
    import vpipe.qc.pairs as qp
    from vpipe.face.tracker import _rgb
    from vpipe.media.first_generation import as_frame

    real = (qp.recorded, decode.to_rgb)

    def off() -> None:
        qp.recorded = as_frame  # type: ignore[assignment]
        decode.to_rgb = lambda frame: _rgb(decode.to_bgr(frame))  # type: ignore[assignment]

    def restore() -> None:
        qp.recorded, decode.to_rgb = real  # type: ignore[assignment]

    return _alternating(calls, rounds, "pictures", off, restore)


def paired_kept(calls: list[tuple[Any, ...]], rounds: int = 5) -> dict[str, float]:
    """QC CPU of the same rows again with the source frames earlier rows decoded kept
    (qc/kept_frames.py) and not (each row decodes its own, as before), alternating row by row.
    The same figures either way (tests/qc/test_kept_frames.py)."""
    import vpipe.qc.visual as visual

    real = visual.kept_frames

    def off() -> None:
        visual.kept_frames = lambda *_: None  # type: ignore[assignment]

    def restore() -> None:
        visual.kept_frames = real  # type: ignore[assignment]

    return _alternating(calls, rounds, "kept", off, restore)


def paired_no_pictures(calls: list[tuple[Any, ...]], rounds: int = 5) -> dict[str, float]:
    """QC CPU of the same rows again with the files it opens probed without decoding a picture
    (media/decode.py NO_PICTURES, in UNPROBED too) and with the probe's picture decoded (as
    before), alternating row by row. The same frames and samples either way
    (tests/qc/test_copied_in_place.py, tests/qc/test_no_pictures.py)."""
    import vpipe.media.decode as decode

    def off() -> None:  # the options are read when a file is opened: emptied in place
        decode.NO_PICTURES.clear()
        decode.UNPROBED.pop("skip_frame", None)

    def restore() -> None:
        decode.NO_PICTURES["skip_frame"] = "all"
        decode.UNPROBED.update(decode.NO_PICTURES)

    return _alternating(calls, rounds, "no_pictures", off, restore)


def paired_overlap(calls: list[tuple[Any, ...]], rounds: int = 5) -> dict[str, float]:
    """QC CPU and wall seconds of the same rows again with its overlaps on (the sound measured
    while the pictures are, the interpolated heads drawn and the window frames tracked while
    decoding) and off (one after the other, on QC's thread, as before), alternating row by row.
    The same figures either way (tests/e2e/test_heard_exact.py, tests/qc/test_overlap.py)."""
    return _alternating(calls, rounds, "overlap", overlaps_off, overlaps_on, wall=True)


def paired_head_regions(calls: list[tuple[Any, ...]], rounds: int = 5) -> dict[str, float]:
    """QC CPU and wall seconds of the same rows again with the interpolated heads drawn and
    converted over the face region only (qc/heads.py) and over the whole frame, then cropped
    (as before), alternating row by row. The same figures either way
    (tests/qc/test_head_regions.py)."""
    import vpipe.qc.visual as qv
    from vpipe.qc.copied_figures import crop

    regions = qv.interpolated_references

    def whole(*args: Any) -> dict[int, Any]:  # (frames, ..., kept, box): the box left out
        return {k: crop(head, args[7]) for k, head in regions(*args[:7]).items()}

    def off() -> None:
        qv.interpolated_references = whole  # type: ignore[assignment]

    def restore() -> None:
        qv.interpolated_references = regions

    return _alternating(calls, rounds, "head_regions", off, restore, wall=True)


def paired_window_regions(calls: list[tuple[Any, ...]], rounds: int = 5) -> dict[str, float]:
    """QC CPU and wall seconds of the same rows again with the window frames' luma (and their
    source frames') converted only in the regions read (qc/visual.py `pair`) and whole (as
    before), alternating row by row. The same figures either way
    (tests/qc/test_window_regions.py)."""
    import vpipe.qc.visual as qv
    from vpipe.qc.pairs import luma_of

    regions = qv.luma_regions_of

    def off() -> None:
        qv.luma_regions_of = luma_of

    def restore() -> None:
        qv.luma_regions_of = regions

    return _alternating(calls, rounds, "window_regions", off, restore, wall=True)


def paired_segments(calls: list[tuple[Any, ...]], rounds: int = 5) -> dict[str, float]:
    """QC CPU and wall seconds of the same rows again with the output's re-encoded runs cut at
    their IDRs and decoded two segments at a time (qc/output_segments.py) and each run on one
    decoder (as before), alternating row by row. The same pictures, so the same figures
    (tests/qc/test_output_segments.py)."""
    import vpipe.qc.visual as qv

    real = qv.pairs_spliced

    def off() -> None:
        qv.pairs_spliced = lambda *args: real(*args[:9])  # type: ignore[assignment]  # no fresh starts

    def restore() -> None:
        qv.pairs_spliced = real

    return _alternating(calls, rounds, "segments", off, restore, wall=True)


def paired_segments_all(calls: list[tuple[Any, ...]], rounds: int = 5) -> dict[str, float]:
    """As `paired_segments`, with every output cut whatever its size (output_segments.py
    HELPED_FROM 1): what the cut costs or saves on the smaller frames it is not used for."""
    import vpipe.qc.output_segments as segments

    size = segments.HELPED_FROM
    segments.HELPED_FROM = 1
    try:
        return {k.replace("segments", "segments_all"): v for k, v in paired_segments(calls, rounds).items()}
    finally:
        segments.HELPED_FROM = size


def paired_heard_context(calls: list[tuple[Any, ...]], rounds: int = 3) -> dict[str, float]:
    """QC CPU of the same rows again with the heard check aligning 3 recorded context words each
    side (as before this was measured) and with HEARD_CONTEXT (1), in turn."""
    import vpipe.qc.audio as qa
    import vpipe.speech.align as align
    from vpipe.kernels.qc import Measure

    default = qa.HEARD_CONTEXT
    cpu: dict[int, list[float]] = {3: [], default: []}
    for _ in range(rounds):
        for words in cpu:
            qa.HEARD_CONTEXT = words
            try:
                for args in calls:
                    align._LOOPS.clear()
                    t0 = time.process_time()
                    Measure().run(*args)
                    cpu[words].append(time.process_time() - t0)
            finally:
                qa.HEARD_CONTEXT = default
    return {f"qc_cpu_s_heard_context_{words}": round(median(v), 3) for words, v in cpu.items()}


# --paired: each pair runs QC again on the same rows with one switch on and off
PAIRS: dict[str, Callable[[list[tuple[Any, ...]]], dict[str, float]]] = {
    "shortcuts": paired_shortcuts,
    "heard_context": paired_heard_context,
    "reuse": paired_reuse,
    "in_place": paired_in_place,
    "unprobed": paired_unprobed,
    "pictures": paired_pictures,
    "kept": paired_kept,
    "no_pictures": paired_no_pictures,
    "overlap": paired_overlap,
    "head_regions": paired_head_regions,
    "window_regions": paired_window_regions,
    "segments": paired_segments,
    "segments_all": paired_segments_all,
}


def _on_off(key: str, label: str) -> list[tuple[str, str]]:
    """A pair's two table rows, (result key, label), with its switch on and off."""
    return [(f"{key}_{m}", f"{label} {m}") for m in ("on", "off")]


def table(results: list[dict[str, Any]]) -> str:
    head = "| part (CPU s per row, median) | " + " | ".join(r["label"] for r in results) + " |\n"
    head += "|---|" + "---|" * len(results) + "\n"
    names = [part for _, _, part in PARTS] + [DECODED]
    lines = [f"| {name.strip()} | " + " | ".join(f"{r['parts'][name]:.3f}" for r in results) + " |" for name in names]
    lines.append("| row, all (manifest) | " + " | ".join(f"{r['row_cpu_s']:.3f}" for r in results) + " |")
    lines.append("| QC share of the row | " + " | ".join(f"{100 * (r['qc_share'] or 0):.0f} %" for r in results) + " |")
    lines.append(
        "| QC share of the row's wall time (overlaps off) | "
        + " | ".join(f"{100 * r['qc_wall_share']:.0f} %" for r in results)
        + " |"
    )
    guard = " | ".join(f"{r['guard_cpu_s']:.3f}" for r in results)
    lines.append(f"| voice guard (speech.match_voice) | {guard} |")
    lines.append("| write (media.splice) | " + " | ".join(f"{r['write_cpu_s']:.3f}" for r in results) + " |")
    lines.append("| heard check taken from the guard | " + " | ".join(r["heard_from_guard"] for r in results) + " |")
    lines.append(
        "| QC of the first row (warm-up) | " + " | ".join(f"{r['qc_cpu_s_first_row']:.3f}" for r in results) + " |"
    )
    paired = [
        *_on_off("qc_cpu_s_shortcuts", "decode shortcuts"),
        *_on_off("qc_cpu_s_reuse", "graphs and copied-GOP figures kept across rows"),
        *[(f"qc_cpu_s_heard_context_{w}", f"heard check with {w} context word(s) each side") for w in (3, 1)],
        *_on_off("qc_cpu_s_in_place", "copied-GOP check read in place"),
        *_on_off("check_cpu_s_in_place", "… the check itself, read in place"),
        *_on_off("qc_cpu_s_unprobed", "plain MP4s opened unprobed"),
        *_on_off("qc_cpu_s_pictures", "pictures read as arrays, window frames straight to RGB"),
        *_on_off("qc_cpu_s_kept", "source frames kept from earlier rows"),
        *_on_off("qc_cpu_s_no_pictures", "files probed without decoding a picture"),
        *_on_off("qc_cpu_s_overlap", "sound beside pictures, tracking beside decoding"),
        *_on_off("qc_wall_s_overlap", "… its wall seconds, overlaps"),
        *_on_off("qc_cpu_s_head_regions", "heads drawn over the face region only"),
        *_on_off("qc_wall_s_head_regions", "… its wall seconds, face region only"),
        *_on_off("qc_cpu_s_window_regions", "window frames' luma read by region"),
        *_on_off("qc_wall_s_window_regions", "… its wall seconds, by region"),
        *_on_off("qc_cpu_s_segments", "re-encoded runs decoded two segments at a time"),
        *_on_off("qc_wall_s_segments", "… its wall seconds, two at a time"),
        *_on_off("qc_cpu_s_segments_all", "every size cut, two at a time"),
        *_on_off("qc_wall_s_segments_all", "… its wall seconds, every size cut"),
    ]
    for key, label in paired:  # only the pairs this run measured
        if all(key in r for r in results):
            lines.append(f"| QC again, {label} (paired) | " + " | ".join(f"{r[key]:.3f}" for r in results) + " |")
    return head + "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", default="5", help="source lengths in seconds (the clip looped)")
    names = ", ".join(c.name for c in CLIPS + HELD_OUT)
    parser.add_argument("--clips", default="", help=f"the clips' own rows instead ({names})")
    parser.add_argument("--rows", type=int, default=4, help="rows per length or clip (the first is left out)")
    parser.add_argument(
        "--paired",
        action="store_true",
        help="also QC's CPU with the decode shortcuts off, and with three heard context words, in turn",
    )
    parser.add_argument(
        "--pairs", default=",".join(PAIRS), help="with --paired: which pairs (" + ", ".join(PAIRS) + ")"
    )
    args = parser.parse_args()
    pairs = tuple(p for p in args.pairs.split(",") if p) if args.paired else ()
    unknown = set(pairs) - set(PAIRS)
    if unknown:
        parser.error(f"unknown pair(s): {', '.join(sorted(unknown))}")
    strange = {c for c in args.clips.split(",") if c} - {c.name for c in CLIPS + HELD_OUT}
    if strange:
        parser.error(f"unknown clip(s): {', '.join(sorted(strange))}")
    instrument(SPENT)
    results = []
    with tempfile.TemporaryDirectory(prefix="vpipe-qc-parts-") as tmp:
        clips = [c for c in args.clips.split(",") if c]
        for name in clips:
            result = bench_clip(name, args.rows, Path(tmp) / name, pairs)
            print(json.dumps(result), flush=True)
            results.append(result)
        for seconds in () if clips else (float(x) for x in args.lengths.split(",")):
            result = bench_length(seconds, args.rows, Path(tmp) / f"L{seconds:g}", pairs)
            print(json.dumps(result), flush=True)
            results.append(result)
    text = table(results)
    print("\n" + text)
    OUT.mkdir(exist_ok=True)
    (OUT / "qc_parts.md").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
