"""A whole `vpipe run` on a source with short closed GOPs (slow): the glasses clip re-encoded in
the test with closed 25-frame GOPs and 3 B-frames. The plan says rows are spliced on the
source's own GOPs; nothing is normalised; the rendered rows pass QC, whose packet-identity
check recognises every copied GOP; every frame outside the re-encoded GOPs decodes
bit-identical to the source, and the output has its frame count and timestamps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.helpers import GLASSES, run_recipe, vpipe, write_recipe
from tests.gop_sources import reencode
from tests.media import frame_hashes

pytestmark = [pytest.mark.media, pytest.mark.slow]



def test_a_run_on_short_closed_gops_copies_the_source_itself(tmp_path: Path) -> None:
    cache = tmp_path / "cache"  # its own: the store beside it must hold no normalised file
    source = reencode(GLASSES.source, tmp_path / "closed25.mp4")
    recipe = write_recipe(tmp_path / "work", GLASSES, ["legislation"], lipsync="retrieve", source=source)
    built = vpipe("build", recipe, "--format", "json", "--cache-dir", cache)
    assert built.code == 0, built.text
    plan = json.loads((recipe.parent / ".vpipe" / recipe.stem / "plan.json").read_text())
    assert plan["gops"] == {"own": True, "gops": 5, "longest_gop": 25}
    run = run_recipe(recipe, "--jobs", "1", cache=cache)
    assert run.cli.code == 0, run.cli.text
    row = run.rows["r1"]
    assert row["verdict"] == "passed", row["qc"]
    metrics = row["qc"]["metrics"]
    assert metrics["copied_gops"] >= 3 and metrics["copied_gops_identical"] == metrics["copied_gops"]
    assert metrics["copied_source_psnr_min_db"] == 99.0  # the copied frames are the recording's own
    store = tmp_path / "cache-store"
    assert list(store.glob("own/*.gen1/*.npy")) and not list(store.rglob("normalized/*.mp4"))  # nothing normalised
    got, want = frame_hashes(Path(row["output"])), frame_hashes(source)
    assert [p for p, _ in got] == [p for p, _ in want]  # frame count and timestamps ("fit": no shift)
    changed = [k for k in range(len(want)) if got[k][1] != want[k][1]]
    assert 0 < len(changed) <= metrics["reencoded_frames"] <= 50  # one slot: at most two GOPs re-encoded
    starts = {k - k % 25 for k in changed}  # the changed frames fill whole GOPs: the re-encoded ones
    assert sum(min(25, len(want) - s) for s in starts) == metrics["reencoded_frames"]
