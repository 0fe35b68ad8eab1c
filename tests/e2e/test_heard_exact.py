"""QC's heard check taken from the voice guard is the check of the written file itself, on real
rows (slow): the three tuning clips, tests/clips.py's first values, lip-synced (media.splice,
the row's AAC spliced), rendered in this process. For every row QC's reported heard figures
equal a fresh check of the file (decoded as QC decodes it, read_excerpt), whether it was taken
from the guard or aligned; and the rows the guard heard with the speaker's own units are all
taken over (the guard heard the very samples QC decodes: vpipe.qc.excerpt_packets). QC run
again on each row with its overlaps off (qc/overlap.py ON_THREADS: the sound measured first,
the interpolated heads drawn before decoding and the window frames tracked after it, all on
one thread) reports the same."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.helpers import CLIPS, Clip, write_recipe
from vpipe.qc import audio as qa
from vpipe.qc.excerpt import read_excerpt
from vpipe.text import words_of

pytestmark = [pytest.mark.media, pytest.mark.slow]

N_ROWS = 3


@pytest.fixture(scope="module", params=CLIPS, ids=lambda c: c.name)
def rendered(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Clip, list[dict[str, Any]], list[tuple[Any, Any, Any, Any]]]:
    """The clip's rows rendered in this process: the manifest's rows and QC's (file, track,
    report, call) (its figures unrounded: the manifest keeps four decimals; call: its op,
    inputs and run context)."""
    import vpipe
    from vpipe.kernels.qc import Measure

    clip: Clip = request.param
    work = tmp_path_factory.mktemp(f"heard-exact-{clip.name}")
    recipe = write_recipe(work, clip, clip.values[:N_ROWS], lipsync="retrieve", duration="auto")
    seen: list[tuple[Any, Any, Any, Any]] = []
    run = Measure.run

    def measured(self: Any, op: Any, inputs: list[Any], rt: Any) -> Any:
        report = run(self, op, inputs, rt)
        seen.append((inputs[0], inputs[1], report, (op, inputs, rt)))
        return report

    Measure.run = measured  # type: ignore[method-assign]
    try:
        vpipe.compile(recipe, cache_dir=work / "cache").run(jobs=1)
    finally:
        Measure.run = run  # type: ignore[method-assign]
    manifest = sorted((work / "out" / "runs").glob("*/manifest.jsonl"))[-1]
    rows = [json.loads(line) for line in manifest.read_text().splitlines()]
    return clip, [r for r in rows if r.get("type") == "row"], seen


def test_qcs_heard_figures_are_a_fresh_check_of_the_file(
    rendered: tuple[Clip, list[dict[str, Any]], list[tuple[Any, Any, Any, Any]]],
) -> None:
    from vpipe.speech.tts import phonemize

    clip, rows, seen = rendered
    assert [r["status"] for r in rows] == ["ok"] * N_ROWS
    by_path = {str(file.path.name): (file, track, report) for file, track, report, _ in seen}
    taken = 0
    for r in rows:
        file, track, report = by_path[f"{r['id']}.mp4"]
        metrics = report.metrics
        out = read_excerpt(file.path, [qa.reach(e) for e in track.edits]).mono()
        for e in track.edits:
            if words_of(e.said) == words_of(e.replaced):
                continue
            fresh = qa.heard(out, out.rate, e, phonemize, remember=False)
            reported = (metrics[f"{e.slot}.heard_new"], metrics[f"{e.slot}.heard_old"])
            assert reported == (fresh.new_confidence, fresh.old_confidence), (clip.name, r["id"], metrics)
            assert fresh.new_wins
            taken += int(metrics[f"{e.slot}.heard_from_guard"])
            assert f"{e.slot}.heard_fidelity_db" not in metrics  # spliced AAC: only the exact reuse
    print(f"{clip.name}: {taken}/{len(rows)} rows' heard checks taken from the guard")
    assert taken == len(rows), (clip.name, [r["qc"]["metrics"].get("value.heard_from_guard") for r in rows])


def test_qc_reports_the_same_with_its_overlaps_off(
    rendered: tuple[Clip, list[dict[str, Any]], list[tuple[Any, Any, Any, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from vpipe.kernels.qc import Measure
    from vpipe.qc import overlap

    def text(report: Any) -> str:  # NaN equal as text; the order of the figures is kept
        return repr((list(report.metrics.items()), report.failures, report.curves))

    clip, _, seen = rendered
    overlapped = [text(Measure().run(*call)) for *_, call in seen]
    assert [text(report) for _, _, report, _ in seen] == overlapped  # the run's own reports
    monkeypatch.setattr(overlap, "ON_THREADS", False)
    assert [text(Measure().run(*call)) for *_, call in seen] == overlapped, clip.name
