"""Terminal escape injection: row values and file contents quoted in diagnostics never reach
the terminal raw (OSC title/BEL, clear-screen, NUL, bidi override); they are shown escaped."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.helpers import vpipe
from tests.hostile.conftest import tree_state
from vpipe.diagnostics.render import for_terminal

HOSTILE = "\x1b]0;pwned\x07\x1b[2J\x00\u202e"


def test_for_terminal_escapes_every_control_and_formatting_character() -> None:
    assert for_terminal("plain Zoë, 東京") == "plain Zoë, 東京"
    assert for_terminal(HOSTILE) == "\\x1b]0;pwned\\x07\\x1b[2J\\x00\\u202e"
    assert for_terminal("a\tb", keep="\t") == "a\tb"
    assert for_terminal("\x9b31m") == "\\x9b31m"  # the 8-bit CSI


def test_csv_line_with_escapes_is_quoted_escaped(world: Path) -> None:
    project = world / "project"
    # a ragged row (VP042 quotes the line in its code frame) and a slot value (VP058 names it)
    (project / "rows.csv").write_bytes(f"first_name,email\nAna,a@x.com,{HOSTILE}\nBen{HOSTILE},b@x.com\n".encode())
    before = tree_state(world)
    cli = vpipe("check", "recipe.yaml", "--no-analyze")
    assert cli.code == 2
    for raw in ("\x1b", "\x07", "\x00", "\u202e"):
        assert raw not in cli.text
    assert "2 | Ana,a@x.com,\\x1b]0;pwned\\x07\\x1b[2J\\x00\\u202e" in cli.stderr
    assert "rows.csv:3:1: VP058 row 2: 'first_name' contains the control character U+001B" in cli.stderr
    assert tree_state(world) == before


def test_json_diagnostics_escape_controls_too(world: Path) -> None:
    project = world / "project"
    (project / "rows.csv").write_bytes(f"first_name,email\nBen{HOSTILE},b@x.com\n".encode())
    cli = vpipe("check", "recipe.yaml", "--no-analyze", "--format", "json")
    assert cli.code == 2
    assert "\x1b" not in cli.text and "\x07" not in cli.text and "\x00" not in cli.text
