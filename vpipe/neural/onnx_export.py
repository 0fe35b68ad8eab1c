"""Export a torch module to ONNX once, check it, and keep it.

    exported = export_onnx(spec, precision="fp16", cache_dir=onnx_cache_dir())

- fp32: `torch.onnx.export` (TorchScript exporter, opset 17 by default, batch axis dynamic).
- fp16: the fp32 graph converted by onnxconverter-common with `keep_io_types=True`, so
  callers feed and read float32 exactly as before.
- Models whose weights exceed 2 GB (protobuf's limit) keep their tensors in an external-data
  file beside the .onnx (`<name>.onnx.data`).
- Parity at export: onnxruntime's output on the spec's example inputs against torch's, max
  absolute error ≤ 1e-4 (fp32) or ≤ 1e-2 (fp16); a miss raises ExportFailed and leaves no file.
- Cached by the spec's key (the weights hash and kernel version) + opset + precision, written
  atomically; a later build reuses the file and its recorded parity.
- Sessions use the CUDA execution provider when onnxruntime offers it (and the target is a
  GPU), the CPU provider otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

TOLERANCE = {"fp32": 1e-4, "fp16": 1e-2}
EXTERNAL_DATA_BYTES = 2 * 1024**3  # protobuf's 2 GB message limit


class ExportFailed(Exception):
    """Why a module could not be replaced by an ONNX graph (an op that does not export, a
    parity miss, onnxruntime missing): the message goes into a VP230 remark."""


@dataclass(frozen=True)
class ExportSpec:
    name: str  # file name stem, e.g. "wav2lip"
    key: str  # weights hash + kernel version: what makes the graph this graph
    module: Callable[[], Any]  # builds the torch module (fp32, eval, CPU) when an export is needed
    inputs: dict[str, np.ndarray]  # example inputs by name (float32), batch on axis 0
    outputs: Sequence[str] = ("output",)
    dynamic_batch: bool = True
    external_data_bytes: int = EXTERNAL_DATA_BYTES


@dataclass(frozen=True)
class Exported:
    path: Path
    precision: str
    opset: int
    max_error: float
    external_data: bool
    reused: bool = False
    info: dict[str, Any] = field(default_factory=dict)

    def to_attr(self) -> dict[str, object]:
        return {"path": str(self.path), "precision": self.precision, "opset": self.opset, "max_error": self.max_error}


def onnx_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vpipe" / "onnx"


def providers(device: str = "cpu") -> list[str]:
    """CUDA first when the target is a GPU and onnxruntime has the CUDA provider, then CPU."""
    import onnxruntime as ort

    have = ort.get_available_providers()
    out = ["CUDAExecutionProvider"] if device == "cuda" and "CUDAExecutionProvider" in have else []
    return [*out, "CPUExecutionProvider"]


def session(path: Path, device: str = "cpu") -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=providers(device))


def _torch_outputs(module: Any, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    import torch

    with torch.inference_mode():
        out = module(*(torch.from_numpy(v) for v in inputs.values()))
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o.float().numpy() for o in outs]


def _export_fp32(spec: ExportSpec, module: Any, target: Path, opset: int) -> bool:
    """Writes `target` (and `target.data` for big models); True when external data was used."""
    import warnings

    import onnx
    import torch

    args = tuple(torch.from_numpy(v) for v in spec.inputs.values())
    names = list(spec.inputs)
    axes = {n: {0: "batch"} for n in [*names, *spec.outputs]} if spec.dynamic_batch else None
    size = sum(p.numel() * p.element_size() for p in module.parameters())
    raw = target.with_suffix(".raw.onnx")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                module,
                args,
                str(raw),
                dynamo=False,
                input_names=names,
                output_names=list(spec.outputs),
                dynamic_axes=axes,
                opset_version=opset,
                do_constant_folding=True,
            )
    except Exception as exc:  # an op with no ONNX symbolic at this opset, or a tracing failure
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ExportFailed(f"torch.onnx.export failed: {first}") from None
    external = size > spec.external_data_bytes
    model = onnx.load(str(raw))
    raw.unlink()
    for leftover in raw.parent.glob(raw.name + "*"):
        leftover.unlink()
    _save(model, target, external)
    return external


def _save(model: Any, target: Path, external: bool) -> None:
    import onnx

    if external:
        onnx.save_model(
            model,
            str(target),
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=target.name + ".data",
            size_threshold=0,
        )
    else:
        onnx.save_model(model, str(target))


def _to_fp16(path: Path, external: bool) -> None:
    import warnings

    import onnx
    from onnxconverter_common import float16

    model = onnx.load(str(path))
    with warnings.catch_warnings():  # "the float32 number … will be truncated": expected in fp16
        warnings.simplefilter("ignore", UserWarning)
        half = float16.convert_float_to_float16(model, keep_io_types=True, disable_shape_infer=external)
    for f in (path, path.with_name(path.name + ".data")):
        if f.exists():
            f.unlink()
    _save(half, path, external)


def export_onnx(
    spec: ExportSpec, precision: str = "fp32", opset: int = 17, cache_dir: Path | None = None, device: str = "cpu"
) -> Exported:
    """The cached, parity-checked ONNX file for `spec` (see the module docstring)."""
    if precision not in TOLERANCE:
        raise ExportFailed(f"unknown precision '{precision}' (fp32 or fp16)")
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as exc:
        raise ExportFailed(f"needs onnx and onnxruntime: {exc}") from None
    folder = Path(cache_dir or onnx_cache_dir())
    stem = f"{spec.name}-{spec.key[:20]}-op{opset}-{precision}"
    final = folder / f"{stem}.onnx"
    record = folder / f"{stem}.json"
    if final.is_file() and record.is_file():
        try:
            info = json.loads(record.read_text(encoding="utf-8"))
            return Exported(final, precision, opset, float(info["max_error"]), bool(info["external_data"]), True, info)
        except (OSError, ValueError, KeyError):
            pass  # a damaged record: export again
    folder.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{stem}.", dir=folder))
    try:
        module = spec.module()
        target = work / final.name
        external = _export_fp32(spec, module, target, opset)
        if precision == "fp16":
            _to_fp16(target, external)
        reference = _torch_outputs(module, spec.inputs)
        try:
            got = session(target, device).run(list(spec.outputs), {k: v for k, v in spec.inputs.items()})
        except Exception as exc:
            raise ExportFailed(f"onnxruntime cannot run the exported graph: {str(exc).splitlines()[0]}") from None
        error = max(float(np.max(np.abs(np.asarray(g, np.float32) - r))) for g, r in zip(got, reference, strict=True))
        if not error <= TOLERANCE[precision]:
            raise ExportFailed(f"{precision} parity {error:.3g} exceeds {TOLERANCE[precision]:g}")
        info = {"max_error": error, "external_data": external, "precision": precision, "opset": opset, "key": spec.key}
        (work / record.name).write_text(json.dumps(info), encoding="utf-8")
        if external:
            os.replace(work / (final.name + ".data"), folder / (final.name + ".data"))
        os.replace(target, final)
        os.replace(work / record.name, record)  # last: a record means the .onnx beside it is complete
        return Exported(final, precision, opset, error, external, False, info)
    finally:
        shutil.rmtree(work, ignore_errors=True)
