"""Review at a glance, on real outputs: the QC summary of `vpipe run`, the HTML report (opened
in headless Chromium: the table and the pictures render, 100 rows load in under 2 s, a
screenshot kept in test-artifacts/report/), and `vpipe eval` on real outputs and on the
controls a broken pipeline would write (new audio under the recorded mouth, audio 200 ms
late, a frozen mouth) — each control flagged, every real output passed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.clips import GLASSES, INTERVIEW, STUDIO, Clip
from tests.e2e.helpers import Run, read_manifest, run_recipe, vpipe, write_recipe
from tests.media import ROOT
from tests.qc.controls import frozen_mouth, shifted_audio, sound_moved_after, untouched_mouth

pytestmark = pytest.mark.media

ARTIFACTS = ROOT / "test-artifacts" / "report"


@pytest.fixture(scope="module")
def review_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Two real lip-synced rows of the interview (one fitted, one elastic as `auto` decides)."""
    work = tmp_path_factory.mktemp("review")
    recipe = write_recipe(work, INTERVIEW, INTERVIEW.values[:2], lipsync="retrieve", duration="auto")
    run = run_recipe(recipe, cache=work / "cache")
    assert run.cli.code == 0, run.cli.text
    return run


def test_run_ends_with_a_qc_table_and_the_report(review_run: Run) -> None:
    out = review_run.cli.stdout
    assert re.search(r"QC\s+rows\s+passed\s+flagged\s+failed\s+unmeasured\n\s+2\s+2\s+0\s+0\s+0", out), out
    report = Path(re.search(r"report:\s+(\S+)", out)[1])  # type: ignore[index]
    assert report.is_file() and report.name == "index.html" and report.parent.parent.parent.name == "runs"
    for row in review_run.rows.values():
        assert row["verdict"] == "passed"
        curves = row["qc"]["curves"]
        assert curves["slots"][0]["said"] == row["values"]["value"]
        assert set(curves["worst_frames"]) >= {"untouched_psnr", "sync"}
        assert len(curves["times"]) == len(curves["aperture"]) == len(curves["predicted"]) >= 5
        # strict JSON all through: no NaN or Infinity in any line
    for line in (review_run.recipe.parent / "out" / "manifest.jsonl").read_text().splitlines():
        assert "NaN" not in line and "Infinity" not in line
        json.loads(line, parse_constant=lambda c: pytest.fail(f"non-strict JSON constant {c}"))


def _chromium(page: Path, *args: str) -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("Debian's chromium package is needed for the report tests (apt-get install chromium)")
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args, page.as_uri()]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _body(dom: str) -> dict[str, str]:
    tag = re.search(r"<body([^>]*)>", dom)
    assert tag is not None, dom[:500]
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', tag[1]))


def test_report_renders_in_chromium(review_run: Run) -> None:
    from vpipe.report import write_report

    folder = Path(review_run.records[0]["output_root"]) / "runs" / review_run.records[0]["run"]
    page = write_report(folder)
    html = page.read_text()
    assert "http://" not in html and "https://" not in html  # nothing from the network
    dom = _chromium(page, "--dump-dom", "--virtual-time-budget=5000")
    body = _body(dom)
    assert body["rows"] == "2" and body["eager-images"] == "6/6"  # sheets, waveforms and mouth plots decoded
    assert dom.count('<tr data-verdict="passed"') == 2
    for row_id in ("r1", "r2"):
        assert f'id="row-{row_id}"' in dom and f'src="../../../{row_id}.mp4"' in dom
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report.png"
    _chromium(page, f"--screenshot={shot}", "--window-size=1400,2000", "--virtual-time-budget=5000")
    assert shot.stat().st_size > 50_000


