"""`vpipe sample` and the quickstart as a new user runs them (`make demo`): a synthetic
presenter made from a public-domain portrait, then every row of the quickstart rendered,
labelled synthetic, as long as the source, saying the row's words."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.e2e.helpers import (
    Clip,
    Run,
    align,
    decode_audio,
    heard,
    luma_frames,
    run_recipe,
    stream_durations,
    vpipe,
)
from tests.media import ROOT
from vpipe.speech.align import LOW_CONFIDENCE

QUICKSTART = ROOT / "examples" / "quickstart"
TRANSCRIPT = "hi john welcome to paris i'm so glad you could join us today"
ROWS = {"1": ("Ana", "Lisbon"), "2": ("Ben", "Berlin"), "3": ("Zoë", "Rome")}  # rows.csv, as spoken


def _metadata(path: Path) -> dict[str, str]:
    import av

    with av.open(str(path)) as c:
        return dict(c.metadata)


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of examples/quickstart (recipe and rows only) with a freshly made presenter."""
    work = tmp_path_factory.mktemp("quickstart")
    for name in ("recipe.yaml", "rows.csv"):
        shutil.copy(QUICKSTART / name, work / name)
    cli = vpipe("sample", work)
    assert cli.code == 0, cli.text
    assert f"wrote {work / 'presenter.mp4'}" in cli.stdout and "labelled synthetic" in cli.stdout
    return work


@pytest.fixture(scope="module")
def quickstart_run(quickstart: Path, e2e_cache: Path) -> Run:
    return run_recipe(quickstart / "recipe.yaml", cache=e2e_cache)


def test_sample_presenter_is_a_synthetic_talking_portrait(quickstart: Path) -> None:
    presenter = quickstart / "presenter.mp4"
    meta = _metadata(presenter)
    assert "synthetic presenter" in meta.get("comment", ""), meta
    audio = decode_audio(presenter)
    video_end, audio_end = stream_durations(presenter)
    assert 2.5 < audio.duration < 8 and video_end == pytest.approx(audio_end, abs=0.1)
    al = align(audio, TRANSCRIPT)  # the narration says the quickstart's transcript
    assert min(al.scores) > LOW_CONFIDENCE, list(zip(TRANSCRIPT.split(), al.scores, strict=True))
    frames = [y for _, y in luma_frames(presenter)]
    changing = sum(int(np.abs(a.astype(np.int16) - b).max() > 30) for a, b in itertools.pairwise(frames))
    assert changing > len(frames) // 4, "the portrait is not animated"


def test_quickstart_renders_every_row(quickstart_run: Run) -> None:
    assert quickstart_run.cli.code == 0, quickstart_run.cli.text
    assert "rendered 3 row(s), 0 up to date, 0 failed" in quickstart_run.cli.stdout
    assert {k: r["status"] for k, r in quickstart_run.rows.items()} == dict.fromkeys(ROWS, "ok")
    names = sorted(p.name for p in (quickstart_run.recipe.parent / "out").glob("*.mp4"))
    assert names == ["1-ana.mp4", "2-ben.mp4", "3-zoe.mp4"]


def test_quickstart_outputs_are_labelled_synthetic(quickstart_run: Run) -> None:
    for row_id in ROWS:
        meta = _metadata(quickstart_run.output(row_id))
        assert "synthetic" in meta.get("comment", ""), meta
        assert f"vpipe row {row_id}" in meta.get("description", ""), meta


def test_quickstart_outputs_last_as_long_as_the_source(quickstart_run: Run, quickstart: Path) -> None:
    source_video, source_audio = stream_durations(quickstart / "presenter.mp4")
    for row_id in ROWS:
        video_end, audio_end = stream_durations(quickstart_run.output(row_id))
        assert video_end == pytest.approx(source_video, abs=0.3)
        assert audio_end == pytest.approx(source_audio, abs=0.3)
        assert video_end == pytest.approx(audio_end, abs=0.1)


def test_quickstart_says_each_rows_words(quickstart_run: Run) -> None:
    for row_id, (name, city) in ROWS.items():
        audio = decode_audio(quickstart_run.output(row_id))
        # each slot heard in the context of the other slot's new word
        first = heard(audio, Clip("quickstart", "", TRANSCRIPT.replace("paris", city.lower()), "john", "", ()), name)
        second = heard(audio, Clip("quickstart", "", TRANSCRIPT.replace("john", name.lower()), "paris", "", ()), city)
        assert first.new_wins, f"row {row_id}: '{name}' {first}"
        assert second.new_wins, f"row {row_id}: '{city}' {second}"
