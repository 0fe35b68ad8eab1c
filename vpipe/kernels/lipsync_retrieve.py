"""lipsync.apply with the weight-free backends: retrieve (any source mouth, DP-chosen) and
retime (the frame's own neighbours within ±3 frames)."""

from __future__ import annotations

from typing import Any

from vpipe.data.media import Frames
from vpipe.ir.graph import Estimate, Op
from vpipe.kernel_api.backends import VIDEO, Backend, backend
from vpipe.kernel_api.context import RunContext
from vpipe.kernel_api.registry import Kernel, kernel
from vpipe.kernels.face import face_lost_in_window
from vpipe.lipsync.retrieve import retrieve
from vpipe.lipsync.timeline import slot_windows


def _windows(op: Op, video: Any, track: Any) -> list[tuple[float, float]]:
    margin = float(op.attr("margin_ms")) / 1000.0
    computed = slot_windows(track, margin, video.duration)
    given = op.attr("windows")
    if given and len(given) == len(computed):  # segment-lipsync's windows (same slots, source time)
        return [(float(a), float(b)) for a, b in given]
    return computed


class _WeightFree(Kernel):
    max_offset: int | None = None
    cache = False  # frames are large and cheap to re-render; the written file is what is kept

    def estimate(self, op: Op, context: dict[str, Any]) -> Estimate:
        windows = op.attr("windows") or [[0.0, 0.8]]
        seconds = sum(b - a for a, b in windows)
        return Estimate(seconds=0.3 + seconds * 30 * 0.015, ram_mb=150)  # +~25 ms per frame of an elastic window

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> Frames:
        video, landmarks, track, _spans, inventory = inputs
        frames = retrieve(
            video,
            landmarks,
            inventory,
            track,
            _windows(op, video, track),
            self.max_offset,
            poisson=op.attr("quality") == "best",
        )
        face_lost_in_window(rt, frames.report or {})
        return frames


RETRIEVE = backend(
    Backend(
        "retrieve",
        "lipsync",
        summary="re-uses the speaker's own mouth shapes, chosen by viseme with dynamic programming, warped and blended",
        catalog="retrieve",
        sources=VIDEO,
        needs_inventory=True,
        auto=10,
    )
)
RETIME = backend(
    Backend(
        "retime",
        "lipsync",
        summary="within ±3 frames picks the frame whose mouth best fits the audio",
        catalog="retime",
        sources=VIDEO,
        needs_inventory=True,
    )
)


@kernel("lipsync.apply", backend=RETRIEVE)
class Retrieve(_WeightFree):
    # 5: edits start from the recording's own pictures (first generation); 6: the mouth search
    # matches phone context and aims at the sync measure's table; 7: the ease into a slot started
    # in its margins; 8: 7 undone (it cost the held-out clip a QC row: notes of session 5)
    version = "8"


@kernel("lipsync.apply", backend=RETIME)
class Retime(_WeightFree):
    version = "8"  # as Retrieve's
    max_offset = 3