def test_report_with_100_rows_opens_in_under_2_s(review_run: Run, tmp_path: Path) -> None:
    """100 rows: the real rows' records repeated under new ids (same outputs and pictures),
    flagged rows first and the load time the page measures itself."""
    from vpipe.report import write_report
    from vpipe.runtime.records import RunRecord

    real = list(review_run.rows.values())
    header = {k: v for k, v in review_run.records[0].items() if k not in ("type", "run")}
    record = RunRecord(tmp_path, {**header, "rows": 100})
    for i in range(100):
        row = dict(real[i % len(real)])
        row.update(row=i + 1, id=f"p{i + 1:03d}")
        if i % 10 == 7:  # a tenth flagged, as a missed threshold would
            row.update(
                verdict="flagged", qc={**row["qc"], "failures": ["lip-sync 0.10 is 16 % of the source's natural 0.61"]}
            )
        record.write({"type": "row", **row})
    record.close({"ok": 100})
    page = write_report(record.folder)
    loads = []
    for _ in range(3):  # the best of three page loads (the page measures navigation start to load)
        dom = _chromium(page, "--dump-dom")
        body = _body(dom)
        assert body["rows"] == "100" and body["eager-images"] == "9/9"
        loads.append(int(body["loaded-ms"]))
    assert min(loads) < 2000, loads
    first = re.findall(r'<tr data-verdict="(\w+)"', dom)
    assert first[:10] == ["flagged"] * 10 and set(first[10:]) == {"passed"}


def test_waveform_draws_the_slots_from_the_output_and_the_rest_from_the_recording(review_run: Run) -> None:
    """The review's waveform decodes only the slots (and the end) of a row's output: there its
    samples are the whole decode's (up to the AAC decoder's noise substitution, whose random
    state depends on where decoding began: measured 1.2e-4 at most); elsewhere they are the
    recording's own, shifted by the slots before (exactly), and the figure's envelope is the
    whole output's within the codec's noise. A record without the exact shift, or one that
    does not follow the recording, is decoded whole."""
    from vpipe.report.figures import envelope
    from vpipe.report.wave import MARGIN, _spliced, read_recording, row_sound, whole_sound

    recording = read_recording(Path(review_run.records[0]["source"]))
    assert recording is not None
    shifts = []
    for row in review_run.rows.values():
        output, slots = Path(row["output"]), row["qc"]["curves"]["slots"]
        full, rate = whole_sound(output)
        fast = _spliced(output, recording, slots)
        assert fast is not None and fast[1] == rate == recording.rate  # the fast path was taken
        sound = fast[0]
        assert len(sound) == len(full)
        inside = np.zeros(len(full), bool)
        for s in slots:
            inside[round(s["start"] * rate) : round(s["end"] * rate)] = True
        assert inside.any() and np.abs(sound[inside] - full[inside]).max() < 1e-3
        # outside the decoded windows: the recording's samples, shifted by the slot before
        margin = round(MARGIN * rate) + 1
        shift = slots[-1]["shift_samples"]
        after = round(slots[-1]["end"] * rate) + margin
        stop = len(full) - rate  # the last second is decoded from the output
        assert stop - after > rate
        assert np.array_equal(sound[after:stop], recording.samples[after - shift : stop - shift])
        before = max(0, round(slots[0]["start"] * rate) - margin)
        assert np.array_equal(sound[:before], recording.samples[:before])
        env, env_full = envelope(sound), envelope(full)
        assert np.abs(env - env_full).max() < 0.05 * env_full.max()  # the codec's noise, not a misplaced track
        columns = np.linspace(0, len(full), len(env) + 1).astype(int)
        in_slot = [k for k in range(len(env)) if inside[columns[k] : columns[k + 1]].all()]
        assert in_slot and np.abs(env[in_slot] - env_full[in_slot]).max() < 1e-3
        no_shift = [{k: v for k, v in s.items() if k != "shift_samples"} for s in slots]
        assert np.array_equal(row_sound(output, recording, no_shift)[0], full)
        narration = [{**slots[0], "slot": "", "source_start": 0.0, "source_end": 0.0}]  # not the recording's sound
        assert np.array_equal(row_sound(output, recording, narration)[0], full)
        shifts.append(shift)
    assert any(s != 0 for s in shifts), shifts  # an elastic row: the recording after it is shifted


