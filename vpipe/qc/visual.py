"""Visual quality of a re-animated output, measured on the written file.

- sync: the mouth aperture of the output frames in the windows (tracked afresh) against
  the aperture the heard phones predict, next to the source's natural value and the
  "audio replaced, mouth untouched" control the lip-sync kernel recorded;
- untouched: PSNR of every frame outside the windows against its source frame, on the
  decoded luma plane (the codec convention; BGR conversions would add their own rounding);
- seams: where re-rendering starts or ends, how much the *edit* changes between the two
  frames (the change of output − source in the face region), against the median natural
  frame-to-frame change elsewhere. Measuring the raw change instead would blame the edit
  for the speaker's own movement that happens to fall on a window edge; the raw ratio is
  reported too (`seam_ratio_raw`). A frame of an elastic window shows a head interpolated
  between two source frames: its edit is measured against that same interpolation.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from vpipe.data.alignment import Segment
from vpipe.data.media import Frames, OutputFile, Track
from vpipe.qc.sync import sync_score


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


def _aperture(images: list[np.ndarray], times: list[float]) -> np.ndarray:
    """Apertures of output frames, tracked as a sequence exactly like the source was."""
    from vpipe.face.landmarks import mouth_aperture
    from vpipe.face.tracker import track_frames

    track = track_frames(images, times)
    return np.asarray(mouth_aperture(track.landmarks), np.float64)


def _seams(frames: Frames) -> list[int]:
    """Output frames where re-rendering starts or stops (k differs from k − 1 in being edited)."""
    edited = np.zeros(len(frames.times), bool)
    edited[list(frames.rendered)] = True
    return [k for k in range(1, len(edited)) if edited[k] != edited[k - 1]]


def _interpolated_references(frames: Frames, report: dict[str, Any], seams: list[int]) -> dict[int, np.ndarray]:
    """Luma of the interpolated head each interpolated frame next to a seam was drawn on
    (only those: the seam measure compares the edit across the seam)."""
    from vpipe.lipsync.interpolate import between
    from vpipe.media.convert import bgr_to_frame
    from vpipe.media.decode import luma, read_frames

    phases = {int(k): float(p) for k, p in report.get("interpolated") or []}
    if not phases:
        return {}
    wanted = sorted(k for k in phases if k in seams or k + 1 in seams)
    if not wanted:
        return {}
    poses = {int(frames.source_index[k]) for k in wanted}
    images = read_frames(frames.source, sorted(poses | {p + 1 for p in poses}))
    out = {}
    for k in wanted:
        f = int(frames.source_index[k])
        if f + 1 in images:
            image = between(images[f], images[f + 1], phases[k])
            # the Y plane as the writer makes it (media/convert.py), at any frame size
            out[k] = luma(bgr_to_frame(image, "yuv420p")).astype(np.float32)
    return out


def visual_metrics(
    file: OutputFile,
    track: Track,
    frames: Frames,
    thresholds: dict[str, Any],
    rt: Any,
    metrics: dict[str, float],
    failures: list[str],
) -> None:
    from vpipe.media.decode import iter_decoded, luma, to_bgr

    report = frames.report or {}
    windows = [tuple(w) for w in report.get("output_windows") or []]
    box = report.get("face_box")
    times = frames.times
    in_window = np.array([any(a <= t < b for a, b in windows) for t in times])
    seams = _seams(frames)
    between_luma = _interpolated_references(frames, report, seams)
    source = iter_decoded(frames.source)
    src_index, src_frame = -1, None
    psnrs: list[float] = []
    diffs: list[float] = []  # raw face-region change to the previous output frame
    residual_diffs: list[float] = []  # change of (output − source) to the previous frame
    previous_residual: np.ndarray | None = None
    window_images: list[np.ndarray] = []
    window_times: list[float] = []
    previous: np.ndarray | None = None
    for k, (_, _, frame) in enumerate(iter_decoded(file.path)):
        if k >= len(times):
            break
        y = luma(frame).astype(np.float32)
        region = _crop(y, box)
        diffs.append(float(np.abs(region - previous).mean()) if previous is not None else math.nan)
        previous = region
        want = int(frames.source_index[k])
        while src_index < want:
            src_index, _, src_frame = next(source)
        src_y = luma(src_frame).astype(np.float32) if src_frame is not None else y
        reference = between_luma.get(k)
        residual = region - _crop(reference if reference is not None else src_y, box)
        residual_diffs.append(
            float(np.abs(residual - previous_residual).mean()) if previous_residual is not None else math.nan
        )
        previous_residual = residual
        if in_window[k]:
            window_images.append(to_bgr(frame))
            window_times.append(float(times[k]))
        elif src_frame is not None:
            psnrs.append(psnr(y, src_y))
    finite = [p for p in psnrs if math.isfinite(p)]
    metrics["untouched_psnr_min_db"] = min(finite) if finite else 99.0
    metrics["untouched_psnr_mean_db"] = float(np.mean(finite)) if finite else 99.0
    limit = float(thresholds.get("min_untouched_psnr_db", 45.0))
    if finite and min(finite) < limit:
        failures.append(f"frames outside the windows: PSNR {min(finite):.1f} dB < {limit:g} dB against the source")
    calm = [d for k, d in enumerate(diffs) if k > 0 and k not in seams and math.isfinite(d)]
    if seams and calm:
        natural = max(float(np.median(calm)), 1e-6)
        metrics["seam_ratio_raw"] = max(diffs[k] for k in seams if k < len(diffs)) / natural
        ratio = max(residual_diffs[k] for k in seams if k < len(residual_diffs)) / natural
        metrics["seam_ratio"] = ratio
        limit = float(thresholds.get("max_seam_ratio", 2.0))
        if ratio > limit:
            failures.append(f"a window seam changes the face {ratio:.1f}× more than a typical frame (limit {limit:g}×)")
    phones = [Segment(str(p), float(a), float(b)) for p, a, b in report.get("phones") or []]
    if window_images and phones:
        table = np.asarray(report.get("aperture_table") or [], np.float64)
        score = sync_score(
            _aperture(window_images, window_times), np.asarray(window_times), phones, table if len(table) else None
        )
        natural = float(report.get("natural_sync", math.nan))
        control = float(report.get("control_sync", math.nan))
        metrics["sync"] = score
        metrics["sync_natural"] = natural
        metrics["sync_control"] = control
        if math.isfinite(score) and math.isfinite(natural) and natural > 0:
            metrics["sync_ratio"] = score / natural
            limit = float(thresholds.get("min_sync_ratio", 0.5))
            if score / natural < limit:
                failures.append(
                    f"lip-sync {score:.2f} is {100 * score / natural:.0f} % of the source's natural "
                    f"{natural:.2f} (limit {100 * limit:.0f} %)"
                )


def _crop(image: np.ndarray, box: list[float] | None) -> np.ndarray:
    if not box:
        return image
    h, w = image.shape[:2]
    x0, y0, x1, y1 = (int(max(0, box[0])), int(max(0, box[1])), int(min(w, box[2])), int(min(h, box[3])))
    return image[y0:y1, x0:x1] if x1 > x0 and y1 > y0 else image
