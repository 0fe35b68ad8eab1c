"""batch-rows: rows whose lip-sync model can share forward passes are rendered in batches.

A neural lip-sync kernel runs its model over the face crops of a row's slot windows, a
device batch at a time (32 faces on a CPU, 128 on a GPU for Wav2Lip). One row's windows
rarely fill a GPU batch: a one-second slot is ~25 faces. This pass marks the per-row op of
a backend that declares itself `batchable` with `rows_per_batch`: how many rows' windows
fill one forward pass of its kernel on the target (`rows` overrides it). The runtime then
renders that many rows together (`runtime/batches.py`): each row runs as alone, one at a
time, except that the rows meet at the model (`kernel_api/batch.py`) and their crops go
through it in shared device-sized batches. Nothing changes when one row fills a batch.

Before:
    %frames = lipsync.apply(%gops, %landmarks, %track, %spans, %inventory) {"backend": "wav2lip", "margin_ms": 120.0, "windows": [[1.76, 2.81]]} : Frames per_row kernel(wav2lip@cuda)

After (Wav2Lip on CUDA: 128 faces per pass, 27 faces per row):
    %frames = lipsync.apply(%gops, %landmarks, %track, %spans, %inventory) {"backend": "wav2lip", "margin_ms": 120.0, "rows_per_batch": 4, "windows": [[1.76, 2.81]]} : Frames per_row kernel(wav2lip@cuda)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from vpipe.ir.graph import Graph, Op
from vpipe.ir.types import Scope
from vpipe.kernel_api import backends, registry
from vpipe.passes.base import PassContext
from vpipe.passes.registry import register


@register
@dataclass(frozen=True)
class BatchRows:
    name: ClassVar[str] = "batch-rows"
    summary: ClassVar[str] = "render rows together where the lip-sync model can batch them (device-sized)"

    rows: int = 0  # rows per batch; 0: as many as fill one forward pass of the kernel on its device
    max_rows: int = 16

    def run(self, graph: Graph, ctx: PassContext) -> Graph:
        updates: dict[int, Op] = {}
        for index, op in enumerate(graph.ops):
            size = self._size(graph, op)
            if size > 1:
                updates[index] = op.with_attrs(rows_per_batch=size)
                ctx.facts["rows_per_batch"] = size
        return graph.replace_ops(updates)

    def _size(self, graph: Graph, op: Op) -> int:
        """Rows per batch for `op` (1: not batched)."""
        if op.scope is not Scope.PER_ROW or op.kind != "lipsync.apply" or not op.kernel:
            return 1
        info = registry.find(op.kind, op.kernel)
        spec = backends.find("lipsync", info.backend) if info is not None else None
        if info is None or spec is None or not spec.batchable:
            return 1
        if self.rows:
            return min(self.rows, self.max_rows)
        device_batch = getattr(info.cls, "batch", None)
        fps = graph.value(op.operands[0]).type.param("fps")
        windows = op.attr("windows") or []
        faces = sum(float(b) - float(a) for a, b in windows) * float(fps or 0)
        if not isinstance(device_batch, int) or faces <= 0:
            return 1  # no device batch or no known window: the kernel's own batching stands
        return max(1, min(self.max_rows, math.floor(device_batch / math.ceil(faces))))
