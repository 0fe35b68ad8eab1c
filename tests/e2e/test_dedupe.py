"""dedupe and the no-op re-run, end to end on a real clip: a row identical to an earlier one
is copied (same video packets and audio, its own name and metadata), and a re-run whose rows
are all up to date neither renders nor does the shared work."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.helpers import GLASSES, decode_audio, run_recipe, video_packets, write_recipe

pytestmark = pytest.mark.media


def _metadata(path: Path) -> dict[str, str]:
    import av

    with av.open(str(path)) as c:
        return dict(c.metadata)


def test_identical_rows_render_once_and_are_copied(tmp_path: Path, e2e_cache: Path) -> None:
    # a value no other test renders: with the session's shared cache, a row another test rendered
    # with the same content is (rightly) copied too, and r1 must be rendered here
    values = ["statute", GLASSES.values[1], "statute"]
    recipe = write_recipe(tmp_path, GLASSES, values)
    run = run_recipe(recipe, cache=e2e_cache)
    assert run.cli.code == 0, run.cli.text
    r1, r3 = run.rows["r1"], run.rows["r3"]
    assert any("copied from an identical row" in c for c in r3.get("cached", [])), r3
    assert not any("copied" in c for c in r1.get("cached", []))
    assert video_packets(run.output("r1")) == video_packets(run.output("r3"))
    a1, a3 = decode_audio(run.output("r1")), decode_audio(run.output("r3"))
    assert a1.samples.shape == a3.samples.shape and (a1.samples == a3.samples).all()
    assert "vpipe row r3" in _metadata(run.output("r3")).get("description", "")
    assert r3["qc"]["metrics"] == r1["qc"]["metrics"]


def test_pipeline_o0_copies_nothing(tmp_path: Path, e2e_cache: Path) -> None:
    values = [GLASSES.values[0], GLASSES.values[0]]
    recipe = write_recipe(tmp_path, GLASSES, values)
    run = run_recipe(recipe, "--pipeline", "O0", cache=e2e_cache)
    assert run.cli.code == 0, run.cli.text
    assert not any("copied" in c for c in run.rows["r2"].get("cached", []))


def test_up_to_date_rerun_skips_the_shared_work(tmp_path: Path, e2e_cache: Path) -> None:
    recipe = write_recipe(tmp_path, GLASSES, GLASSES.values[:2])
    first = run_recipe(recipe, cache=e2e_cache)
    assert first.cli.code == 0, first.cli.text
    again = run_recipe(recipe, cache=e2e_cache)
    assert {r["status"] for r in again.rows.values()} == {"up-to-date"}
    assert again.shared.get("skipped") is True and again.shared["timings"] == {}
    one = run_recipe(recipe, "--rows", "2", cache=e2e_cache)  # a row not yet seen in this output folder
    assert one.rows["r2"]["status"] == "up-to-date"
