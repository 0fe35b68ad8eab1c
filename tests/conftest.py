"""Shared fixtures: a small valid recipe on a synthetic clip (for compiler tests that need
no real speech), and paths of the real shared clips."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.media import make_video

RECIPE = """\
vpipe: 1
name: tiny
source:
  video: talk.mp4
  transcript: hi john welcome to paris
slots:
  first_name: {say: john}
template: "Hi {{ first_name }}, welcome to Paris!"
rows: rows.csv
output: {path: "out/{{ row_id }}-{{ first_name | slug }}.mp4"}
"""
ROWS = "first_name,email\nAna,ana@example.com\nBen,ben@example.com\nZoë,zoe@example.com\n"


@pytest.fixture
def tiny_recipe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A valid recipe over a synthetic (speechless) clip; compile with analyze=False."""
    make_video(tmp_path / "talk.mp4", seconds=0.6)
    (tmp_path / "recipe.yaml").write_text(RECIPE, encoding="utf-8")
    (tmp_path / "rows.csv").write_text(ROWS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "recipe.yaml"
