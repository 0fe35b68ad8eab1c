"""qc.measure: measure every output against the recipe's thresholds (and the source's own
natural values). The visual measures join in vpipe.qc.visual once lip-sync renders frames."""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from vpipe.atomic import atomic_write_bytes
from vpipe.data.media import Frames, OutputFile, Track
from vpipe.data.report import QcReport
from vpipe.ir.graph import Estimate, Op, thaw
from vpipe.ir.hashing import digest
from vpipe.kernel_api.context import RunContext
from vpipe.kernel_api.registry import Kernel, kernel
from vpipe.media.decode import DecodeError, iter_audio
from vpipe.qc import audio as qa
from vpipe.qc.excerpt import read_excerpt
from vpipe.qc.overlap import alongside
from vpipe.text import words_of


def _stored(path: Path, rt: RunContext, kind: str, compute: Callable[[], np.ndarray], *key: str) -> np.ndarray:
    """A figure of the whole source (and `key`): shared work, so computed once per source (kept
    in the run's store by the source's size and time stamp) and once per process. A process
    that finds every figure stored never decodes the source's audio (at two minutes ~0.5 s
    of CPU, paid again by every worker and every later run otherwise)."""

    def load() -> np.ndarray:
        store = getattr(rt, "store_dir", None)
        if store is None:
            return compute()
        stat = path.stat()
        name = digest(str(path.resolve()), str(stat.st_size), str(stat.st_mtime_ns), *key)
        saved = Path(store) / kind / f"{name}.npy"
        if saved.is_file():
            try:
                return np.load(saved, allow_pickle=False)
            except (OSError, ValueError):
                pass  # damaged: computed again
        value = compute()
        saved.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        np.save(buffer, value, allow_pickle=False)
        atomic_write_bytes(saved, buffer.getvalue())
        return value

    return rt.resource(":".join((kind, str(path), *key)), load)


def _speaker_embedding(path: Path, rt: RunContext, mono: Callable[[], tuple[np.ndarray, int]]) -> np.ndarray:
    """The speaker's embedding over the whole source (`mono`: its mono samples and rate)."""
    from vpipe.speech.similarity import embed

    return _stored(path, rt, "speaker", lambda: embed(*mono()))


def source_pass(path: Path) -> tuple[float, np.ndarray, int]:
    """(`qa.max_jump` of the track's samples, `Audio.mono()` of them, the rate) of `path`'s
    audio as `read_audio` decodes it, in one pass over its blocks: equal bit for bit to those
    of the whole decoded track (each difference and each sample's channel mean is taken once,
    on the same float32 values; a test compares them), without holding the track."""
    jump, last, rate = 0.0, None, 0
    monos: list[np.ndarray] = []
    for planar, block_rate, _ in iter_audio(path):
        rate = block_rate
        block = np.ascontiguousarray(planar.T, dtype=np.float32)  # (n, channels), as read_audio's rows
        if len(block):
            joined = block if last is None else np.concatenate([last, block])  # the difference across blocks
            if len(joined) > 1:
                jump = max(jump, qa.max_jump(joined))
            last = block[-1:]
            monos.append(block.mean(axis=1).astype(np.float32))
    if not monos:
        raise DecodeError(f"the audio track of {path.name} is empty")
    return jump, np.concatenate(monos), rate


