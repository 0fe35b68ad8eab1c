"""GPU check of the neural path (MuseTalk and LatentSync too: `--latent`, gpu_check_latent.py): Wav2Lip at full size (36.3 M parameters, random weights of
the published layout) in torch fp32/fp16 and in ONNX Runtime fp32/fp16, on one CUDA machine
in a few minutes.

    python benchmarks/gpu_check.py                      # CUDA when present, else CPU
    python benchmarks/gpu_check.py --device cpu --width 0.125 --repeats 2   # the quick CPU path

Reports, per engine: parity against torch fp32 on the same inputs (max abs error; the gates
are 1e-4 fp32 and 1e-2 fp16), the execution provider onnxruntime really used (CUDA EP
expected on a GPU), per-frame time (median over `--repeats` timed batches after a warm-up)
and peak GPU memory (torch's allocator peak for torch; the device's used-memory rise seen by
NVML for onnxruntime), against the catalog's VRAM estimate for the model. `--json FILE`
writes the same numbers. Random weights: the timings and memory are the real model's, the
pictures are not.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _inputs(batch: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "mel": rng.uniform(-4, 4, (batch, 1, 80, 16)).astype(np.float32),
        "faces": rng.uniform(0, 1, (batch, 6, 96, 96)).astype(np.float32),
    }


def _random_generator(width: float, folder: Path) -> Path:
    """A checkpoint in the authors' container with random weights and batch-norm statistics."""
    import torch

    from vpipe.neural.wav2lip import Wav2Lip

    torch.manual_seed(0)
    net = Wav2Lip(width)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    path = folder / "wav2lip_gan.pth"
    torch.save({"state_dict": {"module." + k: v for k, v in net.state_dict().items()}}, path)
    return path


def _time(fn: Any, repeats: int, sync: Any = None) -> float:
    fn()  # warm-up (allocations, cuDNN algorithm choice, ORT graph optimisation)
    if sync:
        sync()
    samples = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        if sync:
            sync()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def _nvml_used() -> int | None:
    try:
        import pynvml  # type: ignore[import-not-found]

        pynvml.nvmlInit()
        return int(pynvml.nvmlDeviceGetMemoryInfo(pynvml.nvmlDeviceGetHandleByIndex(0)).used)
    except Exception:
        return None


def run(device: str, width: float, batch: int, repeats: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="vpipe-gpu-check-") as tmp:  # the random weights and exports go with it
        return _run_in(Path(tmp), device, width, batch, repeats)


