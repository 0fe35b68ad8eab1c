"""Output path confinement (vpipe/outputs.py): whatever a row holds, the rendered path stays
strictly inside the output directory: not the directory itself, not a sibling that shares its
name as a prefix, not through a symlink, not absolute elsewhere, never with a NUL. Every case
runs three ways: without a memo, with a fresh memo, and twice with one memo (the second call
answers from the folders the first one resolved), as the frontend checks 10k rows with one."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from vpipe.outputs import confine, output_root

Confine = Callable[[str, Path, Path], Path | None]


@pytest.fixture(params=["no-memo", "fresh-memo", "memo-twice"])
def confine_(request: pytest.FixtureRequest) -> Confine:
    """`confine` without a memo, with a new one per call, or called twice with one memo
    (both answers must agree; the second comes from the memo)."""
    if request.param == "no-memo":
        return confine
    if request.param == "fresh-memo":
        return lambda rendered, base, root: confine(rendered, base, root, {})
    memo: dict[Path, Path] = {}

    def twice(rendered: str, base: Path, root: Path) -> Path | None:
        first = confine(rendered, base, root, memo)
        second = confine(rendered, base, root, memo)
        assert first == second
        return second

    return twice


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
def test_paths_inside_the_root_are_kept(tree: tuple[Path, Path], rendered: str, confine_: Confine) -> None:
    base, root = tree
    got = confine_(rendered, base, root)
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
def test_paths_that_leave_the_root_are_refused(tree: tuple[Path, Path], rendered: str, confine_: Confine) -> None:
    base, root = tree
    assert confine_(rendered, base, root) is None


@pytest.mark.parametrize("rendered", ["out", "out/", "out/.", "out/sub/..", "./out"])
def test_the_root_itself_is_not_a_file_name(tree: tuple[Path, Path], rendered: str, confine_: Confine) -> None:
    base, root = tree
    assert confine_(rendered, base, root) is None


@pytest.mark.parametrize("rendered", ["", " ", "\t\n", "out/r\x001.mp4", "\x00", "out/\x00/../r1.mp4"])
def test_empty_and_nul_paths_are_refused(tree: tuple[Path, Path], rendered: str, confine_: Confine) -> None:
    base, root = tree
    assert confine_(rendered, base, root) is None


def test_absolute_paths(tree: tuple[Path, Path], confine_: Confine) -> None:
    base, root = tree
    assert confine_(str(root / "r1.mp4"), base, root) == (root / "r1.mp4").resolve()
    assert confine_(str(base / "outside" / "r1.mp4"), base, root) is None
    assert confine_(str(base / "out-evil" / "r1.mp4"), base, root) is None
    assert confine_("/etc/passwd", base, root) is None
    assert confine_(str(root), base, root) is None


def test_a_symlink_inside_the_root_that_points_out_is_refused(tree: tuple[Path, Path], confine_: Confine) -> None:
    base, root = tree
    os.symlink(base / "outside", root / "link")
    os.symlink(base / "outside" / "target.mp4", root / "file-link.mp4")
    assert confine_("out/link/r1.mp4", base, root) is None
    assert confine_("out/file-link.mp4", base, root) is None  # a dangling link to a file outside, too
    os.symlink(root / "sub", root / "inner")  # a link that stays inside is an ordinary folder
    assert confine_("out/inner/r1.mp4", base, root) == (root / "sub" / "r1.mp4").resolve()


def test_a_symlinked_root_confines_to_where_it_points(tmp_path: Path, confine_: Confine) -> None:
    real = tmp_path / "real-out"
    real.mkdir()
    os.symlink(real, tmp_path / "out")
    assert confine_("out/r1.mp4", tmp_path, tmp_path / "out") == real / "r1.mp4"
    assert confine_("real-out/../x.mp4", tmp_path, tmp_path / "out") is None


def test_a_relative_root_is_resolved_against_the_working_directory(
    tree: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, confine_: Confine
) -> None:
    base, _ = tree
    monkeypatch.chdir(base)
    assert confine_("out/r1.mp4", base, Path("out")) == (base / "out" / "r1.mp4").resolve()
    assert confine_("out/../out-evil/r1.mp4", base, Path("out")) is None


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


def test_one_memo_for_many_rows_gives_the_answers_of_no_memo(tree: tuple[Path, Path]) -> None:
    """The frontend checks every row with one memo: folders resolved for one row must not
    change another row's answer (inside, outside, the root, links, absolute)."""
    base, root = tree
    os.symlink(base / "outside", root / "link")
    os.symlink(root / "sub", root / "inner")
    rows = [
        "out/r1.mp4", "out/sub/r1.mp4", "out/new/deeper/r1.mp4", "out/sub/../r1.mp4",
        "out/../out-evil/r1.mp4", "out-evil/r1.mp4", "out/../r1.mp4", "r1.mp4", "outside/r1.mp4",
        "out", "out/sub/..", "out/link/r1.mp4", "out/inner/r1.mp4", "/etc/passwd",
        str(root / "r2.mp4"), str(base / "out-evil" / "r2.mp4"),
    ]
    expected = [confine(r, base, root) for r in rows]
    assert sum(e is not None for e in expected) == 6
    memo: dict[Path, Path] = {}
    for _ in range(2):
        assert [confine(r, base, root, memo) for r in rows] == expected
        assert [confine(r, base, root, memo) for r in reversed(rows)] == expected[::-1]
    assert memo[root] == root.resolve()


def test_a_link_to_a_file_inside_the_root_is_followed(tree: tuple[Path, Path], confine_: Confine) -> None:
    base, root = tree
    (root / "sub" / "real.mp4").write_bytes(b"")
    os.symlink(root / "sub" / "real.mp4", root / "alias.mp4")
    assert confine_("out/alias.mp4", base, root) == (root / "sub" / "real.mp4").resolve()


def test_one_memo_for_two_roots(tree: tuple[Path, Path]) -> None:
    base, root = tree
    other = base / "outside"
    (other / "deep").mkdir()
    memo: dict[Path, Path] = {}
    for _ in range(2):  # rows in sub-folders: the roots themselves are never a row's folder
        assert confine("out/sub/r1.mp4", base, root, memo) == (root / "sub" / "r1.mp4").resolve()
        assert confine("outside/deep/r1.mp4", base, other, memo) == (other / "deep" / "r1.mp4").resolve()
        assert confine("outside/deep/r1.mp4", base, root, memo) is None
        assert confine("out/sub/r1.mp4", base, other, memo) is None


def test_a_memo_resolves_each_folder_once(tree: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """What the memo is for: 10k rows in one or two folders cost a few resolves, not one per row."""
    base, root = tree
    calls: list[Path] = []
    resolve = Path.resolve

    def counting(self: Path, strict: bool = False) -> Path:
        calls.append(self)
        return resolve(self, strict)

    monkeypatch.setattr(Path, "resolve", counting)
    memo: dict[Path, Path] = {}
    rows = [f"out/r{i}.mp4" for i in range(100)] + [f"out/sub/r{i}.mp4" for i in range(100)]
    assert all(confine(r, base, root, memo) is not None for r in rows)
    assert len(calls) <= 3, calls
    calls.clear()
    assert all(confine(r, base, root) is not None for r in rows[:10])
    assert len(calls) >= 10  # without a memo every row resolves (so the count above means something)
