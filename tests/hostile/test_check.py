"""Hostile recipes, rows and media caught by `vpipe check` (nothing runs): the exact
diagnostic, exit 2 or a warning, no traceback, and not one byte changed anywhere."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.helpers import vpipe
from tests.hostile.conftest import tree_state


def _rows(text: str) -> Callable[[Path], None]:
    def setup(project: Path) -> None:
        (project / "rows.csv").write_bytes(text.encode("utf-8"))

    return setup


def _recipe(old: str, new: str) -> Callable[[Path], None]:
    def setup(project: Path) -> None:
        recipe = project / "recipe.yaml"
        recipe.write_text(recipe.read_text().replace(old, new))

    return setup


def _both(*steps: Callable[[Path], None]) -> Callable[[Path], None]:
    def setup(project: Path) -> None:
        for step in steps:
            step(project)

    return setup


def _fifo_source(project: Path) -> None:
    os.mkfifo(project / "pipe.mp4")
    _recipe("video: talk.mp4", "video: pipe.mp4")(project)


def _folder_source(project: Path) -> None:
    (project / "clips.mp4").mkdir()
    _recipe("video: talk.mp4", "video: clips.mp4")(project)


def _huge_recipe(project: Path) -> None:
    recipe = project / "recipe.yaml"
    recipe.write_text(recipe.read_text() + "# " + "x" * (2 << 20) + "\n")


def _source_beside_output(project: Path) -> None:  # output.path "{{ first_name }}.mp4" next to the source
    _recipe('"out/{{ row_id }}-{{ first_name | slug }}.mp4"', '"{{ first_name }}.mp4"')(project)
    (project / "rows.csv").write_text("first_name\ntalk\nAna\n")


PATH_COLUMN = '"out/{{ row_id }}-{{ dest }}.mp4"'

# name: (setup, exit code, the exact lines that must be in stderr)
CASES: dict[str, tuple[Callable[[Path], None], int, list[str]]] = {
    "semicolon-csv": (
        _rows("first_name;email\nAna;ana@example.com\n"),
        2,
        [
            "rows.csv:1:1: VP040 rows.csv is separated by ';': its header is read as one column 'first_name;email'",
            "= help: set rows: {csv: rows.csv, delimiter: ';'}",
        ],
    ),
    "fifo-source": (
        _fifo_source,
        2,
        ["recipe.yaml:4:10: VP027 source video 'pipe.mp4' is a named pipe (FIFO), not a file"],
    ),
    "folder-source": (
        _folder_source,
        2,
        ["recipe.yaml:4:10: VP027 source video 'clips.mp4' is a folder, not a file"],
    ),
    "dev-zero-source": (
        _recipe("video: talk.mp4", "video: /dev/zero"),
        2,
        ["recipe.yaml:4:10: VP027 source video '/dev/zero' is a device, not a file"],
    ),
    "dev-zero-rows": (
        _recipe("rows: rows.csv", "rows: {csv: /dev/zero}"),
        2,
        ["recipe.yaml:9:13: VP027 rows file '/dev/zero' is a device, not a file"],
    ),
    "recipe-too-large": (
        _huge_recipe,
        2,
        ["recipe.yaml: VP001 recipe 'recipe.yaml' is 2,097,402 bytes; a recipe may be at most 1,048,576 bytes"],
    ),
    "output-outside-recipe-folder": (
        _recipe('"out/{{ row_id }}-{{ first_name | slug }}.mp4"', '"../../x/{{ row_id }}.mp4"'),
        0,
        ["recipe.yaml:10:16: VP039 warning: output folder '../../x' is outside the recipe's folder"],
    ),
    "absolute-path-value": (
        _both(
            _recipe('"out/{{ row_id }}-{{ first_name | slug }}.mp4"', PATH_COLUMN),
            _rows("first_name,dest\nAna,/tmp/x\n"),
        ),
        2,
        [
            "rows.csv:2:1: VP036 row 1: value '/tmp/x' cannot be part of a file name: it contains a path separator",
            "= help: row values in output.path must be plain names; `{{ value | slug }}` makes any value safe",
        ],
    ),
    "parent-path-value": (
        _both(
            _recipe('"out/{{ row_id }}-{{ first_name | slug }}.mp4"', '"out/{{ dest }}/{{ row_id }}.mp4"'),
            _rows("first_name,dest\nAna,..\n"),
        ),
        2,
        ["rows.csv:2:1: VP036 row 1: value '..' cannot be part of a file name: it names a folder"],
    ),
    "escaping-path-value": (
        _both(
            _recipe('"out/{{ row_id }}-{{ first_name | slug }}.mp4"', PATH_COLUMN),
            _rows("first_name,dest\nAna,../../escaped\n"),
        ),
        2,
        [
            "rows.csv:2:1: VP036 row 1: value '../../escaped' cannot be part of a file name: it contains a path separator"
        ],
    ),
    "newline-in-file-name": (
        _both(
            _recipe('"out/{{ row_id }}-{{ first_name | slug }}.mp4"', PATH_COLUMN),
            _rows('first_name,dest\nAna,"a\nb"\n'),
        ),
        2,
        [
            "rows.csv:2:1: VP036 row 1: value 'a\\nb' cannot be part of a file name: it contains the control character U+000A"
        ],
    ),
    "rtl-override-in-file-name": (
        _both(
            _recipe('"out/{{ row_id }}-{{ first_name | slug }}.mp4"', PATH_COLUMN),
            _rows("first_name,dest\nAna,evil\u202egnp.exe\n"),
        ),
        2,
        [
            "rows.csv:2:1: VP036 row 1: value 'evil\\u202egnp.exe' cannot be part of a file name: "
            "it contains the invisible formatting character U+202E"
        ],
    ),
    "ten-thousand-char-path-value": (
        _both(
            _recipe('"out/{{ row_id }}-{{ first_name | slug }}.mp4"', PATH_COLUMN),
            _rows("first_name,dest\nAna," + "a" * 9_999 + "\n"),
        ),
        2,
        ["rows.csv:2:1: VP036 row 1: output file name is 10,005 bytes long; at most 200 fit"],
    ),
    "nul-in-slot": (
        _rows("first_name,email\nA\x00na,a@x.com\n"),
        2,
        ["rows.csv:2:1: VP058 row 1: 'first_name' contains the control character U+0000"],
    ),
    "escape-in-slot": (
        _rows("first_name,email\nAna\x1b[2J,a@x.com\n"),
        2,
        ["rows.csv:2:1: VP058 row 1: 'first_name' contains the control character U+001B"],
    ),
    "output-onto-source": (
        _source_beside_output,
        2,
        [
            "rows.csv:2:1: VP038 row 1: output 'talk.mp4' would overwrite the recipe's input 'talk.mp4'",
            "= help: outputs may never replace the source, rows, lexicon or weights; "
            "write them into their own folder, e.g. out/{{ row_id }}.mp4",
        ],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_input_is_caught_at_check(name: str, world: Path) -> None:
    setup, code, lines = CASES[name]
    project = world / "project"
    setup(project)
    before = tree_state(world)
    cli = vpipe("check", "recipe.yaml", "--no-analyze")
    assert cli.code == code, cli.text
    for line in lines:
        assert line in cli.stderr, f"{line!r} not in:\n{cli.stderr}"
    assert tree_state(world) == before  # check writes nothing, anywhere


def test_output_through_a_link_to_an_input_is_refused(world: Path) -> None:
    """out/ is a link to the recipe's own folder: the output would land on the source."""
    project = world / "project"
    (project / "out").symlink_to(project)
    (project / "rows.csv").write_text("first_name\ntalk\n")
    (project / "recipe.yaml").write_text(
        (project / "recipe.yaml")
        .read_text()
        .replace('"out/{{ row_id }}-{{ first_name | slug }}.mp4"', '"out/{{ first_name }}.mp4"')
    )
    before = tree_state(world)
    cli = vpipe("check", "recipe.yaml", "--no-analyze")
    assert cli.code == 2
    assert (
        "rows.csv:2:1: VP038 row 1: output 'out/talk.mp4' would overwrite the recipe's input 'talk.mp4'" in cli.stderr
    )
    assert tree_state(world) == before
