"""Re-animate the mouth in a row's slot windows from the speaker's own mouth shapes.

For each output frame inside a window: what should the mouth show (the new words' phones
inside a slot; the frame's own mouth in the margins, where the source's audio plays),
which inventory mouth fits best (dynamic programming over the window), then the
transplant onto the frame's head. Frames outside the windows, and frames whose face is
lost or turned too far, are the source's own pixels; in an elastic window, whose frames
show moments between source frames, the head is interpolated (interpolate.py) first.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from vpipe.data.alignment import Segment
from vpipe.data.face import FaceTrack
from vpipe.data.media import Frames, TimelineEdit, Track, VideoSource
from vpipe.data.memo import derived
from vpipe.lipsync.composite import Donor, transplant
from vpipe.lipsync.context import PhoneContext, phone_context
from vpipe.lipsync.geometry import face_size
from vpipe.lipsync.inventory import MouthInventory, closure_level
from vpipe.lipsync.select import FrameTarget, choose_mouths, entries_by_frame
from vpipe.lipsync.timeline import Timeline, output_timeline, within
from vpipe.lipsync.visemes import BILABIALS, CLOSURE_REACH, INDEX, LIP_LEAD, frame_visemes, predicted_aperture
from vpipe.phases import advance

# An output frame this close to its source frame shows that frame as it is (no interpolation).
MIN_PHASE = 0.02


@dataclass
class RetrieveReport:
    windows: list[tuple[float, float]]  # source time
    output_windows: list[tuple[float, float]] = field(default_factory=list)
    rendered: int = 0
    transplanted: int = 0  # window frames given another mouth
    kept: int = 0  # window frames whose own mouth was the best choice
    interpolated: list[tuple[int, float]] = field(default_factory=list)  # (output frame, phase): head interpolated
    faces_lost: list[int] = field(default_factory=list)  # output frames passed through: no usable face
    phones: list[Segment] = field(default_factory=list)  # what is heard in the windows (output time)
    natural_sync: float = float("nan")
    control_sync: float = float("nan")  # the untouched source mouth under the new words
    face_box: tuple[float, float, float, float] | None = None  # where the face is, over the clip
    natural_ghost: float = float("nan")  # the source's own highest double-exposure score (QC baseline)
    donor_sharpness: list[tuple[int, float]] = field(default_factory=list)  # (output frame, its mouth's in the source)
    closure: float = float("nan")  # the speaker's closure aperture (inventory.closure_level)
    closures: list[int] = field(default_factory=list)  # output frames cut onto a closure for a new p, b or m
    sync_table: list[float] = field(default_factory=list)  # the sync measure's expected aperture per viseme
    sync_centre: float = float("nan")  # ... and the speaker's mean (lipsync.sync.speaker_table)

    def to_json(self, identity: bool) -> dict[str, object]:
        return {
            "windows": [[round(a, 4), round(b, 4)] for a, b in self.windows],
            "output_windows": [[round(a, 4), round(b, 4)] for a, b in self.output_windows],
            "rendered": self.rendered,
            "transplanted": self.transplanted,
            "kept": self.kept,
            "interpolated": [[k, round(phase, 4)] for k, phase in self.interpolated],
            "faces_lost": self.faces_lost,
            "identity_timeline": identity,
            "phones": [[p.label, round(p.start, 4), round(p.end, 4)] for p in self.phones],
            "natural_sync": self.natural_sync,
            "control_sync": self.control_sync,
            "face_box": list(self.face_box) if self.face_box else None,
            "natural_ghost": self.natural_ghost,
            "donor_sharpness": [[k, round(v, 3)] for k, v in self.donor_sharpness],
            "closure": self.closure,
            "closures": self.closures,
            "sync_table": self.sync_table,
            "sync_centre": self.sync_centre,
        }


def heard_phones(track: Track, inv: MouthInventory) -> list[Segment]:
    """Phones heard in the output: the new words' inside slots, the source's elsewhere (cut
    back to outside the replaced spans, then moved by any elastic slot before them)."""
    out = [Segment(p.label, e.output_start + p.start, e.output_start + p.end) for e in track.edits for p in e.phones]
    starts, ends = derived(inv, "phone_spans", lambda: _spans(inv.phones))
    # a phone clear of every replaced span is one piece (cut only for its length when there
    # are edits), mapped with the others at once; only those a span cuts go piece by piece
    clear = np.ones(len(starts), bool)
    for e in track.edits:
        clear &= ((ends <= e.source_start) | (starts >= e.source_end)) & (e.source_start <= e.source_end)
    whole = clear & ((ends - starts > 1e-4) if track.edits else True)
    mapped = iter(zip(track.to_outputs(starts[whole]).tolist(), track.to_outputs(ends[whole]).tolist(), strict=True))
    for p, is_clear, is_whole in zip(inv.phones, clear.tolist(), whole.tolist(), strict=True):
        if is_clear:
            if is_whole:
                out.append(Segment(p.label, *next(mapped)))
            continue
        pieces = [(p.start, p.end)]
        for e in track.edits:
            pieces = [
                part
                for a, b in pieces
                for part in ((a, min(b, e.source_start)), (max(a, e.source_end), b))
                if part[1] - part[0] > 1e-4
            ]
        out.extend(Segment(p.label, track.to_output(a), track.to_output(b)) for a, b in pieces)
    return sorted(out, key=lambda p: p.start)


def _spans(phones: tuple[Segment, ...]) -> tuple[np.ndarray, np.ndarray]:
    return np.array([p.start for p in phones], np.float64), np.array([p.end for p in phones], np.float64)


def _edit_at(edits: tuple[TimelineEdit, ...], t: float) -> TimelineEdit | None:
    for e in edits:
        if e.output_start <= t < e.output_end:
            return e
    return None


def frame_targets(
    times: np.ndarray, pose_frames: np.ndarray, track: Track, inv: MouthInventory, sizes: np.ndarray | None = None
) -> list[FrameTarget]:
    """What each window frame should show. Inside a slot: the new phones' viseme, the
    aperture they predict (in this speaker's units: the sync measure's own table, so the
    search aims at what QC scores) and the phone's context (its neighbours, how far through
    it the frame is); outside: the frame's own mouth."""
    phones = heard_phones(track, inv)
    visemes = frame_visemes(phones, times, offset=LIP_LEAD)
    # No coarticulation smoothing here: it would wash out a 40 ms lip closure (p, b, m);
    # the DP's transition costs already keep the chosen mouths moving smoothly.
    aperture = predicted_aperture(phones, times, smooth=0.005, table=inv.target_apertures)
    context = phone_context(phones, times)
    own = entries_by_frame(inv)
    targets = []
    for k, t in enumerate(times):
        in_slot = _edit_at(track.edits, float(t)) is not None
        entry = own.get(int(pose_frames[k]))
        if in_slot or entry is None:
            pose, viseme, before, after = int(pose_frames[k]), INDEX[visemes[k]], context.before[k], context.after[k]
            targets.append(
                FrameTarget(
                    pose,
                    viseme,
                    float(aperture[k]),
                    in_slot,
                    before=int(before),
                    after=int(after),
                    phase=float(context.phase[k]),
                    size=float(sizes[pose]) if sizes is not None else float("nan"),
                )
            )
        else:
            targets.append(FrameTarget(int(pose_frames[k]), int(inv.visemes[entry]), float(inv.aperture[entry]), False))
    return targets


