"""benchmarks/gpu_check.py's CPU path (the GPU path needs a CUDA machine): it runs, loads the
model through the product's strict loader, exports fp32 and fp16 graphs, and its parity gates
hold; on a CPU every engine reports no VRAM and onnxruntime's CPU provider."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("onnxruntime")

from benchmarks.gpu_check import main

pytestmark = pytest.mark.slow  # two ONNX exports: a benchmark script check, run with the slow suite


def test_cpu_path(tmp_path: Path) -> None:
    out = tmp_path / "check.json"
    assert main(["--device", "cpu", "--width", "0.125", "--batch", "2", "--repeats", "1", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["parameters"] == 571_449 and result["catalog_vram_gb"] == {"fp32": 4}
    engines = result["engines"]
    assert set(engines) == {"torch-fp32", "onnx-fp32", "onnx-fp16"}  # torch fp16 is measured on CUDA only
    assert engines["onnx-fp32"]["max_error"] <= 1e-4 and 0 < engines["onnx-fp16"]["max_error"] <= 1e-2
    assert engines["onnx-fp16"]["providers"] == ["CPUExecutionProvider"]
    assert all(e["peak_vram_mb"] is None and e["ms_per_frame"] > 0 for e in engines.values())
    assert all(result["gates"].values())
