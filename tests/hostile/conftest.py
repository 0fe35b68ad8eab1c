"""The hostile-input corpus: every case asserts its exact diagnostic, that nothing outside the
output folder changed (the whole tree hashed before and after) and that nothing was lost."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from tests.media import make_video

SMALL_RECIPE = """\
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


def tree_state(root: Path, skip: tuple[str, ...] = ()) -> dict[str, tuple[str, ...]]:
    """Every entry under `root` (links not followed): files by SHA-256, links by target,
    folders, anything else by mode. `skip`: relative paths whose subtrees are left out."""
    state: dict[str, tuple[str, ...]] = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in dirs + files:
            path = Path(folder) / name
            rel = str(path.relative_to(root))
            if any(rel == s or rel.startswith(s + "/") for s in skip):
                continue
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                state[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(st.st_mode):
                state[rel] = ("dir",)
            elif stat.S_ISREG(st.st_mode):
                state[rel] = ("file", hashlib.sha256(path.read_bytes()).hexdigest())
            else:
                state[rel] = ("other", oct(st.st_mode))
    return state


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp/outside/ (what links point at; must never change) and tmp/project/ (a valid small
    recipe over a synthetic clip, the working directory)."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("do not touch\n")
    project = tmp_path / "project"
    project.mkdir()
    make_video(project / "talk.mp4", seconds=0.6)
    (project / "recipe.yaml").write_text(SMALL_RECIPE, encoding="utf-8")
    (project / "rows.csv").write_text("first_name,email\nAna,ana@example.com\n", encoding="utf-8")
    monkeypatch.chdir(project)
    return tmp_path