def closing_frames(times: np.ndarray, track: Track) -> list[tuple[str, list[int]]]:
    """Per new p, b or m, its label and the frames (indices into `times`) one of which must
    show closed lips: those inside the phone; a bilabial shorter than a frame interval gets
    the frame nearest its middle, so no closure falls between two frames."""
    out: list[tuple[str, list[int]]] = []
    if len(times) == 0:
        return out
    for e in track.edits:
        for p in e.phones:
            label = p.label.upper().rstrip("012")
            if label not in BILABIALS:
                continue
            start, end = e.output_start + p.start, e.output_start + p.end
            inside = np.nonzero((times >= start) & (times < end))[0]
            if len(inside):
                out.append((label, [int(k) for k in inside]))
                continue
            k = int(np.argmin(np.abs(times - (start + end) / 2)))
            if _edit_at(track.edits, float(times[k])) is not None:
                out.append((label, [k]))
    return out


EASE_FRAMES = 2


def _render(
    video: VideoSource,
    face: FaceTrack,
    inv: MouthInventory,
    jobs: dict[int, tuple[int, int | None]],
    phases: dict[int, float],
    strength: dict[int, float],
    poisson: bool,
) -> dict[int, np.ndarray]:
    """Output frame k → its image: the pose frame (or the picture `phases[k]` of the way to the
    next source frame, landmarks likewise) with the chosen donor's mouth transplanted when
    `jobs[k]` names one. Source frames are decoded once, in order, and kept only while needed."""
    from vpipe.lipsync.interpolate import between, between_points
    from vpipe.media.first_generation import source_images

    last = video.frames - 1
    need = {k: min(pose + (1 if k in phases else 0), last) for k, (pose, _) in jobs.items()}
    pending = sorted(jobs, key=lambda k: need[k])
    images: dict[int, np.ndarray] = {}
    rendered: dict[int, np.ndarray] = {}
    for i, _, image in source_images(video, {pose for pose, _ in jobs.values()} | set(need.values())):
        images[i] = image
        while pending and need[pending[0]] <= i:
            k = pending.pop(0)
            pose, entry = jobs[k]
            base, points = images[pose], face.landmarks[pose]
            if k in phases and pose + 1 in images:
                base = between(base, images[pose + 1], phases[k])
                points = between_points(points, face.landmarks[pose + 1], phases[k])
            if entry is None:
                rendered[k] = base
                continue
            donor_frame = int(inv.frames[entry])
            donor = Donor(
                inv.crops[entry],
                (int(inv.crop_origin[entry][0]), int(inv.crop_origin[entry][1])),
                face.landmarks[donor_frame],
            )
            rendered[k], _ = transplant(base, points, donor, inv.scale, poisson, strength[k])
        advance(len(rendered), len(jobs))
        oldest = min((jobs[k][0] for k in pending), default=i + 1)
        for j in [j for j in images if j < oldest]:
            del images[j]
    return rendered


