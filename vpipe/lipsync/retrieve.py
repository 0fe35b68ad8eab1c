"""Re-animate the mouth in a row's slot windows from the speaker's own mouth shapes.

For each output frame inside a window: what should the mouth show (the new words' phones
inside a slot; the frame's own mouth in the margins, where the source's audio plays),
which inventory mouth fits best (dynamic programming over the window), then the
transplant onto the frame's head. Frames outside the windows, and frames whose face is
lost or turned too far, are the source's own pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vpipe.data.alignment import Segment
from vpipe.data.face import FaceTrack
from vpipe.data.media import Frames, TimelineEdit, Track, VideoSource
from vpipe.lipsync.composite import Donor, transplant
from vpipe.lipsync.inventory import LIP_LEAD, MouthInventory
from vpipe.lipsync.select import FrameTarget, choose_mouths
from vpipe.lipsync.timeline import output_timeline
from vpipe.lipsync.visemes import INDEX, frame_visemes, predicted_aperture


@dataclass
class RetrieveReport:
    windows: list[tuple[float, float]]
    rendered: int = 0
    kept: int = 0  # window frames whose own mouth was the best choice
    faces_lost: list[int] = field(default_factory=list)  # output frames passed through: no usable face

    def to_json(self, identity: bool) -> dict[str, object]:
        return {"windows": [[round(a, 4), round(b, 4)] for a, b in self.windows], "rendered": self.rendered,
                "kept": self.kept, "faces_lost": self.faces_lost, "identity_timeline": identity}


def _edit_at(edits: tuple[TimelineEdit, ...], t: float) -> TimelineEdit | None:
    for e in edits:
        if e.output_start <= t < e.output_end:
            return e
    return None


def frame_targets(times: np.ndarray, pose_frames: np.ndarray, track: Track, inv: MouthInventory
                  ) -> list[FrameTarget]:
    """What each window frame should show. Inside a slot: the new phones' viseme and the
    aperture they predict (in this speaker's units); outside: the frame's own mouth."""
    a, b = inv.aperture_fit
    phones: list[Segment] = [Segment(p.label, e.output_start + p.start, e.output_start + p.end)
                             for e in track.edits for p in e.phones]
    visemes = frame_visemes(phones, times, offset=LIP_LEAD)
    aperture = a * predicted_aperture(phones, times) + b
    own = {int(f): k for k, f in enumerate(inv.frames)}
    targets = []
    for k, t in enumerate(times):
        in_slot = _edit_at(track.edits, float(t)) is not None
        entry = own.get(int(pose_frames[k]))
        if in_slot or entry is None:
            targets.append(FrameTarget(int(pose_frames[k]), INDEX[visemes[k]], float(aperture[k]), in_slot))
        else:
            targets.append(FrameTarget(int(pose_frames[k]), int(inv.visemes[entry]), float(inv.aperture[entry]), False))
    return targets


def retrieve(video: VideoSource, face: FaceTrack, inv: MouthInventory, track: Track,
             windows: list[tuple[float, float]], max_offset: int | None = None, poisson: bool = False) -> Frames:
    from vpipe.media.decode import iter_frames

    timeline = output_timeline(video, track, windows)
    report = RetrieveReport(windows)
    out_windows = [(track.to_output(a), track.to_output(b)) for a, b in windows]
    in_window = np.array([any(a <= t < b for a, b in out_windows) for t in timeline.times])
    rendered: dict[int, np.ndarray] = {}
    if inv.size and in_window.any():
        plan: dict[int, list[tuple[int, int]]] = {}  # pose frame → [(output index, donor entry)]
        for wa, wb in out_windows:
            idx = np.nonzero((timeline.times >= wa) & (timeline.times < wb))[0]
            if len(idx) == 0:
                continue
            targets = frame_targets(timeline.times[idx], timeline.pose_frame[idx], track, inv)
            chosen = choose_mouths(inv, targets, max_offset=max_offset)
            for k, entry in zip(idx, chosen):
                pose = int(timeline.pose_frame[k])
                if not face.usable[pose]:
                    report.faces_lost.append(int(k))
                elif int(inv.frames[entry]) == pose:
                    report.kept += 1
                else:
                    plan.setdefault(pose, []).append((int(k), int(entry)))
        if plan:
            last = max(plan)
            for i, _, image in iter_frames(video.path, min(plan), last + 1):
                for k, entry in plan.get(i, []):
                    donor_frame = int(inv.frames[entry])
                    donor = Donor(inv.crops[entry], (int(inv.crop_origin[entry][0]), int(inv.crop_origin[entry][1])),
                                  face.landmarks[donor_frame])
                    rendered[k], _ = transplant(image, face.landmarks[i], donor, inv.scale, poisson)
            report.rendered = len(rendered)
    elif in_window.any():
        report.faces_lost = [int(k) for k in np.nonzero(in_window)[0]]
    return Frames(video.path, timeline.times, timeline.pose_frame, rendered, video.time_base, video.width,
                  video.height, report=report.to_json(timeline.identity))
