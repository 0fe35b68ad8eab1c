"""Track one chosen face through a video (or find it in a still) with mediapipe FaceMesh.

Why it is built this way (measured on the shared clips, see the face research notes):

* Legacy `mp.solutions.face_mesh.FaceMesh` in tracking mode, refine_landmarks=True (478 points):
  the Tasks API cannot run offline with the shipped models.
* Cost: tracking one face costs ~3.5-4 ms/frame on one core, but asking FaceMesh for 2-3 faces
  makes it run its detector on every frame while fewer faces are tracked (5-7 ms on one-face
  clips, 7.5-11 ms on two-face ones). So a video is first tracked in single-face mode while the
  short-range face detector (~2 ms) checks every `_CHECK_EVERY`-th frame and any frame where the
  tracked face jumps; only when it sees two or more faces is the video re-tracked, with
  max_num_faces = the number seen (at most `MAX_FACES`). A one-face video is decoded once.
* Identity: with several faces, mediapipe's result order is not an identity and
  max_num_faces=1 silently picks any face. The `select` rule is applied once, on one of the
  first frames (see `_Selection`), and the same person is then followed by box overlap with
  their previous position (never by re-applying the rule each frame).
* Presence: a frame without the chosen face is present=False with NaN landmarks and pose; no
  exception, the video is never aborted.
* Smoothing: zero-phase low-pass of the rigid head motion only (see `vpipe.face.pose.head_pose`).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vpipe.data.face import FaceTrack
from vpipe.face.landmarks import NUM_LANDMARKS, box_iou, face_box
from vpipe.face.pose import head_pose

SELECT_RULES = ("largest", "center", "index")
MAX_FACES = 3  # the most faces followed at once in multi-face mode
_CHECK_EVERY = 10  # single-face mode: run the face detector on every n-th frame (~0.2 ms/frame)
_SELECT_WINDOW = 5  # frames with faces looked at before the select rule is applied
_PENDING_MAX = 300  # frames kept while the rule cannot be met yet (bounds memory)
_MIN_IOU = 0.3  # box overlap that keeps the identity between frames
_MAX_SHIFT = 0.35  # ... or centre shift, as a fraction of the face size (after a gap)
DEFAULT_SMOOTH_HZ = 2.0  # cut-off for the rigid head motion (lips stay raw)


def _mediapipe() -> Any:
    import mediapipe as mp

    return mp


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """mediapipe's C++ writes absl/TFLite chatter (W0000 …, INFO: Created TensorFlow Lite …)
    straight to fd 2 while it builds and first runs a graph; GLOG_minloglevel does not reach
    it. fd 2 is muted only around those calls, which run on this thread: a user must see
    vpipe's diagnostics, not a page of library noise."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _face_mesh(static: bool, max_faces: int) -> Any:
    mp = _mediapipe()
    with _quiet_native_stderr():
        return _warmed(
            mp.solutions.face_mesh.FaceMesh(
                static_image_mode=static,
                max_num_faces=max_faces,
                refine_landmarks=True,
                min_detection_confidence=0.5,
                min_tracking_confidence=0.5,
            )
        )


# Graphs kept for the next video of this process, one per kind: building and warming a FaceMesh
# and a face detector costs ~0.035 s of CPU, paid by every row's QC otherwise (it tracks only
# ~20-40 frames). A graph goes back only after a blank frame: it finds no face, so the tracking
# state a video left (the face's region, looped back from its last landmarks) is gone, and the
# graph is where a freshly warmed one starts (`_warmed` runs the same blank frame). Landmarks
# are the same to the bit as with a new graph per video (tests/face/test_graph_pool.py; without
# the blank frame they are not: the next video starts from the last one's face).
_POOL: dict[tuple[int, str, int], list[Any]] = {}  # (process, kind, max faces) -> idle graphs
_POOL_LOCK = threading.Lock()


