"""The phone-style clip (portrait_hd.mp4: 1080×1920 portrait, 25 fps, accented English), end to
end with the default lip-sync (slow). It is the held-out clip of the lip-sync quality work
(tests/clips.py): this test checks that it renders as a user would get it — every row, the
portrait size and frame times kept, the new word heard, the frames away from the slot the
source's own — and leaves its quality figures to benchmarks/lipsync.py, reported apart."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tests.clips import PORTRAIT
from tests.e2e.helpers import heard, psnr, run_recipe, source_slot, write_recipe
from tests.e2e.layouts import decode_upright

pytestmark = [pytest.mark.media, pytest.mark.slow]


def test_portrait_hd_renders_every_row(tmp_path: Path, e2e_cache: Path) -> None:
    values = PORTRAIT.values[:2]
    recipe = write_recipe(tmp_path, PORTRAIT, values, lipsync="retrieve")
    run = run_recipe(recipe, cache=e2e_cache)
    assert run.cli.code == 0, run.cli.text
    src = decode_upright(PORTRAIT.source)
    assert src.luma[0].shape == (1920, 1080)
    slot = source_slot(PORTRAIT)
    for i, value in enumerate(values):
        row = run.rows[f"r{i + 1}"]
        assert row["status"] == "ok", row["diagnostics"]
        out = decode_upright(run.output(f"r{i + 1}"))
        assert out.luma[0].shape == (1920, 1080)
        assert np.allclose(out.times, src.times, atol=1e-3)
        untouched = min(
            (
                psnr(a, b)
                for t, a, b in zip(src.times, src.luma, out.luma, strict=True)
                if not slot.start - 0.5 <= t < slot.end + 0.5
            ),
            default=math.inf,
        )
        assert untouched >= 45, f"row {i + 1}: {untouched:.1f} dB away from the slot"
        assert heard(run.output(f"r{i + 1}"), PORTRAIT, value).new_wins
