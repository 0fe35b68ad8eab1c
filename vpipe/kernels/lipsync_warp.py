"""lipsync.animate with `warp`: a still portrait animated to the narration."""

from __future__ import annotations

from typing import Any

import numpy as np

from vpipe.data.media import Frames
from vpipe.ir.graph import Estimate, Op
from vpipe.kernel_api.backends import STILL, Backend, backend
from vpipe.kernel_api.context import RunContext
from vpipe.kernel_api.registry import Kernel, kernel

TIME_BASE = (1, 12800)


WARP = backend(
    Backend(
        "warp",
        "lipsync",
        summary="animates a still portrait towards viseme target shapes, with idle motion",
        catalog="warp",
        sources=STILL,
        auto=10,
    )
)


@kernel("lipsync.animate", backend=WARP)
class Animate(Kernel):
    version = "1"
    cache = False

    def estimate(self, op: Op, context: dict[str, Any]) -> Estimate:
        return Estimate(seconds=4.0, ram_mb=300)

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> Frames:
        import cv2

        from vpipe.lipsync.animate import animate

        image, track, audio_track = inputs
        pixels = cv2.imread(str(image.path), cv2.IMREAD_COLOR)
        fps = float(op.attr("fps"))
        times = np.arange(0.0, audio_track.audio.duration, 1.0 / fps)
        phones = [
            p.__class__(p.label, e.output_start + p.start, e.output_start + p.end)
            for e in audio_track.edits
            for p in e.phones
        ]
        frames = animate(pixels, track.landmarks[0], phones, times)
        return Frames(
            image.path,
            times,
            np.zeros(len(times), np.int64),
            dict(enumerate(frames)),
            TIME_BASE,
            image.width,
            image.height,
            still=True,
            report={"identity_timeline": False, "animated": len(frames)},
        )