@contextlib.contextmanager
def _pooled(kind: str, max_faces: int, build: Callable[[], Any]) -> Iterator[Any]:
    """A graph of `kind` for one video: an idle one of this process, or a new one. The key holds
    the process id: a forked child never runs its parent's graph (their threads stay behind)."""
    key = (os.getpid(), kind, max_faces)
    with _POOL_LOCK:
        idle = _POOL.get(key)
        graph = idle.pop() if idle else None
    if graph is None:
        graph = build()
    try:
        yield graph
    except BaseException:
        graph.close()  # its state is unknown: not kept
        raise
    _warmed(graph)  # the blank frame that clears the tracking state
    with _POOL_LOCK:
        idle = _POOL.setdefault(key, [])
        if idle:  # one idle graph per kind is enough for one thread of tracking
            graph.close()
        else:
            idle.append(graph)


def prepare_graphs() -> None:
    """Build the graphs single-face tracking takes first (importing mediapipe, loading its
    models) and keep them in this process's pool, so the first video tracked need not wait
    for them: they are the graphs that video would have built (pooled as after a video)."""
    with _pooled("mesh", 1, lambda: _face_mesh(static=False, max_faces=1)), _pooled("detector", 0, _face_detector):
        pass


def close_idle_graphs() -> None:
    """Close every idle graph this module keeps, so the next video builds new ones (what a
    process that never tracked before would do: the pool's tests and the QC benchmark's
    pooled-off case)."""
    with _POOL_LOCK:
        graphs = [g for idle in _POOL.values() for g in idle]
        _POOL.clear()
    for graph in graphs:
        graph.close()


def _warmed(graph: Any) -> Any:
    """Run `graph` once on a blank image (finds no face, so leaves no tracking state): its
    threads log their set-up while they start, and a first real frame after fd 2 is back
    would let that race through."""
    graph.process(np.zeros((64, 64, 3), np.uint8))
    return graph


def _face_detector() -> Any:
    mp = _mediapipe()
    # short-range BlazeFace: the detector FaceMesh itself uses, so the counts agree
    with _quiet_native_stderr():
        return _warmed(mp.solutions.face_detection.FaceDetection(model_selection=0, min_detection_confidence=0.5))


def _process(graph: Any, rgb: np.ndarray, first: bool) -> Any:
    if first:  # the first run also prints graph set-up chatter
        with _quiet_native_stderr():
            return graph.process(rgb)
    return graph.process(rgb)


def _rgb(image_bgr: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)


# Wire layout of one NormalizedLandmark {x=1, y=2, z=3} inside a NormalizedLandmarkList:
# field-1 tag (0x0a), length 15, then three fixed32 floats each behind its tag (0x0d, 0x15, 0x1d).
_WIRE = np.dtype(
    [("tag", "u1"), ("len", "u1"), ("tx", "u1"), ("x", "<f4"), ("ty", "u1"), ("y", "<f4"), ("tz", "u1"), ("z", "<f4")]
)


def _landmark_array(face: Any) -> np.ndarray:
    """One face's landmarks as (478, 3) float32 normalised coordinates.

    Reads the serialized protobuf with numpy (0.02 ms) instead of 478 Python attribute reads
    (~0.3-0.5 ms, a tenth of the whole per-frame budget); any other layout (e.g. visibility set)
    falls back to the attribute reads."""
    data = face.SerializeToString()
    if len(data) == _WIRE.itemsize * NUM_LANDMARKS:
        rec = np.frombuffer(data, dtype=_WIRE)
        if (
            (rec["tag"] == 0x0A).all()
            and (rec["len"] == 15).all()
            and (rec["tx"] == 0x0D).all()
            and (rec["ty"] == 0x15).all()
            and (rec["tz"] == 0x1D).all()
        ):
            return np.stack([rec["x"], rec["y"], rec["z"]], axis=1)
    return np.array([(p.x, p.y, p.z) for p in face.landmark], dtype=np.float32)