def ease(rendered: set[int], cuts: frozenset[int] | set[int] = frozenset()) -> dict[int, float]:
    """Transplant strength per re-rendered frame: ramps over the first and last EASE_FRAMES
    frames of each run, so the mouth eases from the recording's into the new one and back.
    A frame in `cuts` (closed lips for a p, b or m) is shown whole: the run cuts onto the
    closure instead of morphing half of it away, and the ramp counts from it (closed lips
    hide the teeth, so a cut there shows no double exposure)."""
    out = {}
    for k in rendered:
        if k in cuts:
            out[k] = 1.0
            continue
        before = next((d for d in range(1, EASE_FRAMES + 2) if k - d not in rendered or k - d in cuts), EASE_FRAMES + 1)
        after = next((d for d in range(1, EASE_FRAMES + 2) if k + d not in rendered or k + d in cuts), EASE_FRAMES + 1)
        before = EASE_FRAMES + 1 if k - before in cuts else before
        after = EASE_FRAMES + 1 if k + after in cuts else after
        out[k] = min(1.0, min(before, after) / (EASE_FRAMES + 1))
    return out


def own_closures(inv: MouthInventory, times: np.ndarray) -> dict[int, set[str]]:
    """Source frame → the recorded p, b or m within CLOSURE_REACH of it."""
    out: dict[int, set[str]] = {}
    for p in inv.phones:
        label = p.label.upper().rstrip("012")
        if label in BILABIALS:
            for f in np.nonzero((times >= p.start - CLOSURE_REACH) & (times <= p.end + CLOSURE_REACH))[0]:
                out.setdefault(int(f), set()).add(label)
    return out


def close_the_lips(
    inv: MouthInventory,
    targets: list[FrameTarget],
    groups: list[tuple[str, list[int]]],
    closure: float,
    max_offset: int | None,
    recorded: dict[int, set[str]] | None = None,
    context: PhoneContext | None = None,
    sizes: np.ndarray | None = None,
) -> tuple[np.ndarray, list[FrameTarget]]:
    """The window's mouths (and the targets, those that must close the lips marked `closed`), with at least one of the speaker's closures (aperture ≤ `closure`)
    during every new p, b or m (`groups`: its frames). The search runs free first; a bilabial
    none of whose frames got a closure then requires one on its frame that came closest (the
    viseme and aperture costs alone let a mouth labelled p/b/m by the alignment but caught
    before or after the lips met win), and the search runs again. A frame that already shows
    a closure is left alone; so is one showing its own recorded mouth where the recording says
    the same p, b or m (`recorded`, from `own_closures`): the speaker's own closure of it,
    however far this speaker closed there. Only the mouths within EASE_FRAMES of a required
    closure may change: the rest of the window keeps the free search's path."""
    recorded = recorded or {}
    chosen = choose_mouths(inv, targets, max_offset=max_offset, context=context, sizes=sizes)
    if not np.isfinite(closure):
        return chosen, targets
    must = set()
    for label, group in groups:
        shut = [inv.aperture[chosen[j]] <= closure + 1e-6 for j in group]
        own = [
            int(inv.frames[chosen[j]]) == targets[j].pose_frame and label in recorded.get(targets[j].pose_frame, ())
            for j in group
        ]
        if not any(shut) and not any(own):
            must.add(min(group, key=lambda j: (float(inv.aperture[chosen[j]]), -j)))
    if must:
        targets = [dataclasses.replace(t, closed=True) if j in must else t for j, t in enumerate(targets)]
        near = {j + d for j in must for d in range(-EASE_FRAMES, EASE_FRAMES + 1)}
        keep = {j: int(chosen[j]) for j in range(len(targets)) if j not in near}
        chosen = choose_mouths(
            inv, targets, max_offset=max_offset, closure=closure, pinned=keep, context=context, sizes=sizes
        )
    return chosen, targets


