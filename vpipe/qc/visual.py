"""Visual quality of a re-animated output, measured on the written file.

- sync: the mouth aperture of the output frames in the windows (tracked afresh), phone by
  phone, against the aperture this speaker makes for each heard phone (lipsync/sync.py),
  next to the source's natural value and the "audio replaced, mouth untouched" control the
  lip-sync kernel recorded;
- untouched: PSNR of every frame outside the windows against its source frame, on the
  decoded luma plane (the codec convention; BGR conversions would add their own rounding);
- seams: where re-rendering starts or ends, how much the *edit* changes between the two
  frames (the change of output − source in the face region), against the median natural
  frame-to-frame change elsewhere. Measuring the raw change instead would blame the edit
  for the speaker's own movement that happens to fall on a window edge; the raw ratio is
  reported too (`seam_ratio_raw`). A frame of an elastic window shows a head interpolated
  between two source frames: its edit is measured against that same interpolation;
- mouth sharpness: the Laplacian variance in the lips' box of every fully transplanted frame
  against that of the same mouth in the source (what one resampling onto the head kept);
- double exposure: every window frame's lips against its two neighbours (lipsync/ghost.py): a
  frame that looks like a see-through mix of two mouths fails, judged against the highest
  score the source's own frames reach (the inventory measured it).
"""

from __future__ import annotations