def _faces(result: Any, w: int, h: int) -> list[np.ndarray]:
    """FaceMesh result → list of (478, 3) float32 pixel arrays (z in pixels of x scale)."""
    scale = np.array([w, h, w], dtype=np.float32)
    return [_landmark_array(face) * scale for face in result.multi_face_landmarks or ()]


def _pick(boxes: list[np.ndarray], select: str, index: int, w: int, h: int) -> int | None:
    """Apply the select rule to one frame's face boxes; None when the rule cannot be met."""
    if not boxes:
        return None
    if select == "largest":
        return int(np.argmax([(b[2] - b[0]) * (b[3] - b[1]) for b in boxes]))
    if select == "center":
        centre = np.array([w / 2, h / 2])
        return int(np.argmin([np.hypot(*((b[:2] + b[2:]) / 2 - centre)) for b in boxes]))
    order = np.argsort([(b[0] + b[2]) / 2 for b in boxes], kind="stable")
    return int(order[index]) if index < len(boxes) else None


def _match(boxes: list[np.ndarray], prev: np.ndarray) -> int | None:
    """The box that continues `prev`: best overlap, else the nearest centre within reach."""
    if not boxes:
        return None
    ious = [box_iou(b, prev) for b in boxes]
    best = int(np.argmax(ious))
    if ious[best] >= _MIN_IOU:
        return best
    size = max(prev[2] - prev[0], prev[3] - prev[1])
    c_prev = (prev[:2] + prev[2:]) / 2
    shifts = [float(np.hypot(*((b[:2] + b[2:]) / 2 - c_prev))) for b in boxes]
    near = int(np.argmin(shifts))
    return near if shifts[near] <= _MAX_SHIFT * size else None


@dataclass
class _Raw:
    """Per-frame results of one tracking pass, before pose and smoothing."""

    times: list[float] = field(default_factory=list)
    landmarks: list[np.ndarray | None] = field(default_factory=list)
    faces: list[int] = field(default_factory=list)
    width: int = 0
    height: int = 0


FrameSource = Callable[[], Iterable[tuple[int, float, np.ndarray]]]  # each call starts from the first frame


def _frames(path: Path) -> Iterable[tuple[int, float, np.ndarray]]:
    from vpipe.media.decode import iter_frames

    return iter_frames(path)


def _track_single(frames: FrameSource, to_rgb: Callable[[np.ndarray], np.ndarray] = _rgb) -> _Raw | int:
    """Single-face pass, or the number of faces seen as soon as the detector sees two or more
    (the caller then re-tracks in multi-face mode)."""
    raw = _Raw()
    prev_box: np.ndarray | None = None
    with (
        _pooled("mesh", 1, lambda: _face_mesh(static=False, max_faces=1)) as mesh,
        _pooled("detector", 0, _face_detector) as detector,
    ):
        for i, t, bgr in frames():
            rgb = to_rgb(bgr)
            raw.height, raw.width = rgb.shape[:2]
            faces = _faces(_process(mesh, rgb, i == 0), raw.width, raw.height)
            lm = faces[0] if faces else None
            box = face_box(lm) if lm is not None else None
            jumped = box is not None and prev_box is not None and _match([box], prev_box) is None
            if i % _CHECK_EVERY == 0 or jumped:
                seen = len(_process(detector, rgb, i == 0).detections or ())
                if seen > 1:
                    return seen
            raw.times.append(t)
            raw.landmarks.append(lm)
            raw.faces.append(len(faces))
            prev_box = box if box is not None else prev_box
    return raw