def _run_in(work: Path, device: str, width: float, batch: int, repeats: int) -> dict[str, Any]:
    import torch

    from vpipe.catalog import model as catalog_model
    from vpipe.kernels.lipsync_wav2lip import load_generator
    from vpipe.neural.onnx_export import ExportSpec, export_onnx, session
    from vpipe.neural.wav2lip import parameter_count

    cuda = device == "cuda"
    sync = torch.cuda.synchronize if cuda else None
    path = _random_generator(width, work)
    net = load_generator(path, device)  # the product's strict loader
    feed = _inputs(batch, 1)
    tensors = [torch.from_numpy(v).to(device) for v in feed.values()]
    out: dict[str, Any] = {
        "device": torch.cuda.get_device_name(0) if cuda else "cpu",
        "torch": torch.__version__,
        "parameters": parameter_count(net),
        "batch": batch,
        "repeats": repeats,
        "catalog_vram_gb": (catalog_model("wav2lip") or {}).get("vram_gb"),
        "engines": {},
    }
    with torch.inference_mode():
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        reference = net(*tensors).float().cpu().numpy()
        seconds = _time(lambda: net(*tensors), repeats, sync)
        out["engines"]["torch-fp32"] = {
            "ms_per_frame": 1000 * seconds / batch,
            "max_error": 0.0,
            "peak_vram_mb": torch.cuda.max_memory_allocated() / 2**20 if cuda else None,
        }
        if cuda:
            half = load_generator(path, device).half()
            torch.cuda.reset_peak_memory_stats()
            h = [t.half() for t in tensors]
            got = half(*h).float().cpu().numpy()
            seconds = _time(lambda: half(*h), repeats, sync)
            out["engines"]["torch-fp16"] = {
                "ms_per_frame": 1000 * seconds / batch,
                "max_error": float(np.abs(got - reference).max()),
                "peak_vram_mb": torch.cuda.max_memory_allocated() / 2**20,
            }
            del half
            torch.cuda.empty_cache()
    cpu_net = load_generator(path, "cpu")
    for precision in ("fp32", "fp16"):
        spec = ExportSpec("wav2lip-check", f"w{width}", lambda: cpu_net, _inputs(4, 0))
        t = time.perf_counter()
        exported = export_onnx(spec, precision, 17, work / "onnx", device)
        export_s = time.perf_counter() - t
        before = _nvml_used() if cuda else None
        sess = session(exported.path, device)
        (got,) = sess.run(["output"], feed)
        seconds = _time(lambda s=sess: s.run(["output"], feed), repeats)
        after = _nvml_used() if cuda else None
        out["engines"][f"onnx-{precision}"] = {
            "ms_per_frame": 1000 * seconds / batch,
            "max_error": float(np.abs(np.asarray(got, np.float32) - reference).max()),
            "export_parity": exported.max_error,
            "export_s": export_s,
            "providers": sess.get_providers(),
            "peak_vram_mb": (after - before) / 2**20 if before is not None and after is not None else None,
        }
        del sess
    out["gates"] = {
        "fp32_parity": all(e["max_error"] <= 1e-4 for k, e in out["engines"].items() if k.endswith("fp32")),
        "fp16_parity": all(e["max_error"] <= 1e-2 for k, e in out["engines"].items() if k.endswith("fp16")),
        "cuda_execution_provider": (not cuda)
        or all(e["providers"][0] == "CUDAExecutionProvider" for k, e in out["engines"].items() if k.startswith("onnx")),
    }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["auto", "cuda", "cpu"], default="auto")
    parser.add_argument("--width", type=float, default=1.0, help="1.0 = the published model; smaller for a quick check")
    parser.add_argument("--batch", type=int, default=0, help="frames per batch (default 128 on CUDA, 8 on CPU)")
    parser.add_argument("--repeats", type=int, default=0, help="timed batches (default 20 on CUDA, 3 on CPU)")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--latent",
        default=None,
        help="also check these models (benchmarks/gpu_check_latent.py); default on CUDA: "
        "musetalk-1.5,latentsync-1.5,latentsync-1.6; '' for none",
    )
    parser.add_argument("--tiny", action="store_true", help="tiny configs for the latent models (CPU smoke)")
    args = parser.parse_args(argv)
    import torch

    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    if device == "cuda" and not torch.cuda.is_available():
        print("no CUDA device", file=sys.stderr)
        return 2
    batch = args.batch or (128 if device == "cuda" else 8)
    repeats = args.repeats or (20 if device == "cuda" else 3)
    result = run(device, args.width, batch, repeats)
    print(f"{result['device']}, torch {result['torch']}, Wav2Lip {result['parameters']:,} parameters, batch {batch}")
    print(f"catalog VRAM estimate: {result['catalog_vram_gb']} GB")
    print(f"{'engine':<12} {'ms/frame':>9} {'max err':>9} {'peak MB':>9}  providers")
    for name, e in result["engines"].items():
        vram = f"{e['peak_vram_mb']:.0f}" if e.get("peak_vram_mb") is not None else "n/a"
        prov = ",".join(p.replace("ExecutionProvider", "") for p in e.get("providers", []))
        print(f"{name:<12} {e['ms_per_frame']:>9.2f} {e['max_error']:>9.2e} {vram:>9}  {prov}")
    print("gates:", ", ".join(f"{k} {'ok' if v else 'FAILED'}" for k, v in result["gates"].items()))
    latent_ok = True
    if args.latent is None:
        args.latent = "musetalk-1.5,latentsync-1.5,latentsync-1.6" if device == "cuda" else ""
    if args.latent:
        from benchmarks.gpu_check_latent import check

        result["latent"] = [check(m, device, args.tiny, min(repeats, 5)) for m in args.latent.split(",")]
        for r in result["latent"]:
            print(json.dumps(r))
            latent_ok &= device != "cuda" or (
                r["fp16_max_error_rel"] <= 0.05
                and (not r.get("catalog_vram_gb") or r.get("peak_vram_gb", 0) <= r["catalog_vram_gb"])
            )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0 if all(result["gates"].values()) and latent_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