def test_contact_sheet_is_the_same_when_it_seeks(review_run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """A row's sheet decodes from the keyframe before its first pick once that lies far into
    the video (a slot late in a long recording): the same picture as decoding from the start."""
    from vpipe.report import _Source, sheet

    source = Path(review_run.records[0]["source"])
    for row in review_run.rows.values():
        curves = row["qc"]["curves"]
        picks, box = curves["review_frames"], curves.get("face_box")
        plain = sheet.contact_sheet(Path(row["output"]), _Source(source), picks, box)
        with monkeypatch.context() as m:
            m.setattr(sheet, "SEEK_FROM", 1)
            seeking = sheet.contact_sheet(Path(row["output"]), _Source(source), picks, box)
        assert plain is not None and seeking is not None and np.array_equal(plain, seeking)


@pytest.fixture(scope="module")
def controls(review_run: Run, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("controls")
    good = review_run.output("r1")
    slot = review_run.rows["r1"]["qc"]["curves"]["slots"][0]
    return {
        "untouched mouth": untouched_mouth(INTERVIEW.source, good, work / "untouched.mp4"),
        "audio 200 ms late": shifted_audio(good, work / "shifted.mp4"),
        "frozen mouth": frozen_mouth(good, slot["start"] - 0.1, slot["end"] + 0.1, work / "frozen.mp4"),
        "pictures not moved after the edit": sound_moved_after(good, slot["end"] + 0.05, work / "moved.mp4"),
    }


def test_eval_passes_real_outputs(review_run: Run) -> None:
    for row_id in ("r1", "r2"):
        cli = vpipe("eval", review_run.output(row_id), "--recipe", review_run.recipe, "--format", "json")
        result = json.loads(cli.stdout)
        assert cli.code == 0 and result["verdict"] == "passed", result
        slot = review_run.rows[row_id]["qc"]["curves"]["slots"][0]
        assert abs(result["edit"]["start"] - slot["start"]) < 0.15 and abs(result["edit"]["end"] - slot["end"]) < 0.15


@pytest.mark.parametrize(
    ("control", "expected"),
    [
        ("untouched mouth", "but the mouth is the recorded one"),
        ("audio 200 ms late", "audio and video are +200 ms apart"),
        ("frozen mouth", "the mouth hardly moves in the edit"),
        # an elastic row whose pictures were not retimed: in sync before the edit, not after
        ("pictures not moved after the edit", "the pictures did not follow"),
    ],
)
def test_eval_flags_each_control(controls: dict[str, Path], control: str, expected: str) -> None:
    cli = vpipe("eval", controls[control], "--source", INTERVIEW.source)
    assert cli.code == 1, cli.text
    assert "FAILED" in cli.stdout and expected in cli.stdout, cli.stdout


@pytest.mark.slow
@pytest.mark.parametrize("clip", [GLASSES, STUDIO], ids=lambda c: c.name)
def test_eval_on_the_other_clips(clip: Clip, tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path, clip, clip.values[:1], lipsync="retrieve", duration="auto")
    run = run_recipe(recipe, cache=tmp_path / "cache")
    assert run.cli.code == 0, run.cli.text
    good = run.output("r1")
    assert vpipe("eval", good, "--source", clip.source).code == 0
    slot = run.rows["r1"]["qc"]["curves"]["slots"][0]
    made = {
        "untouched": untouched_mouth(clip.source, good, tmp_path / "u.mp4"),
        "shifted": shifted_audio(good, tmp_path / "s.mp4"),
        "frozen": frozen_mouth(good, slot["start"] - 0.1, slot["end"] + 0.1, tmp_path / "f.mp4"),
    }
    for name, path in made.items():
        assert vpipe("eval", path, "--source", clip.source).code == 1, name
    assert read_manifest(recipe.parent / "out" / "manifest.jsonl")[-1]["qc_passed"] == 1


@pytest.mark.parametrize(("on_fail", "code", "verdict"), [("flag", 0, "flagged"), ("fail", 1, "failed")])
def test_qc_gate_flags_or_fails(review_run: Run, on_fail: str, code: int, verdict: str, tmp_path: Path) -> None:
    """A sync threshold no real output reaches (1.9× the source's own): the rows are measured
    again (the videos come from the cache) and flagged, or failed with exit 1."""
    text = review_run.recipe.read_text()
    recipe = review_run.recipe.with_name(f"gate-{on_fail}.yaml")
    recipe.write_text(text + f"qc: {{min_sync_ratio: 1.9, on_fail: {on_fail}}}\n")
    cli = vpipe("run", recipe, "--no-progress", "--only", "r1", "--cache-dir", review_run.recipe.parent / "cache")
    assert cli.code == code, cli.text
    assert re.search(rf"{verdict}\s+row 1 \(r1\): lip-sync [0-9.]+ is \d+ % of the source's natural", cli.stdout), (
        cli.stdout
    )
    view = {r["id"]: r for r in read_manifest(recipe.parent / "out" / "manifest.jsonl") if r["type"] == "row"}
    assert view["r1"]["verdict"] == verdict and view["r2"]["verdict"] == "passed"  # r2 keeps its last result
