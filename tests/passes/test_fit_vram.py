"""fit-vram over every hardware preset × neural lip-sync model (a table test), plus its IR
Before/Expected and its remarks."""

from __future__ import annotations

import pytest

from tests.passes.helpers import normalized, run_pass
from tests.passes.test_segment_lipsync import BEFORE as SEGMENT_BEFORE
from vpipe.catalog import hardware_presets
from vpipe.frontend.recipe import TargetSpec
from vpipe.passes.base import PassContext
from vpipe.passes.fit_vram import fit

# preset → requested model → (model, precision, batch, offload) chosen.
# Facts used: MuseTalk 4 GB fp16 / 6 GB fp32 (batch 8), LatentSync 1.5 8 GB fp16, 1.6 18 GB fp16,
# fp32 = 2 × fp16 where unpublished, LatentSync fp16 only above compute capability 7 (T4 is 7.5).
EXPECTED = {
    "cpu": {
        "musetalk-1.5": ("musetalk-1.5", "fp32", 8, False),
        "latentsync-1.5": ("musetalk-1.5", "fp32", 8, False),  # LatentSync runs on CUDA only
        "latentsync-1.6": ("musetalk-1.5", "fp32", 8, False),
    },
    "t4-16g": {
        "musetalk-1.5": ("musetalk-1.5", "fp16", 16, False),  # 2 × 4 GB ≤ 15
        "latentsync-1.5": ("musetalk-1.5", "fp16", 16, False),  # fp32 needs 16 GB > 15 even offloaded
        "latentsync-1.6": ("musetalk-1.5", "fp16", 16, False),
    },
    "rtx3060-12g": {
        "musetalk-1.5": ("musetalk-1.5", "fp16", 16, False),
        "latentsync-1.5": ("latentsync-1.5", "fp16", 1, False),
        "latentsync-1.6": ("latentsync-1.5", "fp16", 1, False),  # the example: 18 GB > 11
    },
    "rtx4090-24g": {
        "musetalk-1.5": ("musetalk-1.5", "fp16", 32, False),  # 4 × 4 GB ≤ 22.5
        "latentsync-1.5": ("latentsync-1.5", "fp16", 1, False),
        "latentsync-1.6": ("latentsync-1.6", "fp16", 1, False),
    },
    "a100-80g": {
        "musetalk-1.5": ("musetalk-1.5", "fp16", 32, False),  # bf16 target, model publishes fp16
        "latentsync-1.5": ("latentsync-1.5", "fp16", 1, False),
        "latentsync-1.6": ("latentsync-1.6", "fp16", 1, False),
    },
    "h100-80g": {
        "musetalk-1.5": ("musetalk-1.5", "fp16", 32, False),
        "latentsync-1.5": ("latentsync-1.5", "fp16", 1, False),
        "latentsync-1.6": ("latentsync-1.6", "fp16", 1, False),
    },
}


def test_the_table_covers_every_preset() -> None:
    assert set(EXPECTED) == set(hardware_presets())


@pytest.mark.parametrize(
    ("preset", "asked"), [(p, m) for p, models in EXPECTED.items() for m in models], ids=lambda x: str(x)
)
def test_every_preset_and_model(preset: str, asked: str) -> None:
    hw = hardware_presets()[preset]
    choice, reasons = fit(asked, hw["device"], float(hw["vram_gb"]), hw["precision"], hw.get("compute_capability"))
    assert choice is not None
    assert (choice.model, choice.precision, choice.batch, choice.offload) == EXPECTED[preset][asked]
    assert bool(reasons) == (choice.model != asked)
    assert choice.vram_gb <= hw["vram_gb"]


def test_offload_when_only_the_vae_and_whisper_are_in_the_way() -> None:
    # LatentSync 1.5 fp16 needs 8 GB; VAE + whisper encoder are 0.18 GB in fp16
    choice, _ = fit("latentsync-1.5", "cuda", 7.9, "fp16", 8.6)
    assert choice is not None and choice.offload and choice.model == "latentsync-1.5"
    choice, _ = fit("latentsync-1.5", "cuda", 7.7, "fp16", 8.6)
    assert choice is not None and choice.model == "musetalk-1.5"