def _recorded(inv: MouthInventory, video: VideoSource) -> tuple[float, dict[int, set[str]], PhoneContext]:
    """The speaker's closure level, the recorded p, b and m near each source frame, and each
    inventory entry's recorded phone context."""
    at = video.times[np.clip(inv.frames, 0, len(video.times) - 1)]
    context = phone_context(inv.phones, at)
    for array in (context.before, context.after, context.phase):  # every row reads the same arrays
        array.flags.writeable = False
    return closure_level(inv, video.times), own_closures(inv, video.times), context


def closure_cuts(groups: list[list[int]], shut: set[int], transplanted: set[int]) -> set[int]:
    """Frames that must show their closure whole. Per new p, b or m (a group of frames, in
    order) at least one closed frame must be at full strength: where the ease ramp of a run's
    first (last) frames would show every closed frame only partly (morphing the closure
    back open), its closed frame the ramp reaches farthest is cut to full strength; its
    frames before (after) keep their ramp, so a phone spanning two frames still eases in."""
    base = ease(transplanted)
    cuts: set[int] = set()
    for group in groups:
        closed = [k for k in group if k in shut]
        if not closed or any(k not in transplanted for k in closed):
            continue  # none to show, or a frame keeps its own closed mouth
        if max(base[k] for k in closed) >= 1.0:
            continue
        cuts.add(max(closed, key=lambda k: (base[k], k)))
    return cuts


