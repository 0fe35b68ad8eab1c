"""Wav2Lip end to end through the command line, with tiny random weights of the published
architecture in the default model folder (slow): `vpipe run` checks the weights, exports the
generator to ONNX (export-onnx, default pipeline), renders the slot windows with onnxruntime,
runs QC and writes the files. Random weights draw no real mouth: what is checked is frame
counts and timing, that only the lower face inside the slot windows changed, and that a clip
whose face disappears inside the slot still renders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from tests.e2e.helpers import (  # noqa: E402
    INTERVIEW,
    derive_clip,
    face_region,
    luma_frames,
    psnr,
    run_recipe,
    source_slot,
    vpipe,
    write_recipe,
)
from tests.neural.published import random_checkpoint  # noqa: E402

pytestmark = [pytest.mark.media, pytest.mark.slow]


@pytest.fixture(autouse=True)
def tiny_wav2lip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    folder = tmp_path / "xdg" / "vpipe" / "models" / "wav2lip"
    folder.mkdir(parents=True)
    state = {"module." + k: v for k, v in random_checkpoint(1 / 8, seed=9).items()}
    torch.save({"state_dict": state, "global_step": 0}, folder / "wav2lip_gan.pth")
    return folder


def test_wav2lip_renders_the_slot_windows_only(tmp_path: Path, e2e_cache: Path) -> None:
    recipe = write_recipe(tmp_path / "w", INTERVIEW, INTERVIEW.values[:2], lipsync="wav2lip", duration="fit")
    built = vpipe("build", recipe, "--cache-dir", e2e_cache)
    assert built.code == 0, built.text
    final = (recipe.parent / ".vpipe" / "recipe" / "final.ir").read_text(encoding="utf-8")
    assert "kernel(wav2lip-onnx@cpu)" in final and '"precision": "fp32"' in final  # export-onnx took it
    run = run_recipe(recipe, cache=e2e_cache)
    assert run.cli.code == 0, run.cli.text
    src = luma_frames(INTERVIEW.source)
    slot = source_slot(INTERVIEW)
    box = face_region(INTERVIEW.source)
    for row in ("r1", "r2"):
        assert run.rows[row]["status"] == "ok", run.rows[row]
        out = luma_frames(run.output(row))
        assert len(out) == len(src)  # fitted slot: same frames, same times
        assert all(abs(a - b) < 1e-3 for (a, _), (b, _) in zip(out, src, strict=True))
        changed = [t for (t, o), (_, s) in zip(out, src, strict=True) if psnr(o, s) < 40]
        assert changed and slot.start - 0.2 <= min(changed) and max(changed) <= slot.end + 0.2  # window + margin
        for (_t, o), (_, s) in zip(out, src, strict=True):
            _x0, y0, _x1, y1 = box
            top = (y0 + y1) // 2 - (y1 - y0) // 4  # above the nose: never touched
            assert psnr(o[:top], s[:top]) > 40
        assert run.rows[row]["qc"]["metrics"]["untouched_psnr_min_db"] >= 45


def test_a_face_lost_inside_the_slot_passes_through(tmp_path: Path, e2e_cache: Path) -> None:
    slot = source_slot(INTERVIEW)
    middle = (slot.start + slot.end) / 2
    dark = tmp_path / "dark.mp4"
    derive_clip(INTERVIEW.source, dark, lambda i, t, img: np.zeros_like(img) if abs(t - middle) < 0.1 else img)
    recipe = write_recipe(tmp_path / "d", INTERVIEW, INTERVIEW.values[:1], lipsync="wav2lip", source=dark)
    run = run_recipe(recipe, cache=e2e_cache)
    assert run.cli.code == 0, run.cli.text
    assert run.rows["r1"]["status"] == "ok", run.rows["r1"]
    out = luma_frames(run.output("r1"))
    black = [t for t, o in out if o.mean() < 2]
    assert black and all(abs(t - middle) < 0.15 for t in black)  # the face-less frames stayed black
    assert "VP312" in run.codes("r1")  # the face-less window frames are reported, not fatal
