"""reduce-steps: DDIM 20 → DPM-Solver++ 10 by default, consistency samplers only with known
weights, and the U-Net evaluations the plan states per row."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.passes.helpers import normalized, run_pass
from tests.passes.test_segment_lipsync import BEFORE as SEGMENT_BEFORE
from vpipe.passes.base import PassContext

# interview-like: a 30 s source at 25 fps with two slot windows of 0.52 s and 0.6 s
BEFORE = SEGMENT_BEFORE.replace("frames=150", "frames=750").replace(
    '{"backend": "retrieve", "margin_ms": 120.0}',
    '{"backend": "latentsync", "margin_ms": 120.0, "model": "latentsync-1.5", "quality": "QUALITY", "windows": [[1.83, 2.35], [20.0, 20.6]]}',
)


def _run(quality: str, ctx: PassContext | None = None) -> tuple[str, PassContext]:
    ctx = ctx or PassContext()
    return run_pass("reduce-steps", BEFORE.replace("QUALITY", quality), ctx), ctx


def test_balanced_switches_to_dpm_solver_10_and_counts_evaluations() -> None:
    after, ctx = _run("balanced")
    expected = BEFORE.replace("QUALITY", "balanced").replace(
        '"quality": "balanced", ',
        '"guidance": 1.5, "quality": "balanced", "sampler": "dpm-solver++", "steps": 10, "unet_evaluations": 40, ',
    )
    assert after == normalized(expected)
    # two windows × 10 steps × 2 (guidance) vs 47 windows × 20 steps × 2 over the whole video
    assert ctx.facts["unet_evaluations"] == {"per_row": 40, "whole_video": 1880, "model": "latentsync-1.5"}
    assert 1880 / 40 >= 25
    assert [d.code for d in ctx.diagnostics] == ["VP255"]


def test_best_keeps_ddim_20() -> None:
    after, ctx = _run("best")
    assert '"sampler": "ddim", "steps": 20, "unet_evaluations": 80' in after
    assert not list(ctx.diagnostics)


def test_fast_without_consistency_weights_remarks_and_keeps_dpm_solver() -> None:
    after, ctx = _run("fast")
    assert '"sampler": "dpm-solver++", "steps": 10' in after
    codes = [d.code for d in ctx.diagnostics]
    assert "VP256" in codes
    assert "no consistency (LCM/TCD) weights are known for latentsync-1.5" in next(
        d.message for d in ctx.diagnostics if d.code == "VP256"
    )


def test_fast_with_consistency_weights_the_catalog_knows_uses_lcm_4(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import copy

    from vpipe import catalog

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    models = copy.deepcopy(catalog.models())
    models["models"]["latentsync-lcm-test"] = {"task": "lipsync", "weights": {"files": ["lcm_unet.pt"]}}
    models["models"]["latentsync-1.5"]["samplers"]["consistency"] = {
        "scheduler": "lcm",
        "steps": 4,
        "weights": "latentsync-lcm-test",
    }
    monkeypatch.setattr(catalog, "models", lambda: models)
    folder = tmp_path / "w"
    folder.mkdir()
    before = BEFORE.replace("QUALITY", "fast").replace('"model":', f'"weights": "{folder}", "model":')
    ctx = PassContext()
    after = run_pass("reduce-steps", before, ctx)
    assert '"sampler": "dpm-solver++"' in after  # weights missing: kept
    assert "not installed" in next(d.message for d in ctx.diagnostics if d.code == "VP256")
    (folder / "lcm_unet.pt").write_bytes(b"x")
    ctx = PassContext()
    after = run_pass("reduce-steps", before, ctx)
    assert '"sampler": "lcm", "steps": 4, "unet_evaluations": 16' in after  # 2 windows × 4 × 2
    assert "20 → lcm 4 steps (5× fewer" in next(d.message for d in ctx.diagnostics if d.code == "VP255")


def test_musetalk_counts_one_evaluation_per_window_frame() -> None:
    before = BEFORE.replace('"backend": "latentsync", ', '"backend": "musetalk", ').replace(
        '"model": "latentsync-1.5", ', ""
    )
    ctx = PassContext()
    after = run_pass("reduce-steps", before.replace("QUALITY", "balanced"), ctx)
    assert '"unet_evaluations": 28' in after and "sampler" not in after  # 13 + 15 frames; single step
    assert ctx.facts["unet_evaluations"]["whole_video"] == 750