def retrieve(
    video: VideoSource,
    face: FaceTrack,
    inv: MouthInventory,
    track: Track,
    windows: list[tuple[float, float]],
    max_offset: int | None = None,
    poisson: bool = False,
) -> Frames:
    """The row's frames with the windows' mouths re-rendered. Long on purpose: per window, the
    targets, the search with its closure requirement, the repeated-frame rule and the plan are
    one pass over the same indices; then the closures' cuts, the ease and one render, the report
    filled along the way (split, each piece would take most of the others' locals)."""
    timeline = output_timeline(video, track, windows)
    out_windows = [(track.to_output(a), track.to_output(b)) for a, b in windows]
    report = RetrieveReport(windows, out_windows)
    in_window = within(timeline.times, out_windows)
    rendered: dict[int, np.ndarray] = {}
    if inv.size and in_window.any():
        plan: dict[int, list[tuple[int, int]]] = {}  # pose frame → [(output index, donor entry)]
        # the recording's own facts, the same for every row: derived once per process
        closure, recorded, recorded_context = derived(inv, "recorded", lambda: _recorded(inv, video), also=(video,))
        head_size = derived(face, "head_size", lambda: face_size(face.landmarks))  # per source frame
        shut: set[int] = set()  # output frames showing a closure for a new p, b or m
        groups: list[list[int]] = []  # per new p, b or m, the output frames that must close the lips
        report.closure = closure
        for wa, wb in out_windows:
            idx = np.nonzero((timeline.times >= wa) & (timeline.times < wb))[0]
            if len(idx) == 0:
                continue
            targets = frame_targets(timeline.times[idx], timeline.pose_frame[idx], track, inv, head_size)
            local = closing_frames(timeline.times[idx], track)
            chosen, targets = close_the_lips(
                inv, targets, local, closure, max_offset, recorded, recorded_context, head_size[inv.frames]
            )
            groups += [[int(idx[j]) for j in group] for _, group in local]
            for j in range(1, len(idx)):  # a repeated source frame shows what the previous one showed
                pose, before = int(timeline.pose_frame[idx[j]]), int(timeline.pose_frame[idx[j - 1]])
                if targets[j].closed and not targets[j - 1].closed:
                    continue  # ... unless it must close the lips and the previous frame need not
                if pose < len(inv.repeats) and inv.repeats[pose] and pose - 1 == before:
                    own = inv.entry_of(pose)
                    kept = int(inv.frames[chosen[j - 1]]) == before
                    chosen[j] = own if kept and own is not None else chosen[j - 1]
            for k, entry in zip(idx, chosen, strict=True):
                pose = int(timeline.pose_frame[k])
                if inv.aperture[entry] <= closure + 1e-6:
                    shut.add(int(k))
                if not face.usable[pose]:
                    report.faces_lost.append(int(k))
                elif int(inv.frames[entry]) == pose:
                    report.kept += 1
                else:
                    plan.setdefault(pose, []).append((int(k), int(entry)))
        # an elastic window's frames mostly show moments between two source frames
        phase = timeline.position - timeline.pose_frame
        between_frames = {int(k): float(phase[k]) for k in np.nonzero(in_window & (phase > MIN_PHASE))[0]}
        if plan or between_frames:
            transplanted = {k for jobs in plan.values() for k, _ in jobs}
            cuts = closure_cuts(groups, shut, transplanted)
            strength = ease(transplanted, cuts)
            report.closures = sorted(cuts)
            pose_of = {k: pose for pose, jobs in plan.items() for k, _ in jobs}
            for k in sorted(strength):  # a repeated frame on the ramp keeps the previous frame's blend too
                pose = pose_of[k]
                if (
                    k not in cuts
                    and k - 1 in strength
                    and pose < len(inv.repeats)
                    and inv.repeats[pose]
                    and pose_of[k - 1] == pose - 1
                ):
                    strength[k] = strength[k - 1]
            jobs: dict[int, tuple[int, int | None]] = {k: (pose, entry) for pose, js in plan.items() for k, entry in js}
            for k in between_frames:
                jobs.setdefault(k, (int(timeline.pose_frame[k]), None))
            rendered = _render(video, face, inv, jobs, between_frames, strength, poisson)
            report.rendered = len(rendered)
            report.transplanted = len(strength)
            if len(inv.sharpness) == inv.size:
                report.donor_sharpness = [
                    (k, float(inv.sharpness[entry]))
                    for k, (_, entry) in sorted(jobs.items())
                    if entry is not None and strength.get(k, 0.0) >= 1.0 and np.isfinite(inv.sharpness[entry])
                ]
            report.interpolated = sorted(between_frames.items())
    elif in_window.any():
        report.faces_lost = [int(k) for k in np.nonzero(in_window)[0]]
    if inv.size and in_window.any():
        from vpipe.face.landmarks import mouth_aperture
        from vpipe.lipsync.sync import sync_score

        phones = heard_phones(track, inv)
        report.phones = [p for p in phones if any(a - 0.3 < p.end and p.start < b + 0.3 for a, b in out_windows)]
        report.natural_sync = inv.natural_sync
        sel = np.nonzero(in_window)[0]
        source_aperture = np.asarray(mouth_aperture(face.landmarks[timeline.pose_frame[sel]]), np.float64)
        report.control_sync = sync_score(source_aperture, timeline.times[sel], phones, inv.sync_table, inv.sync_centre)
        report.sync_table = [float(x) for x in inv.sync_table]
        report.sync_centre = float(inv.sync_centre)
        report.natural_ghost = float(inv.natural_ghost)
    return rendered_frames(video, timeline, rendered, face, report)


def clip_face_box(face: FaceTrack) -> tuple[float, float, float, float] | None:
    """The box the tracked face spans over the whole clip (x0, y0, x1, y1), None without a face."""
    if not face.present.any():
        return None
    present = face.landmarks[face.present][:, :, :2]
    lo, hi = np.nanmin(present, axis=(0, 1)), np.nanmax(present, axis=(0, 1))
    return (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1]))


def rendered_frames(
    video: VideoSource, timeline: Timeline, rendered: dict[int, np.ndarray], face: FaceTrack, report: RetrieveReport
) -> Frames:
    """The Frames value a lip-sync renderer returns: its re-rendered frames over the timeline,
    with the box the tracked face spans over the clip in its report (for the review's crops)."""
    report.face_box = derived(face, "face_box", lambda: clip_face_box(face))  # the track's alone: once per process
    return Frames(
        video.path,
        timeline.times,
        timeline.pose_frame,
        rendered,
        video.time_base,
        video.width,
        video.height,
        report=report.to_json(timeline.identity),
    )
