"""Snapshot corpus of invalid recipes and rows: each case's rendered diagnostics must match
`expected.txt` exactly (file:line:col, code, message, code frame, help).

Regenerate after an intended change with VPIPE_UPDATE_SNAPSHOTS=1 and review the diff. A new
case without `expected.txt` fails, and leaves its output beside it as `expected.txt.new` to read
and rename.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.media import make_video
from vpipe.diagnostics.diagnostic import DiagnosticError, Severity
from vpipe.diagnostics.render import render_text
from vpipe.driver import BuildOptions, compile_recipe

CORPUS = Path(__file__).parent / "corpus"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import cv2

    d = tmp_path_factory.mktemp("corpus-media")
    make_video(d / "talk.mp4", seconds=0.6)
    make_video(d / "silent.mp4", seconds=0.6, audio=False)
    cv2.imwrite(str(d / "face.png"), np.full((32, 32, 3), 128, np.uint8))
    return d


def check_output(case_dir: Path) -> str:
    try:
        build = compile_recipe(case_dir / "recipe.yaml", BuildOptions(pipeline="resolve-slots", analyze=False))
        diagnostics = [d for d in build.diagnostics if d.severity is not Severity.REMARK]
    except DiagnosticError as exc:
        diagnostics = exc.diagnostics
    return render_text(diagnostics) + "\n"


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize("name", CASES)
def test_case(name: str, media: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = tmp_path / name
    shutil.copytree(CORPUS / name, case)
    for f in media.iterdir():
        if not (case / f.name).exists():
            shutil.copy(f, case / f.name)
    monkeypatch.chdir(case)
    got = check_output(case)
    expected_file = CORPUS / name / "expected.txt"
    if os.environ.get("VPIPE_UPDATE_SNAPSHOTS"):
        assert not os.environ.get("CI"), "VPIPE_UPDATE_SNAPSHOTS rewrites the expectations: never in CI"
        expected_file.write_text(got, encoding="utf-8")
    if not expected_file.exists():
        # a new case fails until a person has read its output and committed it as expected.txt
        proposal = expected_file.with_name("expected.txt.new")
        proposal.write_text(got, encoding="utf-8")
        pytest.fail(f"{name} has no expected.txt: review {proposal} and rename it to expected.txt")
    assert got == expected_file.read_text(encoding="utf-8")
    assert "Traceback" not in got
    assert got.strip(), "every corpus case must produce a diagnostic"
