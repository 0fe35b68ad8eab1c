"""MuseTalk and LatentSync end to end on a shared clip, with tiny random weights of their real
architectures in the published file layouts, through the backend plug-in seam (the kernel
registry, as `vpipe run` calls it).

interview_man.mp4: the words at 1.50–1.70 s are replaced (fitted slot, 120 ms margin: one
0.44 s window). Checked: frame count and timing, which frames the model renders (the window's,
nothing else), crops and masks (only the lower face changes), the windows and the U-Net
evaluations each backend reports, and that a clip whose face is lost mid-window renders."""

from __future__ import annotations

import dataclasses
import tempfile
from functools import cache
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("diffusers")
pytest.importorskip("transformers")

from tests.lipsync.conftest import BlackFrames
from tests.lipsync.sources import Source, edit, frames, source, track_of
from tests.neural.tiny import latentsync_folder, musetalk_folder
from vpipe.data.media import Frames, Track
from vpipe.face import landmarks as L
from vpipe.ir.graph import Op
from vpipe.kernel_api import registry
from vpipe.kernel_api.context import RunContext
from vpipe.lipsync.geometry import lower_face_polygon

SLOT = (1.50, 1.70)
NEW = ("P", "AA", "M", "AA")


@pytest.fixture(autouse=True)
def tiny_weights_are_not_the_published_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The catalog pins OpenAI's tiny.pt hash; tiny random weights cannot match it."""
    from vpipe.weights import locate

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    original = locate.expected_files
    monkeypatch.setattr(
        locate,
        "expected_files",
        lambda model_id: [dataclasses.replace(e, sha256=None, size=None) for e in original(model_id)],
    )


# one folder for the module's tiny weights, removed when the test process ends (weights are
# cached across tests, so a test's own tmp_path would be gone before the next one used them)
_TINY = tempfile.TemporaryDirectory(prefix="vpipe-tiny-")


@cache
def _weights(kind: str) -> Path:
    root = Path(_TINY.name) / kind
    root.mkdir()
    return musetalk_folder(root) if kind == "musetalk" else latentsync_folder(root)


def _run(backend: str, src: Source, track: Track, **attrs: object) -> Frames:
    info = registry.find("lipsync.apply", f"{backend}@cpu")
    assert info is not None and registry.availability(info) is None
    op = Op(
        "lipsync.apply", (), (), {"backend": backend, "margin_ms": 120.0, "weights": str(_weights(backend)), **attrs}
    )
    rt = RunContext(Path(src.path).parent)
    return registry.instance(info).run(op, [src.video, src.face, track, None], rt)  # video, landmarks, track, spans


@cache
def _rendered(backend: str) -> tuple[Source, Frames]:
    src = source("interview_man")
    track = track_of(src, edit(src, *SLOT, NEW))
    extra = {"model": "latentsync-1.5", "steps": 2} if backend == "latentsync" else {}
    return src, _run(backend, src, track, **extra)


def _window_frames(src: Source, fr: Frames) -> list[int]:
    ((a, b),) = fr.report["output_windows"]
    return [k for k, t in enumerate(fr.times) if a <= t < b]


@pytest.mark.parametrize("backend", ["musetalk", "latentsync"])
def test_renders_exactly_the_window_frames_at_the_source_timing(backend: str) -> None:
    src, fr = _rendered(backend)
    assert len(fr.times) == src.video.frames and np.allclose(fr.times, src.video.times)
    assert np.array_equal(fr.source_index, np.arange(src.video.frames))
    window = _window_frames(src, fr)
    assert 10 <= len(window) <= 13  # 0.44 s at ~25 fps
    assert sorted(fr.rendered) == window  # every window frame has a face here; nothing outside
    assert fr.report["faces_lost"] == []


