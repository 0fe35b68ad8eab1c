"""`vpipe eval`: measure one personalized file against its source, knowing nothing of how it
was made. Everything outside the slots must be the recording itself, so the file says
where it was edited and whether the edit holds together:

- offset: the output's audio against the source's audio in the untouched part before the
  first edit, and the same for the pictures; a difference is an audio/video offset;
- edit: where the audio differs from the source (from the start and from the end, so an
  elastic slot that changes the length is found too);
- mouth re-animated: in that stretch the lower face must differ from the source's — new
  words under the recorded mouth are the classic dubbing failure;
- mouth moving: the mouth's frame-to-frame change in the edit against the source's own
  while speaking — a frozen mouth under speech fails;
- untouched frames: PSNR of the frames before the edit against the source;
- loudness of the edit against the speech around it; clicks at its joins.

Each measure has a gate (the recipe's `qc:` thresholds where they apply).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

HOP = 0.02  # seconds per audio analysis frame
EDGE = 5  # analysis frames ignored at each end of the file (100 ms)
MARGIN = 0.12  # seconds around the edit where the mouth may be re-animated (coarticulation)

AFTER_EDIT = 0.3  # s after the edit where the A/V offset is measured again (past any transition)
DEFAULTS = {
    "max_av_offset_ms": 40.0,  # one frame at 25 fps
    "max_mouth_psnr_db": 40.0,  # the lower face in the edit closer to the source than this: untouched
    "min_mouth_motion_ratio": 0.3,  # mouth change per frame in the edit / the source's while speaking
    "min_untouched_psnr_db": 45.0,
    "max_loudness_delta_db": 2.0,
}


@dataclass
class Evaluation:
    output: str
    source: str
    metrics: dict[str, float | None] = field(default_factory=dict)
    edit: dict[str, float] | None = None
    failures: list[str] = field(default_factory=list)
    thresholds: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_json(self) -> dict[str, Any]:
        return {
            "output": self.output,
            "source": self.source,
            "verdict": "passed" if self.passed else "failed",
            "edit": self.edit,
            "metrics": self.metrics,
            "failures": self.failures,
            "thresholds": self.thresholds,
        }


def _frames_rms(x: np.ndarray, hop: int) -> np.ndarray:
    n = len(x) // hop
    return np.sqrt(np.mean(x[: n * hop].reshape(n, hop) ** 2, axis=1)) if n else np.zeros(0)


def audio_lag(out: np.ndarray, src: np.ndarray, seconds: float, rate: int, max_lag: float = 0.5) -> float:
    """Lag (s) of `out` against `src` over their first `seconds` (positive: out is late)."""
    n = int(seconds * rate)
    m = int(max_lag * rate)
    a, b = out[: n + m].astype(np.float64), src[:n].astype(np.float64)
    if len(b) < rate // 10 or len(a) < len(b):
        return 0.0
    from scipy.signal import fftconvolve

    corr = fftconvolve(a, b[::-1], mode="full")[len(b) - 1 : len(b) - 1 + m + 1]  # lags 0..m
    neg = fftconvolve(b, a[:n][::-1], mode="full")[n - 1 : n - 1 + m + 1]  # out early
    if float(np.max(neg)) > float(np.max(corr)):
        return -float(np.argmax(neg)) / rate
    return float(np.argmax(corr)) / rate


def changed_span(out: np.ndarray, src: np.ndarray, rate: int) -> tuple[float, float, float] | None:
    """(start, end in the output, end in the source) of where the audio differs, or None.
    The ends are compared after aligning the last seconds (an elastic slot changes the
    length; the codecs pad the ends differently)."""
    hop = int(HOP * rate)
    level = max(float(np.sqrt(np.mean(src.astype(np.float64) ** 2))), 1e-6)
    n = min(len(out), len(src))
    head = _frames_rms(out[:n] - src[:n], hop) > 0.25 * level
    back_lag = round(audio_lag(out[::-1], src[::-1], 1.5, rate) * rate)
    out_rev = out[::-1][back_lag:] if back_lag >= 0 else np.concatenate([np.zeros(-back_lag, out.dtype), out[::-1]])
    n_tail = min(len(out_rev), len(src))
    tail = _frames_rms(out_rev[:n_tail] - src[::-1][:n_tail], hop) > 0.25 * level
    head[:EDGE], tail[:EDGE] = False, False  # the codecs' priming and padding at the very ends
    if not head.any():
        return None
    start = int(np.argmax(head)) * HOP
    from_end = int(np.argmax(tail)) * HOP if tail.any() else 0.0
    out_end, src_end = (len(out) - back_lag) / rate - from_end, len(src) / rate - from_end
    if out_end <= start:
        out_end = min(len(out) / rate, start + HOP)
    return start, out_end, max(src_end, start)


def _mouth_box(images: list[np.ndarray], times: list[float]) -> tuple[int, int, int, int] | None:
    from vpipe.face.landmarks import OUTER_LIPS
    from vpipe.face.tracker import track_frames

    track = track_frames(images, times)
    pts = track.landmarks[:, list(OUTER_LIPS), :2]
    if not np.isfinite(pts).any():
        return None
    x0, y0 = np.nanmin(pts[..., 0]), np.nanmin(pts[..., 1])
    x1, y1 = np.nanmax(pts[..., 0]), np.nanmax(pts[..., 1])
    mx, my = 0.3 * (x1 - x0), 0.5 * (y1 - y0)
    h, w = images[0].shape[:2]
    return int(max(0, x0 - mx)), int(max(0, y0 - my)), int(min(w, x1 + mx)), int(min(h, y1 + my))


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2))
    return 99.0 if mse == 0 else 10 * math.log10(255.0**2 / mse)


def _gray(image: np.ndarray) -> np.ndarray:
    return image.astype(np.float32).mean(axis=2)


def evaluate(output: Path, source: Path, thresholds: dict[str, Any] | None = None) -> Evaluation:
    from vpipe.data.media import TimelineEdit
    from vpipe.media.decode import frame_timing, read_audio, read_frames

    limits = {**DEFAULTS, **{k: float(v) for k, v in (thresholds or {}).items() if k in DEFAULTS}}
    ev = Evaluation(str(output), str(source), thresholds=limits)
    m = ev.metrics
    src_track = read_audio(source, mono=True)  # at its own rate: an untouched stretch is then sample-exact
    rate = src_track.rate
    src_audio = src_track.samples.reshape(-1)
    out_audio = read_audio(output, rate=rate, mono=True).samples.reshape(-1)
    out_times, src_times = frame_timing(output).times, frame_timing(source).times
    out_times, src_times = out_times - out_times[0], src_times - src_times[0]
    fps = (len(src_times) - 1) / max(float(src_times[-1]), 1e-6) if len(src_times) > 1 else 25.0

    # -- where the audio was edited, after taking out any global lag ------------------------------
    span0 = changed_span(out_audio, src_audio, rate)
    before = span0[0] if span0 else len(src_audio) / rate
    lag = audio_lag(out_audio, src_audio, max(min(before, 3.0), 1.0), rate)
    if lag > 0:
        out_audio = out_audio[round(lag * rate) :]
    elif lag < 0:
        out_audio = np.concatenate([np.zeros(round(-lag * rate), np.float32), out_audio])
    span = changed_span(out_audio, src_audio, rate)

    video_lag = _judge_av_offset(ev, output, source, min(5, len(out_times) - 1, len(src_times) - 1), lag, fps)

    # -- the mouth box, from the output frames of the edit ------------------------------------------
    start, out_end, src_end = span if span else (math.inf, math.inf, math.inf)
    inside = [k for k, t in enumerate(out_times) if start <= t < out_end]
    src_inside = [k for k, t in enumerate(src_times) if start <= t < src_end]
    box = None
    window: dict[int, np.ndarray] = {}
    if len(inside) >= 2 and src_inside:
        window = read_frames(output, inside)
        box = _mouth_box(
            [window[k] for k in inside if k in window], [float(out_times[k]) for k in inside if k in window]
        )

    def crop(image: np.ndarray) -> np.ndarray:
        x0, y0, x1, y1 = box  # type: ignore[misc]
        return _gray(image[y0:y1, x0:x1])

    # -- one pass over the source: untouched frames before the edit, the mouth while speaking --------
    speech = set(_speech_frames(src_times, src_audio, rate))
    # the recorded mouth an edit frame may show: the one the edit replaced (its time mapped into
    # the recorded span) or the one at the same time (pictures left as they were while the new
    # audio is longer or shorter)
    kept = [k for k in inside if k in window]
    mapped = np.linspace(src_inside[0], src_inside[-1], len(kept)).round().astype(int) if src_inside else []
    same_time = [int(np.argmin(np.abs(src_times - out_times[k]))) for k in kept]
    wanted_src = {int(j) for j in mapped} | set(same_time)
    untouched, natural, src_crops = _scan_source(
        output, source, src_times, start - MARGIN, video_lag, speech, wanted_src, crop if box is not None else None
    )
    m["untouched_psnr_min_db"] = round(min(untouched), 2) if untouched else None
    if untouched and min(untouched) < limits["min_untouched_psnr_db"]:
        ev.failures.append(
            f"frames before the edit: PSNR {min(untouched):.1f} dB < {limits['min_untouched_psnr_db']:g} dB"
        )
    if span is None:
        m["edit_seconds"] = 0.0
        return ev
    ev.edit = {"start": round(start, 3), "end": round(out_end, 3), "source_end": round(src_end, 3)}
    m["edit_seconds"] = round(out_end - start, 3)

    if box is not None and window:
        images = [crop(window[k]) for k in kept]
        recorded = [[src_crops.get(int(j)), src_crops.get(j2)] for j, j2 in zip(mapped, same_time, strict=True)]
        _judge_mouth(ev, images, recorded, natural, (start, out_end))
    _judge_av_offset_after(ev, output, source, out_times, src_times, lag + out_end - src_end, out_end, fps)
    _judge_loudness(ev, out_audio, rate, TimelineEdit("edit", start, src_end, start, out_end))
    return ev


def _scan_source(
    output: Path,
    source: Path,
    src_times: np.ndarray,
    edit_start: float,
    video_lag: int,
    speech: set[int],
    wanted: set[int],
    crop: Any,
) -> tuple[list[float], list[float], dict[int, np.ndarray]]:
    """One pass over the source (and the output's first frames beside it): the PSNR of every
    frame before the edit, the mouth's own change per frame while speaking, and the source
    mouth crops `wanted` (no mouth figures without a mouth box, `crop` None)."""
    from vpipe.media.decode import iter_decoded, luma, to_bgr

    out_iter = iter_decoded(output)
    untouched: list[float] = []
    natural: list[float] = []
    src_crops: dict[int, np.ndarray] = {}
    previous: np.ndarray | None = None
    for k, _, frame in iter_decoded(source):
        if src_times[k] < edit_start and k - video_lag >= 0:
            try:
                _, _, out_frame = next(out_iter)
            except StopIteration:
                out_frame = None
            if out_frame is not None and k >= video_lag:
                untouched.append(_psnr(luma(out_frame), luma(frame)))
        if crop is not None and (k in speech or k in wanted):
            c = crop(to_bgr(frame))
            if k in wanted:
                src_crops[k] = c
            if previous is not None and k in speech and k - 1 in speech:
                natural.append(float(np.abs(c - previous).mean()))
            previous = c
        else:
            previous = None
    return untouched, natural, src_crops


def _judge_av_offset(ev: Evaluation, output: Path, source: Path, probe: int, lag: float, fps: float) -> int:
    """The pictures' lag (an early output frame against the source frames around it) against the
    audio's: a failure when they drift apart. Returns the pictures' lag in frames."""
    m, limits = ev.metrics, ev.thresholds
    shown = _shown_source_frame(output, source, probe, range(max(0, probe - 3), probe + 4)) if probe >= 0 else None
    video_lag = shown - probe if shown is not None else 0
    m["audio_lag_ms"] = round(1000 * lag, 1)
    m["video_lag_ms"] = round(1000 * video_lag / fps, 1)
    m["av_offset_ms"] = round(1000 * (lag - video_lag / fps), 1)
    if abs(m["av_offset_ms"]) > limits["max_av_offset_ms"]:
        ev.failures.append(
            f"audio and video are {m['av_offset_ms']:+.0f} ms apart against the source "
            f"(limit ±{limits['max_av_offset_ms']:g} ms)"
        )
    return video_lag


def _shown_source_frame(output: Path, source: Path, k: int, candidates: Iterable[int]) -> int | None:
    """Which of the `candidates` (source frame indices) output frame `k` shows: the closest by
    PSNR, the first of equals (None: a frame could not be read)."""
    from vpipe.media.decode import read_frames

    outs, srcs = read_frames(output, [k]), read_frames(source, list(candidates))
    if k not in outs or not srcs:
        return None
    return max(srcs, key=lambda j: _psnr(outs[k], srcs[j]))


def _judge_av_offset_after(
    ev: Evaluation,
    output: Path,
    source: Path,
    out_times: np.ndarray,
    src_times: np.ndarray,
    audio_shift: float,
    out_end: float,
    fps: float,
) -> None:
    """After the edit the sound has moved by `audio_shift` against the recording (its global lag
    plus the edit's change of length): the pictures must have moved with it. An output frame
    shortly after the edit is matched against the source frames it can be (moved with the sound,
    or not moved, and a few frames around both)."""
    after = [k for k, t in enumerate(out_times) if t >= out_end + AFTER_EDIT]
    if not after:
        return
    k = after[0]
    t = float(out_times[k])
    lo, hi = min(t - audio_shift, t) - 3 / fps, max(t - audio_shift, t) + 3 / fps
    best = _shown_source_frame(output, source, k, [j for j, ts in enumerate(src_times) if lo <= ts <= hi])
    if best is None:
        return
    offset = 1000 * (audio_shift - (t - float(src_times[best])))
    ev.metrics["av_offset_after_edit_ms"] = round(offset, 1)
    if abs(offset) > ev.thresholds["max_av_offset_ms"]:
        ev.failures.append(
            f"after the edit audio and video are {offset:+.0f} ms apart (the sound moved "
            f"{1000 * audio_shift:+.0f} ms, the pictures did not follow; limit ±{ev.thresholds['max_av_offset_ms']:g} ms)"
        )


def _judge_mouth(
    ev: Evaluation,
    mouths: list[np.ndarray],
    recorded: list[list[np.ndarray | None]],
    natural: list[float],
    edit: tuple[float, float],
) -> None:
    """The mouth in the edit (crops of the output frames) is re-animated — not a recorded mouth
    it could be (each frame's candidates in `recorded`: the closest one counts) — and moving
    like the speaker's own while speaking."""
    m, limits = ev.metrics, ev.thresholds
    closest = [
        max(_psnr(a, b) for b in candidates if b is not None)
        for a, candidates in zip(mouths, recorded, strict=True)
        if any(b is not None for b in candidates)
    ]
    if closest:
        mouth_psnr = float(np.median(closest))
        m["mouth_psnr_db"] = round(mouth_psnr, 2)
        if mouth_psnr > limits["max_mouth_psnr_db"]:
            ev.failures.append(
                f"the audio changes at {edit[0]:.2f}–{edit[1]:.2f} s but the mouth is the recorded one "
                f"(PSNR {mouth_psnr:.1f} dB against the source > {limits['max_mouth_psnr_db']:g} dB)"
            )
    motion = [float(np.abs(mouths[i] - mouths[i - 1]).mean()) for i in range(1, len(mouths))]
    if natural and motion:
        ratio = float(np.median(motion)) / max(float(np.median(natural)), 1e-6)
        m["mouth_motion_ratio"] = round(ratio, 3)
        if ratio < limits["min_mouth_motion_ratio"]:
            ev.failures.append(
                f"the mouth hardly moves in the edit: {ratio:.2f}× the source's own change per frame "
                f"while speaking (limit {limits['min_mouth_motion_ratio']:g}×)"
            )


def _judge_loudness(ev: Evaluation, out_audio: np.ndarray, rate: int, edit: Any) -> None:
    """Loudness of the edit against the speech around it."""
    from vpipe.qc.audio import loudness_delta

    limits = ev.thresholds
    try:
        delta = float(loudness_delta(out_audio, rate, edit))
    except Exception:  # too little speech around the edit to measure
        delta = math.nan
    ev.metrics["loudness_delta_db"] = round(delta, 2) if math.isfinite(delta) else None
    if math.isfinite(delta) and abs(delta) > limits["max_loudness_delta_db"]:
        ev.failures.append(
            f"the edit is {delta:+.1f} dB against the speech around it (limit ±{limits['max_loudness_delta_db']:g} dB)"
        )


def _speech_frames(times: np.ndarray, audio: np.ndarray, rate: int) -> list[int]:
    """Source frames during speech (audio level above half its typical speech level)."""
    hop = int(HOP * rate)
    rms = _frames_rms(audio, hop)
    if not len(rms) or not (rms > 0).any():
        return []
    loud = rms > 0.5 * float(np.median(rms[rms >= np.percentile(rms, 30)]))
    return [k for k, t in enumerate(times) if int(t / HOP) < len(loud) and loud[int(t / HOP)]]
