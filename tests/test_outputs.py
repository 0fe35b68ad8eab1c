"""Output path confinement (vpipe/outputs.py): whatever a row holds, the rendered path stays
strictly inside the output directory: not the directory itself, not a sibling that shares its
name as a prefix, not through a symlink, not absolute elsewhere, never with a NUL."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vpipe.outputs import confine, output_root


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path]:
    """(base, root): a recipe folder and its output folder `out/`, with a sibling `out-evil/`."""
    (tmp_path / "out" / "sub").mkdir(parents=True)
    (tmp_path / "out-evil").mkdir()
    (tmp_path / "outside").mkdir()
    return tmp_path, tmp_path / "out"


@pytest.mark.parametrize(
    "rendered",
    [
        "out/r1.mp4",
        "out/sub/r1.mp4",
        "out/new/deeper/r1.mp4",  # folders that do not exist yet
        "out/./r1.mp4",
        "out/sub/../r1.mp4",  # '..' that stays inside
        "out/..r1.mp4",  # a name that merely starts with dots
        "out/r 1 é.mp4",
    ],
)
def test_paths_inside_the_root_are_kept(tree: tuple[Path, Path], rendered: str) -> None:
    base, root = tree
    got = confine(rendered, base, root)
    assert got == (base / rendered).resolve()
    assert got is not None and root.resolve() in got.parents


@pytest.mark.parametrize(
    "rendered",
    [
        "out/../out-evil/r1.mp4",  # the sibling with the root's name as a prefix
        "out-evil/r1.mp4",
        "out/../r1.mp4",
        "out/sub/../../r1.mp4",
        "out/../../r1.mp4",
        "r1.mp4",
        "../out/r1.mp4",  # the same name one level up is another folder
        "outside/r1.mp4",
    ],
)
def test_paths_that_leave_the_root_are_refused(tree: tuple[Path, Path], rendered: str) -> None:
    base, root = tree
    assert confine(rendered, base, root) is None


@pytest.mark.parametrize("rendered", ["out", "out/", "out/.", "out/sub/..", "./out"])
def test_the_root_itself_is_not_a_file_name(tree: tuple[Path, Path], rendered: str) -> None:
    base, root = tree
    assert confine(rendered, base, root) is None


@pytest.mark.parametrize("rendered", ["", " ", "\t\n", "out/r\x001.mp4", "\x00", "out/\x00/../r1.mp4"])
def test_empty_and_nul_paths_are_refused(tree: tuple[Path, Path], rendered: str) -> None:
    base, root = tree
    assert confine(rendered, base, root) is None


def test_absolute_paths(tree: tuple[Path, Path]) -> None:
    base, root = tree
    assert confine(str(root / "r1.mp4"), base, root) == (root / "r1.mp4").resolve()
    assert confine(str(base / "outside" / "r1.mp4"), base, root) is None
    assert confine(str(base / "out-evil" / "r1.mp4"), base, root) is None
    assert confine("/etc/passwd", base, root) is None
    assert confine(str(root), base, root) is None


def test_a_symlink_inside_the_root_that_points_out_is_refused(tree: tuple[Path, Path]) -> None:
    base, root = tree
    os.symlink(base / "outside", root / "link")
    os.symlink(base / "outside" / "target.mp4", root / "file-link.mp4")
    assert confine("out/link/r1.mp4", base, root) is None
    assert confine("out/file-link.mp4", base, root) is None  # a dangling link to a file outside, too
    os.symlink(root / "sub", root / "inner")  # a link that stays inside is an ordinary folder
    assert confine("out/inner/r1.mp4", base, root) == (root / "sub" / "r1.mp4").resolve()


def test_a_symlinked_root_confines_to_where_it_points(tmp_path: Path) -> None:
    real = tmp_path / "real-out"
    real.mkdir()
    os.symlink(real, tmp_path / "out")
    assert confine("out/r1.mp4", tmp_path, tmp_path / "out") == real / "r1.mp4"
    assert confine("real-out/../x.mp4", tmp_path, tmp_path / "out") is None


def test_a_relative_root_is_resolved_against_the_working_directory(
    tree: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, _ = tree
    monkeypatch.chdir(base)
    assert confine("out/r1.mp4", base, Path("out")) == (base / "out" / "r1.mp4").resolve()
    assert confine("out/../out-evil/r1.mp4", base, Path("out")) is None


@pytest.mark.parametrize(
    ("template", "root"),
    [
        ("out/{{ row_id }}.mp4", "out"),
        ("out/{{ a }}/{{ b }}.mp4", "out"),
        ("out/x{{ row_id }}.mp4", "out"),  # the static part of a file name is not a folder
        ("{{ row_id }}.mp4", "."),
        ("renders/2024/{{ row_id }}.mp4", "renders/2024"),
        ("/abs/out/{{ row_id }}.mp4", "/abs/out"),
        ("out/", "out"),
        ("out", "."),
        ("", "."),
    ],
)
def test_output_root_is_the_static_folder_before_any_expression(template: str, root: str) -> None:
    assert output_root(template) == root
