"""Run a neural lip-sync model on a row's slot windows and nowhere else.

The output timeline is the same as the weight-free backends' (`lipsync/timeline.py`): frames
outside the windows are the source's own and are never decoded for the model; inside, every
frame with a usable face gets the model's mouth, eased in and out over the first and last
frames of each run; a frame without a usable face passes through (no detector to fail).

MuseTalk renders frame by frame (batched). LatentSync renders 16-frame windows placed by
`windows.plan` over each run plus context frames; frames covered by two windows are
cross-faded in crop space before the single paste-back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vpipe.data.face import FaceTrack
from vpipe.data.media import Frames, Track, VideoSource
from vpipe.face import landmarks as L
from vpipe.lipsync import latent_crop as facecrop
from vpipe.lipsync.retrieve import MIN_PHASE, ease
from vpipe.lipsync.timeline import output_timeline, within
from vpipe.neural import windows
from vpipe.neural.whisper_features import RATE, encode_span, frame_tokens


@dataclass
class Job:
    """What the renderer needs per output frame."""

    times: np.ndarray
    images: dict[int, np.ndarray] = field(default_factory=dict)
    landmarks: dict[int, np.ndarray] = field(default_factory=dict)


def _gather(video: VideoSource, face: FaceTrack, pose: np.ndarray, phase: np.ndarray, wanted: set[int]) -> Job:
    """Decode the pose frames (and the next one where a frame lies between two) of `wanted`."""
    from vpipe.lipsync.interpolate import between, between_points
    from vpipe.media.first_generation import source_images

    job = Job(np.zeros(0))
    if not wanted:
        return job
    last = video.frames - 1
    need = {int(pose[k]) for k in wanted} | {min(int(pose[k]) + 1, last) for k in wanted if phase[k] > MIN_PHASE}
    decoded = {i: img for i, _, img in source_images(video, need)}  # exactly the frames in `need`
    for k in sorted(wanted):
        p = int(pose[k])
        img, lm = decoded[p], face.landmarks[p]
        if phase[k] > MIN_PHASE and p + 1 in decoded:
            img = between(img, decoded[p + 1], float(phase[k]))
            lm = between_points(lm, face.landmarks[p + 1], float(phase[k]))
        job.images[k], job.landmarks[k] = img, lm
    return job


def _features(
    model: Any, mono: np.ndarray, times: np.ndarray, idx: np.ndarray, final_norm: bool, pad: str
) -> np.ndarray:
    span = encode_span(model.encoder, mono, float(times[idx].min()), float(times[idx].max()), final_norm)
    return frame_tokens(span, times[idx], pad)


def render(
    video: VideoSource,
    face: FaceTrack,
    track: Track,
    source_windows: list[tuple[float, float]],
    model: Any,
    kind: str,
) -> Frames:
    """`kind` = "musetalk" or "latentsync"; `model` is the loaded MuseTalk / LatentSync."""
    from vpipe.speech.splice import resample

    timeline = output_timeline(video, track, source_windows)
    out_windows = [(track.to_output(a), track.to_output(b)) for a, b in source_windows]
    times, pose = timeline.times, timeline.pose_frame
    phase = timeline.position - pose
    in_window = within(times, out_windows)
    usable = in_window & face.usable[pose]
    write = set(np.nonzero(usable)[0].tolist())
    mono = resample(track.audio.mono(), track.audio.rate, RATE)
    audio_times = times - float(getattr(track.audio, "start", 0.0))  # seconds into `mono`
    report: dict[str, Any] = {
        "windows": [[round(a, 4), round(b, 4)] for a, b in source_windows],
        "output_windows": [[round(a, 4), round(b, 4)] for a, b in out_windows],
        "faces_lost": [int(k) for k in np.nonzero(in_window & ~usable)[0]],
        "identity_timeline": timeline.identity,
    }
    strength = ease(write)
    rendered: dict[int, np.ndarray] = {}
    if kind == "musetalk":
        faces = _musetalk(video, face, pose, phase, audio_times, mono, usable, model)
        report["model_windows"] = [[a, b] for a, b in windows.runs(usable)]
    else:
        faces, plan = _latentsync(video, face, pose, phase, audio_times, mono, in_window, usable, model)
        report["model_windows"] = [[w.start, w.stop] for w in plan]
    for k, (crop, out, lm, img) in faces.items():
        scale = float(L.inter_ocular(lm))
        region = facecrop.lower_face_alpha(lm, img.shape[:2], scale)
        rendered[k] = facecrop.paste(img, out, crop, region, strength.get(k, 1.0))
    # frames of an elastic window without a face still show the in-between head
    between = [k for k in np.nonzero(in_window & ~usable)[0] if phase[k] > MIN_PHASE]
    if between:
        extra = _gather(video, face, pose, phase, set(map(int, between)))
        rendered.update(extra.images)
    report.update(
        rendered=len(rendered),
        unet_evaluations=int(model.evaluations),
        unet_calls=list(model.calls),
    )
    return Frames(video.path, times, pose, rendered, video.time_base, video.width, video.height, report=report)


def _musetalk(video, face, pose, phase, times, mono, usable, model) -> dict[int, tuple]:  # type: ignore[no-untyped-def]
    from vpipe.neural.musetalk import CROP

    out: dict[int, tuple] = {}
    for a, b in windows.runs(usable):
        idx = np.arange(a, b)
        job = _gather(video, face, pose, phase, set(idx.tolist()))
        crops = {int(k): facecrop.musetalk_crop(job.landmarks[int(k)], CROP) for k in idx}
        cut = np.stack([facecrop.cut(job.images[int(k)], crops[int(k)]) for k in idx])
        tokens = _features(model, mono, times, idx, final_norm=True, pad="zeros")
        new = model.render(cut, tokens)
        for j, k in enumerate(idx):
            out[int(k)] = (crops[int(k)], new[j], job.landmarks[int(k)], job.images[int(k)])
    return out


def _latentsync(video, face, pose, phase, times, mono, in_window, usable, model) -> tuple[dict[int, tuple], list]:  # type: ignore[no-untyped-def]
    plan = windows.plan(in_window)
    seen = set(k for w in plan for k in range(w.start, w.stop))
    has_face = face.usable[pose]
    job = _gather(video, face, pose, phase, {k for k in seen if has_face[k]})
    acc: dict[int, np.ndarray] = {}
    weight: dict[int, float] = {}
    crops: dict[int, facecrop.Crop] = {}
    for w in plan:
        idx = np.arange(w.start, w.stop)
        faced = [int(k) for k in idx if has_face[k]]
        if not faced:
            continue
        cut = []
        for k in idx:
            src = int(k) if has_face[k] else min(faced, key=lambda f: abs(f - int(k)))
            crops.setdefault(src, facecrop.latentsync_crop(job.landmarks[src], model.resolution))
            cut.append(facecrop.cut(job.images[src], crops[src]))
        tokens = _features(model, mono, times, idx, final_norm=False, pad="edge")
        new = model.render(np.stack(cut), tokens)
        for j, (k, wt) in enumerate(zip(idx, w.weights(), strict=True)):
            k = int(k)
            if usable[k]:
                acc[k] = acc.get(k, 0.0) + new[j].astype(np.float64) * wt
                weight[k] = weight.get(k, 0.0) + float(wt)
    out = {}
    for k in acc:
        face_k = np.clip(np.round(acc[k] / weight[k]), 0, 255).astype(np.uint8)
        out[k] = (crops[k], face_k, job.landmarks[k], job.images[k])
    return out, plan