def _track_multi(
    frames: FrameSource, select: str, index: int, max_faces: int, to_rgb: Callable[[np.ndarray], np.ndarray] = _rgb
) -> _Raw:
    """Multi-face pass: select once, then follow that person by box continuity."""
    raw = _Raw()
    sel = _Selection(select, index)
    chosen: np.ndarray | None = None  # the chosen face's last known box
    with _pooled("mesh", max_faces, lambda: _face_mesh(static=False, max_faces=max_faces)) as mesh:
        for i, t, bgr in frames():
            rgb = to_rgb(bgr)
            raw.height, raw.width = rgb.shape[:2]
            faces = _faces(_process(mesh, rgb, i == 0), raw.width, raw.height)
            boxes = [face_box(f) for f in faces]
            raw.times.append(t)
            raw.faces.append(len(faces))
            raw.landmarks.append(None)
            if chosen is None:
                chosen = sel.add(i, faces, boxes, raw)
                continue
            k = _match(boxes, chosen)
            if k is not None:
                raw.landmarks[i] = faces[k]
                chosen = boxes[k]
    if chosen is None:
        sel.decide(raw)
    return raw


class _Selection:
    """Buffers the first frames of a multi-face pass until the select rule can be applied.

    The rule is applied once `_SELECT_WINDOW` frames with faces are buffered, on the earliest of
    them that shows the median face count: a face the detector misses on one frame must not lose
    a "largest" vote, and a spurious extra detection on one frame must not become "index 2". If
    the rule cannot be met (index 1 while one face is seen), buffering goes on (the oldest frames
    beyond `_PENDING_MAX` are given up) and the rule is retried every `_SELECT_WINDOW` face frames.
    Buffered frames are then filled by continuity from the selection frame, backwards and forwards."""

    def __init__(self, select: str, index: int) -> None:
        self.select, self.index = select, index
        self.pending: list[tuple[int, list[np.ndarray], list[np.ndarray]]] = []
        self.with_faces = 0

    def add(self, i: int, faces: list[np.ndarray], boxes: list[np.ndarray], raw: _Raw) -> np.ndarray | None:
        """Buffer one frame; returns the chosen face's current box once decided."""
        self.pending.append((i, faces, boxes))
        if len(self.pending) > _PENDING_MAX:
            dropped = self.pending.pop(0)
            self.with_faces -= bool(dropped[1])
        if not faces:
            return None
        self.with_faces += 1
        if self.with_faces < _SELECT_WINDOW or self.with_faces % _SELECT_WINDOW:
            return None
        return self.decide(raw)

    def decide(self, raw: _Raw) -> np.ndarray | None:
        counts = [len(f) for _, f, _ in self.pending if f]
        if not counts:
            return None
        median = int(np.sort(counts)[(len(counts) - 1) // 2])
        best = next(j for j, (_, f, _) in enumerate(self.pending) if len(f) == median)
        _, faces, boxes = self.pending[best]
        k = _pick(boxes, self.select, self.index, raw.width, raw.height)
        if k is None:
            return None
        raw.landmarks[self.pending[best][0]] = faces[k]
        self._follow(range(best - 1, -1, -1), boxes[k], raw)  # backwards to the first frame
        last = self._follow(range(best + 1, len(self.pending)), boxes[k], raw)  # forwards to now
        self.pending = []
        return last

    def _follow(self, order: range, box: np.ndarray, raw: _Raw) -> np.ndarray:
        """Fill buffered frames in `order` by continuity from `box`; returns the last box."""
        for j in order:
            i, faces, boxes = self.pending[j]
            m = _match(boxes, box)
            if m is not None:
                raw.landmarks[i] = faces[m]
                box = boxes[m]
        return box


def _finish(raw: _Raw, max_yaw_deg: float, smooth_hz: float) -> FaceTrack:
    n = len(raw.times)
    times = np.asarray(raw.times, dtype=np.float64)
    present = np.array([lm is not None for lm in raw.landmarks], dtype=bool)
    landmarks = np.full((n, NUM_LANDMARKS, 3), np.nan, dtype=np.float64)
    for i, lm in enumerate(raw.landmarks):
        if lm is not None:
            landmarks[i] = lm
    pose, landmarks = head_pose(landmarks, present, times, smooth_hz if n > 1 else 0.0)
    with np.errstate(invalid="ignore"):
        usable = present & (np.abs(pose[:, 0]) <= max_yaw_deg)
    return FaceTrack(
        landmarks=landmarks.astype(np.float32),
        present=present,
        pose=pose.astype(np.float32),
        usable=usable,
        faces=np.asarray(raw.faces, dtype=np.int16),
        times=times,
        width=raw.width,
        height=raw.height,
    )


def _check_select(select: str, index: int) -> None:
    if select not in SELECT_RULES:
        raise ValueError(f"select must be one of {', '.join(SELECT_RULES)}, not {select!r}")
    if index < 0:
        raise ValueError(f"index must be >= 0, not {index}")


def track_video(
    path: Path, select: str = "largest", index: int = 0, max_yaw_deg: float = 35.0, smooth_hz: float = DEFAULT_SMOOTH_HZ
) -> FaceTrack:
    """Landmarks, pose and presence of one chosen face on every frame of a video.

    select: "largest" (biggest face box), "center" (nearest the frame centre) or "index" (the
    index-th face from the left), decided once at the start and then followed as the same person.
    usable[i] = present and |absolute yaw| <= max_yaw_deg. smooth_hz: cut-off of the zero-phase
    low-pass on the rigid head motion (0 = raw landmarks). faces[i] = faces FaceMesh found in
    frame i (in a one-face video at most 1: the detector found no second face on every
    `_CHECK_EVERY`-th frame). A requested face that never appears (e.g. index 1 in a one-person
    video) gives present=False everywhere; `faces` says what was seen.
    """
    return _track(lambda: _frames(Path(path)), select, index, max_yaw_deg, smooth_hz)


def track_frames(
    images: Iterable[np.ndarray],
    times: Iterable[float],
    select: str = "largest",
    index: int = 0,
    max_yaw_deg: float = 35.0,
    smooth_hz: float = DEFAULT_SMOOTH_HZ,
    rgb: bool = False,
) -> FaceTrack:
    """Like track_video, for frames already in memory (e.g. re-rendered output frames), so
    they are measured exactly the way a source video is. `images` and `times` are iterated
    together, once per pass (a second pass when several faces are seen); they may be lists
    still being filled (qc/overlap.py). `rgb`: the images are RGB already
    (FaceMesh's order; QC converts its decoded frames straight to it), so not swapped here."""
    return _track(
        lambda: ((i, float(t), im) for i, (t, im) in enumerate(zip(times, images, strict=True))),
        select,
        index,
        max_yaw_deg,
        smooth_hz,
        _as_given if rgb else _rgb,
    )


def _as_given(image: np.ndarray) -> np.ndarray:
    return image


def _track(
    frames: FrameSource,
    select: str,
    index: int,
    max_yaw_deg: float,
    smooth_hz: float,
    to_rgb: Callable[[np.ndarray], np.ndarray] = _rgb,
) -> FaceTrack:
    _check_select(select, index)
    raw = _track_single(frames, to_rgb)
    if isinstance(raw, int):  # several faces: follow the chosen one among up to MAX_FACES
        raw = _track_multi(frames, select, index, min(raw, MAX_FACES), to_rgb)
    elif select == "index" and index > 0:
        raw.landmarks = [None] * len(raw.landmarks)  # only one face was ever seen
    return _finish(raw, max_yaw_deg, smooth_hz)


def track_image(image_bgr: np.ndarray, select: str = "largest", index: int = 0, max_yaw_deg: float = 35.0) -> FaceTrack:
    """The chosen face of a still BGR image as a one-frame track (times = [0.0])."""
    _check_select(select, index)
    rgb = _rgb(np.ascontiguousarray(image_bgr))
    h, w = rgb.shape[:2]
    with _face_mesh(static=True, max_faces=MAX_FACES) as mesh:
        faces = _faces(_process(mesh, rgb, True), w, h)
    k = _pick([face_box(f) for f in faces], select, index, w, h)
    raw = _Raw(times=[0.0], landmarks=[faces[k] if k is not None else None], faces=[len(faces)], width=w, height=h)
    return _finish(raw, max_yaw_deg, 0.0)
