"""Render a row's slot windows with a neural face-crop model (Wav2Lip and alike).

For each output frame inside a window whose face is usable: the head (interpolated between
source frames in an elastic window, as retrieve does), its square face crop from the
FaceMesh track (facecrop.py), the model's new crop (`predict`, called in batches), and the
paste-back through the feathered lower-face mask with colour matching of composite.py —
never the square box. Frames outside the windows, and window frames without a usable face,
are the source's own pixels: a face-less frame never aborts the row.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from vpipe.data.face import FaceTrack
from vpipe.data.media import Frames, Track, VideoSource
from vpipe.face import landmarks as L
from vpipe.lipsync.composite import Donor, transplant
from vpipe.lipsync.facecrop import crop, face_boxes, int_box, uncrop
from vpipe.lipsync.inventory import MouthInventory
from vpipe.lipsync.retrieve import MIN_PHASE, RetrieveReport, ease, heard_phones, rendered_frames
from vpipe.lipsync.timeline import output_timeline, within
from vpipe.phases import advance

# predict(crops [B] BGR uint8 size×size, output times [B] seconds) → new crops [B] BGR uint8
Predict = Callable[[list[np.ndarray], np.ndarray], list[np.ndarray]]


def render_neural(
    video: VideoSource,
    face: FaceTrack,
    inv: MouthInventory,
    track: Track,
    windows: list[tuple[float, float]],
    predict: Predict,
    size: int,
    batch: int = 32,
) -> Frames:
    from vpipe.lipsync.interpolate import between, between_points
    from vpipe.media.first_generation import source_images

    timeline = output_timeline(video, track, windows)
    out_windows = [(track.to_output(a), track.to_output(b)) for a, b in windows]
    report = RetrieveReport(windows, out_windows)
    in_window = within(timeline.times, out_windows)
    boxes = face_boxes(face.landmarks, face.usable)
    jobs: list[int] = []
    for k in np.nonzero(in_window)[0]:
        pose = int(timeline.pose_frame[k])
        (jobs if face.usable[pose] and np.isfinite(boxes[pose]).all() else report.faces_lost).append(int(k))
    phase = timeline.position - timeline.pose_frame
    rendered: dict[int, np.ndarray] = {}
    if jobs:
        strength = ease(set(jobs))
        scale = float(np.nanmedian(L.inter_ocular(face.landmarks[face.usable])))
        last = video.frames - 1
        need = {k: min(int(timeline.pose_frame[k]) + (1 if phase[k] > MIN_PHASE else 0), last) for k in jobs}
        images: dict[int, np.ndarray] = {}
        pending = sorted(jobs, key=lambda k: need[k])
        queue: list[tuple[int, np.ndarray, np.ndarray, tuple[int, int, int, int]]] = []

        def flush() -> None:
            crops = [crop(base, box, size) for _, base, _, box in queue]
            new = predict(crops, np.array([timeline.times[k] for k, _, _, _ in queue]))
            for (k, base, points, box), patch in zip(queue, new, strict=True):
                donor = Donor(uncrop(patch, box), (box[0], box[1]), points)
                rendered[k], _ = transplant(base, points, donor, scale, strength=strength[k])
            queue.clear()
            advance(len(rendered), len(jobs))

        poses = {int(timeline.pose_frame[k]) for k in jobs}
        for i, _, image in source_images(video, poses | set(need.values())):
            images[i] = image
            while pending and need[pending[0]] <= i:
                k = pending.pop(0)
                pose = int(timeline.pose_frame[k])
                base, points, box = images[pose], face.landmarks[pose], boxes[pose]
                if phase[k] > MIN_PHASE and pose + 1 in images and face.usable[min(pose + 1, last)]:
                    base = between(base, images[pose + 1], float(phase[k]))
                    points = between_points(points, face.landmarks[pose + 1], float(phase[k]))
                    box = boxes[pose] + (boxes[pose + 1] - boxes[pose]) * float(phase[k])
                    report.interpolated.append((k, float(phase[k])))
                queue.append((k, base, points, int_box(box)))
                if len(queue) >= batch:
                    flush()
            oldest = min((int(timeline.pose_frame[k]) for k in pending), default=i + 1)
            for j in [j for j in images if j < oldest]:
                del images[j]
        if queue:
            flush()
        report.rendered = report.transplanted = len(rendered)
    if inv.size and in_window.any():
        from vpipe.lipsync.sync import sync_score

        phones = heard_phones(track, inv)
        report.phones = [p for p in phones if any(a - 0.3 < p.end and p.start < b + 0.3 for a, b in out_windows)]
        report.natural_sync = inv.natural_sync
        sel = np.nonzero(in_window)[0]
        source_aperture = np.asarray(L.mouth_aperture(face.landmarks[timeline.pose_frame[sel]]), np.float64)
        report.control_sync = sync_score(source_aperture, timeline.times[sel], phones, inv.sync_table, inv.sync_centre)
        report.sync_table = [float(x) for x in inv.sync_table]
        report.sync_centre = float(inv.sync_centre)
    return rendered_frames(video, timeline, rendered, face, report)