def test_nothing_fits_a_tiny_gpu() -> None:
    choice, reasons = fit("latentsync-1.6", "cuda", 2.0, "fp16", 8.6)
    assert choice is None and len(reasons) == 3


BEFORE = SEGMENT_BEFORE.replace("frames=150", "frames=750").replace(
    '{"backend": "retrieve", "margin_ms": 120.0}',
    '{"backend": "latentsync", "margin_ms": 120.0, "model": "latentsync-1.6"}',
)


def test_ir_before_after_on_rtx3060_with_a_remark() -> None:
    ctx = PassContext(target=TargetSpec(preset="rtx3060-12g", device="cuda", vram_gb=11, precision="fp16", workers=1))
    after = run_pass("fit-vram", BEFORE, ctx)
    expected = BEFORE.replace(
        '{"backend": "latentsync", "margin_ms": 120.0, "model": "latentsync-1.6"}',
        '{"backend": "latentsync", "batch": 1, "margin_ms": 120.0, "model": "latentsync-1.5", "offload": false, "precision": "fp16", "vram_gb": 8.0}',
    )
    assert after == normalized(expected)
    (remark,) = [d for d in ctx.diagnostics if d.code == "VP250"]
    assert "latentsync-1.6 needs 18 GB in fp16" in remark.message and "latentsync-1.5 fp16" in remark.message


def test_a_t4_gets_musetalk_instead_of_latentsync() -> None:
    ctx = PassContext(target=TargetSpec(preset="t4-16g", device="cuda", vram_gb=15, precision="fp16", workers=1))
    after = run_pass("fit-vram", BEFORE, ctx)
    assert '"backend": "musetalk"' in after and '"model": "musetalk-1.5"' in after
    assert [d.code for d in ctx.diagnostics] == ["VP250"]


def test_a_substitute_whose_weights_are_not_installed_is_passed_over() -> None:
    # rtx3060: LatentSync 1.6 does not fit, 1.5 would; without 1.5's weights MuseTalk is taken
    hw = hardware_presets()["rtx3060-12g"]
    args = ("latentsync-1.6", hw["device"], float(hw["vram_gb"]), hw["precision"], hw.get("compute_capability"))
    choice, reasons = fit(*args, installed=lambda m: m != "latentsync-1.5")
    assert choice is not None and choice.model == "musetalk-1.5"
    assert reasons[1] == "latentsync-1.5 would fit, but its weights are not installed"
    choice, reasons = fit(*args, installed=lambda m: False)
    assert choice is None and len(reasons) == 3
    choice, _ = fit(*args, installed=lambda m: m == "latentsync-1.5")
    assert choice is not None and choice.model == "latentsync-1.5"


def test_the_pass_asks_the_context_which_weights_are_installed_in_the_ops_folder() -> None:
    asked: list[tuple[str, str | None]] = []

    def ready(model_id: str, folder: str | None) -> bool:
        asked.append((model_id, folder))
        return model_id == "musetalk-1.5"

    target = TargetSpec(preset="rtx3060-12g", device="cuda", vram_gb=11, precision="fp16", workers=1)
    ctx = PassContext(target=target, weights_ready=ready)
    before = BEFORE.replace('"model": "latentsync-1.6"', '"model": "latentsync-1.6", "weights": "w"')
    after = run_pass("fit-vram", before, ctx)
    assert '"model": "musetalk-1.5"' in after
    assert asked == [("latentsync-1.5", "w"), ("musetalk-1.5", "w")]
    (remark,) = [d for d in ctx.diagnostics if d.code == "VP250"]
    assert "latentsync-1.5 would fit, but its weights are not installed" in remark.message