import bisect
import contextlib
import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from vpipe.data.alignment import Segment
from vpipe.data.media import Frames, OutputFile, Track
from vpipe.kernel_api.context import RunContext
from vpipe.lipsync.sync import sync_score
from vpipe.lipsync.timeline import within
from vpipe.lipsync.visemes import predicted_aperture
from vpipe.qc.copied_figures import CopiedGop, copied_gop, face_region, region_change
from vpipe.qc.copied_in_place import hashed_source
from vpipe.qc.heads import interpolated_references, referenced
from vpipe.qc.kept_frames import kept_frames
from vpipe.qc.overlap import Later, TrackAhead
from vpipe.qc.pairs import (
    copied_gops,
    luma_of,
    luma_regions_of,
    measured_ranges,
    pairs_full,
    pairs_spliced,
    same_pictures,
    stream_gops,
)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    # copy=False: QC's planes are float32 already (luma), and a copy changes no value
    mse = float(np.mean((a.astype(np.float32, copy=False) - b.astype(np.float32, copy=False)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


# A frame is a double exposure when its ghost score exceeds both GHOST_LIMIT and GHOST_MARGIN ×
# the source's own highest score. Measured on studio_woman's written files (lips box re-tracked):
# the eased mixes of two mouths before the morph 2.8-3.1 (r1-r3 at 2.30, 2.43, 2.80 s); the same
# rows with the morph ≤ 2.3; the clip's own frames ≤ 2.1.
GHOST_LIMIT = 2.5
GHOST_MARGIN = 1.25


def _track(decoded: Iterable[Any], times: Iterable[float]) -> np.ndarray:
    """Landmarks of decoded output frames, tracked as a sequence exactly like the source was
    (on TrackAhead's thread, while the frames arrive), each converted straight to RGB
    (decode.to_rgb, the tracker's order) there too. QC's loop only reads a window frame's Y
    plane after handing it over (its lips for double exposure and sharpness): both threads
    only read the frame."""
    from vpipe.face.tracker import track_frames

    return track_frames(_AsRGB(decoded), times, rgb=True).landmarks


class _AsRGB:
    """Decoded frames as upright RGB images, converted as they are read (each pass anew: the
    tracker reads the frames twice when it sees several faces)."""

    def __init__(self, decoded: Iterable[Any]) -> None:
        self.decoded = decoded

    def __iter__(self) -> Iterator[np.ndarray]:
        from vpipe.media.decode import to_rgb

        return (to_rgb(frame) for frame in self.decoded)


def _sharpness(
    lumas: dict[int, Any],
    window: list[int],
    landmarks: np.ndarray,
    expected: dict[int, float],
    metrics: dict[str, float],
) -> None:
    """Median over the transplanted frames of (output mouth sharpness / the donor mouth's in the source)."""
    from vpipe.lipsync.ghost import mouth_sharpness

    ratios = []
    for j, k in enumerate(window):
        if k in expected and k in lumas and expected[k] > 0:
            got = mouth_sharpness(lumas[k], landmarks[j])
            if math.isfinite(got):
                ratios.append(got / expected[k])
    if ratios:
        metrics["mouth_sharpness_ratio"] = float(np.median(ratios))


def _double_exposure(
    lumas: dict[int, Any],
    window: list[int],
    landmarks: np.ndarray,
    times: np.ndarray,
    natural: float,
    metrics: dict[str, float],
    failures: list[str],
) -> None:
    from vpipe.lipsync.ghost import ghost_score, lips_box

    worst, at, count = 0.0, math.nan, 0
    limit = max(GHOST_LIMIT, GHOST_MARGIN * natural) if math.isfinite(natural) else GHOST_LIMIT
    for j, k in enumerate(window):
        if k - 1 not in lumas or k + 1 not in lumas:
            continue
        box = lips_box(landmarks[j], lumas[k].shape)
        if box is None:
            continue
        x0, y0, x1, y1 = box
        score, _ = ghost_score(*(lumas[i][y0:y1, x0:x1] for i in (k - 1, k, k + 1)))
        if not math.isfinite(score):
            continue
        count += score > limit
        if score > worst:
            worst, at = score, float(times[k])
    metrics["double_exposure_max"] = worst
    metrics["double_exposure_natural"] = natural
    metrics["double_exposure_frames"] = float(count)
    if count:
        failures.append(
            f"{count} frame(s) show two mouths at once (double exposure {worst:.1f} at {at:.2f} s; "
            f"limit {limit:.1f}, the source's own frames reach {natural:.1f})"
        )


def _face(y: Any, box: Any) -> np.ndarray:
    """copied_figures.crop of a luma plane, or of one read region by region (luma_regions_of)."""
    region = face_region(y.shape, box)
    if region is None:
        return y[:, :]  # type: ignore[no-any-return]
    x0, y0, x1, y1 = region
    return y[y0:y1, x0:x1]  # type: ignore[no-any-return]


def _seams(frames: Frames) -> list[int]:
    """Output frames where re-rendering starts or stops (k differs from k − 1 in being edited)."""
    edited = np.zeros(len(frames.times), bool)
    edited[list(frames.rendered)] = True
    return [k for k in range(1, len(edited)) if edited[k] != edited[k - 1]]


class _Compared:
    """What comparing the output frames around the edits with their source frames finds, frame
    by frame in output order: PSNR outside the windows, the face region's raw change and the
    change of the edit (output − source) from the previous output frame, the window frames
    themselves handed to the tracker (`ahead`, which converts them to RGB), and the luma of the
    window frames (read region by region) and their neighbours."""

    def __init__(
        self,
        frames: Frames,
        box: Any,
        in_window: np.ndarray,
        references: Later[dict[int, np.ndarray]],
        referenced: list[int],
        ahead: TrackAhead,
    ) -> None:
        self.times, self.box, self.in_window = frames.times, box, in_window
        # the interpolated heads (qc/overlap.py: waited for when the loop reaches the first)
        self.references, self.referenced = references, set(referenced)
        self.ahead = ahead
        self.near_window = in_window | np.roll(in_window, 1) | np.roll(in_window, -1)
        self.psnrs: list[float] = []
        self.psnr_frames: list[int] = []
        self.window_frames: list[int] = []
        self.diffs: dict[int, float] = {}  # raw face-region change to the previous output frame
        self.residual_diffs: dict[int, float] = {}  # change of (output − source) to the previous frame
        self.window_times: list[float] = []
        # window frames (read region by region: luma_regions_of) and their neighbours (planes)
        self.lumas: dict[int, Any] = {}
        self.last_k, self.previous, self.previous_residual = -2, None, None

    def pair(self, k: int, frame: Any, src_frame: Any) -> None:
        """Output frame k (decoded) and the source frame it shows (None: not known)."""
        from vpipe.media.decode import luma

        # A window frame's luma is read only in regions (the face's here, the lips' by the
        # double exposure and sharpness measures): converted region by region, the same values.
        # Every other frame is compared whole (PSNR).
        window = bool(self.in_window[k])
        same = src_frame is None or src_frame is frame
        if window:
            y = luma_regions_of(frame)
            src_y = y if same else luma_regions_of(src_frame)
        else:
            y = luma(frame)
            src_y = y if same else luma_of(src_frame)
        region = _face(y, self.box)
        # the interpolated head's face region (qc/heads.py), else the source frame's
        reference = self.references.value().get(k) if k in self.referenced else None
        if reference is None:
            reference = region if src_y is y else _face(src_y, self.box)
        residual = region - reference
        self._moved(k, region, residual)
        if self.near_window[k]:
            self.lumas[k] = y
        if window:
            self.window_times.append(float(self.times[k]))
            self.ahead.add(frame, self.window_times[-1])  # tracked on its thread; both only read it
            self.window_frames.append(k)
        elif src_frame is not None:
            self.psnrs.append(math.inf if src_frame is frame else psnr(y, src_y))  # the same picture: inf
            self.psnr_frames.append(k)

    def copied(self, gop: CopiedGop) -> None:
        """A copied GOP's frames, from its stored figures (qc/copied_figures.py): the same
        numbers `pair` finds for each of its frames, which are their source frames' pictures."""
        zeros = np.zeros_like(gop.edges[0])  # output − source, in each of them
        k = gop.first_frame
        self._moved(k, gop.edges[0], zeros)
        for j, change in enumerate(gop.changes.tolist(), start=1):
            self.diffs[k + j] = change
            self.residual_diffs[k + j] = 0.0  # |zeros − zeros|
        k_last = k + gop.frames - 1
        self.psnrs.extend([math.inf] * gop.frames)
        self.psnr_frames.extend(range(k, k_last + 1))
        self.last_k, self.previous, self.previous_residual = k_last, gop.edges[1], zeros

    def _moved(self, k: int, region: np.ndarray, residual: np.ndarray) -> None:
        if self.last_k == k - 1 and self.previous is not None and self.previous_residual is not None:
            self.diffs[k] = region_change(region, self.previous)
            self.residual_diffs[k] = region_change(residual, self.previous_residual)
        self.last_k, self.previous, self.previous_residual = k, region, residual

    def copied_lookup(
        self, frames: Frames, same: set[int], keyframes: tuple[int, ...], src_pts: np.ndarray, rt: RunContext
    ) -> Callable[[int, int], CopiedGop | None]:
        """For pairs_spliced: the stored figures of the copied GOP that starts at output frame k
        and ends before b, when all its frames are the source's pictures and none is a window
        frame, a window's neighbour or an interpolated reference (those need their pictures)."""
        avoid = self.near_window.copy()
        avoid[[k for k in self.referenced if 0 <= k < avoid.shape[0]]] = True
        store = getattr(rt, "store_dir", None)

        def lookup(k: int, b: int) -> CopiedGop | None:
            f = int(frames.source_index[k])
            i = bisect.bisect_right(keyframes, f) - 1
            if i < 0 or i + 1 >= len(keyframes) or keyframes[i] != f:
                return None
            s0, s1 = keyframes[i], keyframes[i + 1]
            if s1 - s0 < 2 or k + (s1 - s0) > b or avoid[k : k + s1 - s0].any():
                return None
            if any(j not in same for j in range(k, k + s1 - s0)):
                return None
            if not np.array_equal(np.asarray(frames.source_index[k : k + s1 - s0], np.int64), np.arange(s0, s1)):
                return None
            return copied_gop(frames.source, k, s0, s1, self.box, src_pts, store)

        return lookup


def visual_metrics(
    file: OutputFile,
    track: Track,
    frames: Frames,
    thresholds: dict[str, Any],
    rt: RunContext,
    metrics: dict[str, float],
    failures: list[str],
    curves: dict[str, Any] | None = None,
) -> None:
    """Fill `metrics` and `failures`; `curves` (when given) gets what a reviewer looks at: the
    window frames' times with measured and predicted aperture, and the worst frame (output
    frame index) by each visual measure."""
    report = frames.report or {}
    windows = [tuple(w) for w in report.get("output_windows") or []]
    times = frames.times
    in_window = within(times, windows)
    seams = _seams(frames)
    src_pts, keyframes, probe, fresh = None, (), (True, True), ()
    if file.splice:
        src_pts, out_pts, same, keyframes, probe, fresh = _check_copied_gops(file, frames, rt, metrics, failures)
    kept = kept_frames(frames.source, rt) if keyframes else None  # closed GOPs: qc/kept_frames.py
    # the interpolated heads are drawn, and the window frames tracked, while the frames are
    # decoded (qc/overlap.py)
    box = report.get("face_box")
    between_luma = Later(
        lambda: interpolated_references(frames, report, seams, src_pts, keyframes, probe[1], kept, box)
    )
    ahead = TrackAhead(_track)
    c = _Compared(frames, box, in_window, between_luma, referenced(report, seams), ahead)
    try:
        if file.splice:
            assert src_pts is not None
            lookup = c.copied_lookup(frames, same, keyframes, src_pts, rt) if keyframes else None
            # closed on an error too: its helper decoder (qc/output_segments.py) stops with it
            with contextlib.closing(
                pairs_spliced(file, frames, out_pts, src_pts, same, keyframes, lookup, probe, kept, fresh)
            ) as decoded:
                for item in decoded:
                    c.copied(item) if isinstance(item, CopiedGop) else c.pair(*item)
        else:
            for item in pairs_full(file, frames):
                c.pair(*item)
        between_luma.value()  # an error drawing the heads is raised, even if no frame asked for one
        landmarks = ahead.landmarks()
    except BaseException:  # no thread is left waiting for frames that will not come
        ahead.stop()
        between_luma.join()
        raise
    compared = len(c.psnrs) + len(c.window_frames)
    metrics["qc_frames_decoded"] = float(compared)  # compared: decoded now, or a copied GOP's stored figures
    if file.splice:  # every frame of the measured ranges must have been decoded and compared
        expected_count = sum(b - a for a, b in measured_ranges(file.splice, len(times)))
        if compared != expected_count:
            failures.append(f"QC compared {compared} of the {expected_count} output frames around the edits")
    worst: dict[str, int] = {}
    _untouched(c.psnrs, c.psnr_frames, file, thresholds, metrics, failures, worst)
    _seams_measured(c.diffs, c.residual_diffs, seams, thresholds, metrics, failures, worst)
    window_frames, lumas = c.window_frames, c.lumas
    if window_frames:
        natural_ghost = float(report.get("natural_ghost", math.nan) or math.nan)
        _double_exposure(lumas, window_frames, landmarks, times, natural_ghost, metrics, failures)
    expected = {int(k): float(v) for k, v in report.get("donor_sharpness") or []}
    if expected and window_frames:
        _sharpness(lumas, window_frames, landmarks, expected, metrics)
    if window_frames and report.get("phones"):
        _sync(report, landmarks, c.window_times, window_frames, thresholds, metrics, failures, worst, curves)
    if curves is not None:
        curves["worst_frames"] = worst
        curves["windows"] = [list(w) for w in windows]


def _check_copied_gops(
    file: OutputFile, frames: Frames, rt: RunContext, metrics: dict[str, float], failures: list[str]
) -> tuple[np.ndarray, np.ndarray, set[int], tuple[int, ...], tuple[bool, bool], tuple[int, ...]]:
    """A spliced output's copied GOPs are the normalised source's packets, and it has every
    frame written. Returns the source's and the output's frame timestamps, the output frames
    that are their source frame's very picture (decoded once: qc/pairs.py), the source's
    GOP starts (where its decoder may seek; none when its frames are not in decode order),
    whether the output and the source must be probed when opened (not plain MP4s), and the
    output frames inside re-encoded runs a decoder may start at (qc/output_segments.py)."""
    from vpipe.media.decode import frame_timing

    assert file.splice is not None
    src_pts = rt.resource(f"frame-pts:{frames.source}", lambda: frame_timing(frames.source).pts)
    source_gops = rt.resource(f"stream-gops:{frames.source}", lambda: stream_gops(frames.source))
    stat = frames.source.stat()  # a source rewritten in place is hashed afresh
    in_place = rt.resource(
        f"source-gops-in-place:{frames.source}:{stat.st_size}:{stat.st_mtime_ns}", lambda: hashed_source(frames.source)
    )
    found = copied_gops(file.path, file.splice, in_place)
    metrics["copied_gops"] = found.copied
    metrics["copied_gops_identical"] = found.identical
    metrics["copied_source_psnr_min_db"] = float(file.splice.get("copied_source_psnr_min_db", 99.0))
    metrics["reencoded_frames"] = float(file.splice.get("reencoded_frames", 0))
    sound = file.splice.get("audio")
    if isinstance(sound, dict):  # what the row's AAC cost (the splice-aac pass): blocks encoded, CPU
        metrics["audio_blocks"] = float(sound.get("blocks", 0))
        metrics["audio_reencoded_blocks"] = float(sound.get("reencoded_blocks", sound.get("blocks", 0)))
        metrics["audio_cpu_s"] = float(sound.get("cpu_s", 0.0))
        # 1: the voice guard spliced these packets (to hear the row as written) and the write
        # took them, so their encode is in the guard's CPU (speech.match_voice), not here
        metrics["audio_splice_remembered"] = 1.0 if sound.get("remembered") else 0.0
    if found.identical != found.copied:
        failures.append(f"{found.copied - found.identical} copied GOP(s) differ from the normalised source's packets")
    if found.out_pts.shape[0] != len(frames.times):
        failures.append(f"the output has {found.out_pts.shape[0]} frames where {len(frames.times)} were written")
    keyframes = source_gops.starts if source_gops.closed else ()
    probe = (not found.in_place, in_place is None)
    return src_pts, found.out_pts, same_pictures(frames, found, source_gops), keyframes, probe, found.fresh_starts


def _untouched(
    psnrs: list[float],
    psnr_frames: list[int],
    file: OutputFile,
    thresholds: dict[str, Any],
    metrics: dict[str, float],
    failures: list[str],
    worst: dict[str, int],
) -> None:
    """The frames outside the windows against the source (PSNR; a spliced output's copied frames
    are the normalised frames, packets checked: their PSNR is the normalisation's)."""
    finite = [p for p in psnrs if math.isfinite(p)]
    if file.splice:
        finite.append(metrics["copied_source_psnr_min_db"])
    metrics["untouched_psnr_min_db"] = min(finite) if finite else 99.0
    if psnrs and np.isfinite(psnrs).any():
        worst["untouched_psnr"] = psnr_frames[int(np.argmin(np.where(np.isfinite(psnrs), psnrs, np.inf)))]
    metrics["untouched_psnr_mean_db"] = float(np.mean(finite)) if finite else 99.0
    limit = float(thresholds.get("min_untouched_psnr_db", 45.0))
    if finite and min(finite) < limit:
        failures.append(f"frames outside the windows: PSNR {min(finite):.1f} dB < {limit:g} dB against the source")


def _seams_measured(
    diffs: dict[int, float],
    residual_diffs: dict[int, float],
    seams: Any,
    thresholds: dict[str, Any],
    metrics: dict[str, float],
    failures: list[str],
    worst: dict[str, int],
) -> None:
    """How much more the face changes at a window's seam than between typical frames."""
    calm = [d for k, d in diffs.items() if k not in seams and math.isfinite(d)]
    measured_seams = [k for k in seams if k in diffs]
    if not (measured_seams and calm):
        return
    natural = max(float(np.median(calm)), 1e-6)
    metrics["seam_ratio_raw"] = max(diffs[k] for k in measured_seams) / natural
    ratio = max(residual_diffs[k] for k in measured_seams) / natural
    metrics["seam_ratio"] = ratio
    worst["seam"] = max(measured_seams, key=lambda k: residual_diffs[k])
    limit = float(thresholds.get("max_seam_ratio", 2.0))
    if ratio > limit:
        failures.append(f"a window seam changes the face {ratio:.1f}× more than a typical frame (limit {limit:g}×)")


def _sync(
    report: dict[str, Any],
    landmarks: np.ndarray,
    window_times: list[float],
    window_frames: list[int],
    thresholds: dict[str, Any],
    metrics: dict[str, float],
    failures: list[str],
    worst: dict[str, int],
    curves: dict[str, Any] | None,
) -> None:
    """The window frames' measured mouth aperture against the one the heard phones predict
    (phone-level, lipsync.sync), as a fraction of the source's own (natural) sync."""
    from vpipe.face.landmarks import mouth_aperture

    phones = [Segment(str(p), float(a), float(b)) for p, a, b in report.get("phones") or []]
    table = np.asarray(report.get("sync_table") or [], np.float64)
    centre = float(report.get("sync_centre", math.nan))
    measured = np.asarray(mouth_aperture(landmarks), np.float64)
    score = sync_score(measured, np.asarray(window_times), phones, table, centre) if len(table) else math.nan
    if curves is not None:
        predicted = predicted_aperture(phones, np.asarray(window_times), table=table if len(table) else None)
        curves.update(times=window_times, aperture=measured.tolist(), predicted=predicted.tolist())
        gap = np.abs(_z(measured) - _z(predicted))
        if np.isfinite(gap).any():
            worst["sync"] = window_frames[int(np.nanargmax(gap))]
    natural = float(report.get("natural_sync", math.nan))
    metrics["sync"] = score
    metrics["sync_natural"] = natural
    metrics["sync_control"] = float(report.get("control_sync", math.nan))
    if math.isfinite(score) and math.isfinite(natural) and natural > 0:
        metrics["sync_ratio"] = score / natural
        limit = float(thresholds.get("min_sync_ratio", 0.5))
        if score / natural < limit:
            failures.append(
                f"lip-sync {score:.2f} is {100 * score / natural:.0f} % of the source's natural "
                f"{natural:.2f} (limit {100 * limit:.0f} %)"
            )


def _z(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float64)
    ok = np.isfinite(x)
    if ok.sum() < 2 or np.std(x[ok]) < 1e-9:
        return np.zeros_like(x)
    return (x - np.mean(x[ok])) / np.std(x[ok])
