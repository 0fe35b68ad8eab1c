"""Face tracking (mediapipe FaceMesh) of a video or a still image, and the mouth inventory
built on a tracked video."""

from __future__ import annotations

from typing import Any

import numpy as np

from vpipe.data.face import FaceTrack
from vpipe.diagnostics.diagnostic import Diagnostic, DiagnosticError
from vpipe.ir.graph import Estimate, Op
from vpipe.kernel_api.context import RunContext
from vpipe.kernel_api.registry import Kernel, kernel
from vpipe.lipsync.inventory import MouthInventory, build_inventory
from vpipe.lipsync.visemes import NAMES


def _frames(context: dict[str, Any]) -> int:
    graph = context.get("graph")
    video = graph.first("media.open") if graph is not None else None
    return int(video.result.type.param("frames") or 250) if video else 250


@kernel("face.track", backend="mediapipe")
class TrackFace(Kernel):
    version = "1"

    def available(self) -> str | None:
        import importlib.util

        return None if importlib.util.find_spec("mediapipe") else "mediapipe is not installed"

    def estimate(self, op: Op, context: dict[str, Any]) -> Estimate:
        return Estimate(seconds=0.006 * _frames(context) + 0.3, ram_mb=300)

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> FaceTrack:
        from vpipe.face.tracker import track_video

        (video,) = inputs
        track = track_video(
            video.path, str(op.attr("select")), int(op.attr("index")), float(op.attr("max_yaw_deg"))
        )
        _report_faces(track, rt)
        return track


def _report_faces(track: FaceTrack, rt: RunContext) -> None:
    missing = np.nonzero(~track.present)[0]
    turned = np.nonzero(track.present & ~track.usable)[0]
    if not track.present.any():
        rt.warn(
            "VP306",
            "no face was found in the source: the video passes through without lip-sync",
            help="use a recording with a visible, frontal face",
        )
        return
    if len(missing):
        rt.warn(
            "VP306",
            f"no face in {len(missing)} of {track.frames} frames ({_ranges(missing)}): "
            "those frames pass through untouched",
        )
    if len(turned):
        rt.warn(
            "VP312",
            f"the face is turned too far in {len(turned)} frames ({_ranges(turned)}): "
            "those frames pass through untouched",
        )
    multi = int((track.faces > 1).sum())
    if multi:
        rt.warn("VP306", f"{multi} frames show more than one face; the one chosen by source.face is edited")


def _ranges(idx: np.ndarray) -> str:
    parts, start, prev = [], int(idx[0]), int(idx[0])
    for i in idx[1:]:
        if i != prev + 1:
            parts.append(f"{start}" if start == prev else f"{start}–{prev}")
            start = int(i)
        prev = int(i)
    parts.append(f"{start}" if start == prev else f"{start}–{prev}")
    text = ", ".join(parts[:6])
    return "frames " + text + (" …" if len(parts) > 6 else "")


@kernel("face.track_image", backend="mediapipe")
class TrackImage(Kernel):
    version = "1"

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> FaceTrack:
        import cv2

        from vpipe.face.tracker import track_image

        (image,) = inputs
        pixels = cv2.imread(str(image.path), cv2.IMREAD_COLOR)
        track = track_image(pixels, str(op.attr("select")), int(op.attr("index")))
        if not track.present.any():
            raise DiagnosticError(
                Diagnostic(
                    "VP306",
                    f"no face was found in the source image {image.path.name}",
                    rt.op_span,
                    help="use a well-lit, frontal portrait where the whole face is visible",
                )
            )
        return track


@kernel("face.inventory", backend="retrieve")
class Inventory(Kernel):
    version = "7"  # 7: the phone-level sync measure's table and natural baseline

    def estimate(self, op: Op, context: dict[str, Any]) -> Estimate:
        return Estimate(seconds=0.002 * _frames(context) + 0.1, ram_mb=50 + 0.25 * _frames(context))

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> MouthInventory:
        video, track, alignment = inputs
        try:
            return build_inventory(video.path, track, alignment, crops_dir=rt.work_dir)
        except ValueError as exc:  # no usable face anywhere: lip-sync will pass frames through
            rt.warn("VP306", f"no mouth inventory: {exc}")
            return empty_inventory()


def empty_inventory() -> MouthInventory:
    return MouthInventory(
        np.zeros(0, np.int64),
        np.zeros(0, np.int16),
        np.zeros(0, np.float32),
        np.zeros((0, 80), np.float32),
        np.zeros((0, 3), np.float32),
        np.zeros(0, np.float32),
        np.zeros((0, 1, 1, 3), np.uint8),
        np.zeros((0, 2), np.int32),
        np.zeros(len(NAMES), np.float32),
        1.0,
    )


def face_lost_in_window(rt: RunContext, report: dict[str, Any]) -> None:
    lost = report.get("faces_lost") or []
    if lost:
        rt.warn("VP312", f"{len(lost)} frames of the slot windows have no usable face and pass through untouched")