def audio_metrics(
    file: OutputFile,
    track: Track,
    source: Path,
    thresholds: dict[str, Any],
    rt: RunContext,
    metrics: dict[str, float],
    failures: list[str],
) -> None:
    from vpipe.speech.tts import phonemize

    out = read_excerpt(file.path, [qa.reach(e) for e in track.edits])  # only around the slots
    mono = out.mono()
    metrics["qc_audio_seconds_decoded"] = round(out.decoded / out.rate, 3)
    # The source's own figures are the same for every row: measured once per process, on one
    # decode of the source's audio read a block at a time (`source_pass`): its (n, channels)
    # samples are never held whole (at two minutes 43 MB, and read_audio's own copies while it
    # decodes twice that), only the mono the embedding and the natural similarity need.
    decoded: dict[str, Any] = {}

    def source_figures() -> dict[str, Any]:
        if not decoded:
            decoded["jump"], decoded["mono"], decoded["rate"] = source_pass(source)
        return decoded

    def source_mono() -> tuple[np.ndarray, int]:
        return source_figures()["mono"], source_figures()["rate"]

    source_jump = float(_stored(source, rt, "source-max-jump", lambda: np.float64(source_figures()["jump"])))
    speaker = _speaker_embedding(source, rt, source_mono)
    for e in track.edits:
        if words_of(e.said) != words_of(e.replaced):  # a row may say the recorded word itself
            check, how = qa.heard_output(mono, out.rate, track.audio, e, phonemize)
            metrics[f"{e.slot}.heard_new"] = check.new_confidence
            metrics[f"{e.slot}.heard_old"] = check.old_confidence
            metrics.update({f"{e.slot}.{k}": v for k, v in how.items()})
            if not check.new_wins:
                failures.append(f"slot '{e.slot}': the output sounds more like '{e.replaced}' than '{e.said}'")
        delta = qa.loudness_delta(mono, out.rate, e)
        metrics[f"{e.slot}.loudness_delta_db"] = delta
        limit = float(thresholds.get("max_loudness_delta_db", 2.0))
        if math.isfinite(delta) and abs(delta) > limit:
            failures.append(f"slot '{e.slot}': {delta:+.1f} dB louder than the speech around it (limit ±{limit:g} dB)")
        jump = qa.join_jump(track.audio.samples, track.audio.rate, e)
        allowed = max(source_jump, qa.word_jump(track.audio.samples, track.audio.rate, e))
        metrics[f"{e.slot}.join_jump_ratio"] = jump / max(source_jump, 1e-9)
        metrics[f"{e.slot}.click_ratio"] = jump / max(allowed, 1e-9)
        if jump > allowed:
            failures.append(
                f"slot '{e.slot}': a click at a join (jump {jump:.3f} > the largest in the source, "
                f"{source_jump:.3f}, and in the new word)"
            )
        sim = qa.similarity_around(mono, out.rate, e, speaker)
        window = _source_window(e)
        natural = float(
            _stored(
                source,
                rt,
                "source-similarity",
                lambda window=window: np.float64(qa.similarity_around(*source_mono(), window, speaker)),
                repr(window.source_start),
                repr(window.source_end),
            )
        )
        metrics[f"{e.slot}.speaker_similarity"] = sim
        metrics[f"{e.slot}.speaker_similarity_source"] = natural
        limit = float(thresholds.get("min_speaker_similarity", 0.6))
        if sim < limit:
            failures.append(
                f"slot '{e.slot}': speaker similarity {sim:.2f} < {limit:g} (the source itself: {natural:.2f})"
            )


def _source_window(e: Any) -> Any:
    from vpipe.data.media import TimelineEdit

    return TimelineEdit(e.slot, e.source_start, e.source_end, e.source_start, e.source_end, e.said, e.replaced)


@kernel("qc.measure", backend="weightfree")
class Measure(Kernel):
    version = "13"  # 13: the heard check is the guard's where the guard heard the very samples QC decodes; 12: the voice guard's check of the row's track stands for the file's when the AAC cannot have moved it; 11: the heard check aligns one context word each side (was three); 10: phone-level sync measure; 9: measures only around the slots (audio excerpts; the output's own frame timestamps); 5: interpolated references converted as the writer converts them; 6: spliced outputs; 7: curves; 8: double exposure, mouth sharpness

    def estimate(self, op: Op, context: dict[str, Any]) -> Estimate:
        return Estimate(seconds=0.4, ram_mb=400)

    prepares = True

    def prepare(self) -> None:
        """What QC's first run loads, ~2 s on these machines (benchmarks/estimates.py's first
        rows): mediapipe and the tracking graphs (pooled: face/tracker.py), torch and the
        speaker encoder (loaded once per process, under its lock), the visual measures' modules."""
        from vpipe.face.tracker import prepare_graphs
        from vpipe.qc import visual  # noqa: F401  (OpenCV, the measures)
        from vpipe.speech.similarity import encoder

        prepare_graphs()
        encoder()

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> QcReport:
        file, track, frames, _profile = inputs
        thresholds = thaw(op.attr("thresholds"))
        assert isinstance(frames, Frames)
        original = (file.splice or {}).get("original")  # spliced: frames.source is the normalised video
        sound: dict[str, float] = {}
        sound_failures: list[str] = []

        def measure_sound() -> None:
            source = Path(str(original)) if original else frames.source
            audio_metrics(file, track, source, thresholds, rt, sound, sound_failures)

        metrics: dict[str, float] = {}
        failures: list[str] = []
        curves: dict[str, Any] = {"slots": _slot_edits(track), "fps": _fps(frames)}
        if frames.rendered:  # the mouth was re-rendered: measure sync, untouched frames and seams
            from vpipe.qc.visual import visual_metrics

            # The sound's measures and the picture's read nothing of each other's: the sound is
            # measured on a thread while the frames are (the decoders, FaceMesh, torch and
            # pocketsphinx release the GIL), and both are reported in the order they were before.
            with alongside(measure_sound):
                visual_metrics(file, track, frames, thresholds, rt, metrics, failures, curves)
            _sync_expert_metrics(file, frames, track, rt, metrics)
        else:
            measure_sound()
        metrics, failures = {**sound, **metrics}, sound_failures + failures
        curves["review_frames"] = _review_frames(frames, track, curves.get("worst_frames") or {})
        curves["face_box"] = (frames.report or {}).get("face_box")
        for f in failures:
            rt.warn("VP310", f)
        sheet = None
        if frames.rendered and op.attr("contact_sheets"):  # absent: off
            from vpipe.qc.contact import write_contact_sheet

            # beside the output, so it stays inside the output directory
            sheet = str(write_contact_sheet(file.path.parent / "qc" / f"{file.path.stem}.png", file.path, frames))
        return QcReport(metrics, tuple(failures), bool(thresholds.get("fail_rows", False)), sheet, curves)


