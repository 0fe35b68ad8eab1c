"""Every frame size and layout users record, end to end: each case is derived from a shared
clip by the FFmpeg command line (tests/e2e/layouts.py), rendered through `vpipe run` with the
default lip-sync, and measured on the written file as a viewer sees it (display matrix applied,
full range and 10-bit mapped to 8-bit video range):

- the row renders (no crash, no diagnostic error) and the picture keeps its upright size,
  its sample aspect ratio and its frame times;
- every frame away from the slot is the source's (≥ 45 dB), and vpipe's own QC says so too;
- in the re-animated frames, the picture above the mouth is the source's (≥ 40 dB: a turned,
  range-shifted or mis-sized render would show here), and the mouth did change.

Three cases run in the default suite (odd half-size, a phone's rotation, full-range pixels);
the rest with the slow suite."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tests.e2e.helpers import GLASSES, changed_pixels, psnr, run_recipe, source_slot, write_recipe
from tests.e2e.layouts import LAYOUTS, Layout, decode_upright, derive

pytestmark = [pytest.mark.media]

MARGIN = 0.5  # s around the slot word where the mouth may be re-animated (window + margins)


def _params() -> list[object]:
    return [pytest.param(x, id=x.name, marks=[pytest.mark.slow] if x.slow else []) for x in LAYOUTS]


@pytest.mark.parametrize("layout", _params())
def test_layout_renders_upright_and_untouched(layout: Layout, tmp_path: Path, e2e_cache: Path) -> None:
    source = derive(GLASSES.source, layout, tmp_path / "media")
    src = decode_upright(source)
    if layout.pix_fmt:
        assert src.pix_fmt == layout.pix_fmt, "the derived clip is not the case it claims to be"
    recipe = write_recipe(tmp_path / "work", GLASSES, ["legislation"], lipsync="retrieve", source=source)
    run = run_recipe(recipe, cache=e2e_cache)
    assert run.cli.code == 0, run.cli.text
    row = run.rows["r1"]
    assert row["status"] == "ok", row["diagnostics"]
    out = decode_upright(run.output("r1"))

    height, width = src.luma[0].shape
    if layout.display:
        assert (width, height) == layout.display
    assert out.luma[0].shape == (height, width), f"output {out.luma[0].shape[::-1]}, source {(width, height)}"
    assert (out.sar or 1) == (src.sar or 1), f"sample aspect ratio {out.sar} (source {src.sar})"
    if layout.sar:
        assert src.sar == layout.sar
    assert len(out.times) == len(src.times)
    assert np.allclose(out.times, src.times, atol=1e-3), "frame times moved"

    slot = source_slot(GLASSES)
    top = int(0.35 * height)  # the glasses woman's eyes and forehead: above anything re-animated
    untouched, above_mouth, changed = math.inf, math.inf, 0
    for t, a, b in zip(src.times, src.luma, out.luma, strict=True):
        if slot.start - MARGIN <= t < slot.end + MARGIN:
            above_mouth = min(above_mouth, psnr(a[:top], b[:top]))
            changed = max(changed, changed_pixels(a[top:], b[top:]))
        else:
            untouched = min(untouched, psnr(a, b))
    summary = (
        f"{layout.name}: untouched ≥ {untouched:.1f} dB, above the mouth ≥ {above_mouth:.1f} dB, changed {changed}"
    )
    print(summary)
    assert untouched >= 45, summary
    assert above_mouth >= 40, summary
    assert changed >= 0.0005 * width * height, f"{summary}: the mouth was not re-animated"
    qc = row["qc"]["metrics"]
    assert qc["untouched_psnr_min_db"] >= 45, qc


def test_audio_only_keeps_a_phones_rotation(tmp_path: Path, e2e_cache: Path) -> None:
    """Without lip-sync no pixel changes: the video stream is copied, display matrix included,
    so the phone video still plays upright (and bit-exact)."""
    layout = next(x for x in LAYOUTS if x.name == "rotate-90")
    source = derive(GLASSES.source, layout, tmp_path / "media")
    recipe = write_recipe(tmp_path / "work", GLASSES, ["legislation"], lipsync="none", source=source)
    run = run_recipe(recipe, cache=e2e_cache)
    assert run.cli.code == 0, run.cli.text
    assert run.rows["r1"]["status"] == "ok", run.rows["r1"]["diagnostics"]
    src, out = decode_upright(source), decode_upright(run.output("r1"))
    assert out.rotation == src.rotation == 90
    assert all(np.array_equal(a, b) for a, b in zip(src.luma, out.luma, strict=True))