@pytest.mark.parametrize("backend", ["musetalk", "latentsync"])
def test_only_the_lower_face_changes(backend: str) -> None:
    src, fr = _rendered(backend)
    source_frames = frames(src.path)
    for k, image in fr.rendered.items():
        orig = source_frames[k]
        assert image.shape == orig.shape and image.dtype == np.uint8
        lm = src.face.landmarks[k]
        scale = float(L.inter_ocular(lm))
        poly = lower_face_polygon(lm, scale)
        top = int(poly[:, 1].min() - 0.5 * scale)  # above the feathered edge of the mask
        assert np.array_equal(image[:top], orig[:top]), f"frame {k}: pixels above the lower face changed"
        changed = np.abs(image.astype(int) - orig.astype(int)).max(axis=2) > 0
        ys, xs = np.nonzero(changed)
        assert len(ys) > 500, f"frame {k}: the model's mouth was not pasted"
        x0, x1 = poly[:, 0].min() - scale, poly[:, 0].max() + scale
        assert xs.min() >= x0 and xs.max() <= x1


def test_musetalk_reports_one_unet_evaluation_per_frame() -> None:
    _src, fr = _rendered("musetalk")
    n = len(fr.rendered)
    assert fr.report["unet_evaluations"] == n
    assert fr.report["unet_calls"] == [8, n - 8]  # batch 8, as the published inference
    assert fr.report["weights"]["checks"] == {
        "unet": "all keys match",
        "vae": "all keys match",
        "whisper": "all keys match",
    }


def test_latentsync_runs_one_16_frame_window_with_guidance() -> None:
    src, fr = _rendered("latentsync")
    (w,) = fr.report["model_windows"]
    window = _window_frames(src, fr)
    assert w[1] - w[0] == 16 and w[0] <= window[0] and w[1] >= window[-1] + 1
    assert fr.report["unet_evaluations"] == 1 * 2 * 2  # 1 window × 2 steps × (audio + zero audio)
    assert fr.report["unet_calls"] == [2, 2]
    weights = fr.report["weights"]
    assert weights["version"] is None and "unidentified" in weights["version_from"]
    assert weights["checks"]["unet"] == "all keys match"


def test_a_face_lost_in_the_window_passes_through(black_frames: BlackFrames) -> None:
    src = dataclasses.replace(
        black_frames.src, path=black_frames.path, video=black_frames.video, face=black_frames.face
    )
    fr = _run("musetalk", src, black_frames.track)
    lost = set(fr.report["faces_lost"])
    assert set(black_frames.black) <= lost
    assert not lost & set(fr.rendered)
    assert len(fr.rendered) > 0


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["musetalk", "latentsync"])
def test_export_onnx_runs_the_unet_and_vae_decoder_in_onnx_runtime(backend: str, tmp_path: Path) -> None:
    """export-onnx's exports of this backend (U-Net and VAE decoder, fp32, parity ≤ 1e-4) drive
    the twin kernel: same frames rendered, same U-Net evaluations, pixels within rounding."""
    from vpipe.neural.onnx_export import export_onnx

    src, torch_frames = _rendered(backend)
    extra = {"model": "latentsync-1.5", "steps": 2} if backend == "latentsync" else {}
    op = Op(
        "lipsync.apply", (), (), {"backend": backend, "margin_ms": 120.0, "weights": str(_weights(backend)), **extra}
    )
    specs = registry.instance(registry.find("lipsync.apply", f"{backend}@cpu")).onnx_spec(op)
    assert [s.name for s in specs] == [f"{backend}-unet", f"{backend}-vae-decoder"]
    parts = {s.name: export_onnx(s, "fp32", 17, tmp_path, "cpu").to_attr() for s in specs}
    assert all(p["max_error"] <= 1e-4 for p in parts.values())
    twin = registry.find("lipsync.apply", f"{backend}-onnx@cpu")
    assert twin is not None and registry.availability(twin) is None
    track = track_of(src, edit(src, *SLOT, NEW))
    onnx_op = Op("lipsync.apply", (), (), {**dict(op.attrs), "onnx": parts})
    fr = registry.instance(twin).run(onnx_op, [src.video, src.face, track, None], RunContext(Path(src.path).parent))
    assert sorted(fr.rendered) == sorted(torch_frames.rendered)
    assert fr.report["unet_evaluations"] == torch_frames.report["unet_evaluations"]
    for k, image in fr.rendered.items():
        assert np.abs(image.astype(int) - torch_frames.rendered[k].astype(int)).max() <= 2