def _sync_expert_metrics(file: Any, frames: Frames, track: Any, rt: RunContext, metrics: dict[str, float]) -> None:
    """LSE-D / LSE-C over the re-rendered windows when the user has SyncNet weights (any backend)."""
    from vpipe.qc.lse import available_scorer, lse_metrics

    windows = [(float(a), float(b)) for a, b in (frames.report or {}).get("output_windows") or []]
    scorer = available_scorer(rt) if windows else None
    if scorer is None:
        return
    try:
        metrics.update(lse_metrics(file.path, windows, float(frames.times[-1]) + 0.04, scorer))
    except ValueError:  # too short, or no face in the scored frames: no LSE for this row
        metrics["lse_windows"] = 0.0


def _slot_edits(track: Track) -> list[dict[str, Any]]:
    """Where each slot sits in the output and in the source (seconds), what it says, and the
    recording's exact shift after it in samples (the review draws the row's untouched sound
    from the recording there: report/wave.py)."""
    shifts = track.sample_shifts()
    return [
        {
            "slot": e.slot,
            "said": e.said,
            "replaced": e.replaced,
            "start": round(e.output_start, 4),
            "end": round(e.output_end, 4),
            "source_start": round(e.source_start, 4),
            "source_end": round(e.source_end, 4),
            "shift_samples": shifts[k + 1],
        }
        for k, e in enumerate(track.edits)
    ]


REVIEW_COLUMNS = 6  # slot frames sampled for the review sheet, besides the worst frames


def _review_frames(frames: Frames, track: Track, worst: dict[str, int]) -> list[dict[str, Any]]:
    """The output frames a reviewer should see, each with the source frame it replaces: the
    worst frame by each visual measure, then frames sampled over the slot windows (the
    re-rendered frames, or the frames under the slot words when nothing was re-rendered)."""
    from vpipe.qc.contact import window_frames

    times = np.asarray(frames.times, np.float64)
    names = {"untouched_psnr": "PSNR", "seam": "seam", "sync": "sync"}
    picks: list[tuple[int, str]] = [(int(k), f"worst {names.get(m, m)}") for m, k in worst.items()]
    slot_frames = window_frames(frames, REVIEW_COLUMNS)
    if not slot_frames and len(times):
        inside = [k for k, t in enumerate(times) if any(e.output_start <= t < e.output_end for e in track.edits)]
        if len(inside) > REVIEW_COLUMNS:
            inside = [inside[i] for i in np.linspace(0, len(inside) - 1, REVIEW_COLUMNS).round().astype(int)]
        slot_frames = inside
    picks += [(int(k), "slot") for k in slot_frames if all(k != p for p, _ in picks)]
    return [
        {"frame": k, "source_frame": int(frames.source_index[k]), "time": round(float(times[k]), 4), "why": why}
        for k, why in picks
        if 0 <= k < len(times)
    ]


def _fps(frames: Frames) -> float | None:
    times = np.asarray(frames.times, np.float64)
    if len(times) < 2:
        return None
    step = float(np.median(np.diff(times)))
    return round(1.0 / step, 3) if step > 0 else None
