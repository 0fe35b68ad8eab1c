"""The command line behaves the same way everywhere: --format json on every command, -o -
for standard output, shorthands like `target: cpu`, readable option names, validated
choices, slot values from a differently named column."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vpipe.cli.app import app

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["passes"],
        ["passes", "--ops"],
        ["explain"],
        ["explain", "VP041"],
        ["models"],
        ["models", "--task", "tts"],
        ["doctor"],
    ],
)
def test_every_informational_command_speaks_json(args: list[str]) -> None:
    code, out, _ = invoke(*args, "--format", "json")
    assert code == 0
    json.loads(out)  # strict JSON


def test_graph_to_stdout_and_json(tiny_recipe: Path) -> None:
    code, out, _ = invoke("graph", str(tiny_recipe), "--as", "ir", "-o", "-")
    assert code == 0 and "template.render" in out
    assert not (tiny_recipe.parent / "-").exists()
    code, out, _ = invoke("graph", str(tiny_recipe), "--as", "dot", "--format", "json")
    assert code == 0 and Path(json.loads(out)["wrote"]).suffix == ".dot"
    code, _, err = invoke("graph", str(tiny_recipe), "--as", "png")
    assert code == 2 and "'png' is not one of 'svg', 'dot', 'ir'" in err


def test_shorthands_like_target_cpu(tiny_recipe: Path) -> None:
    text = tiny_recipe.read_text()
    tiny_recipe.write_text(text + "lipsync: none\nvoice: piper\ntarget: cpu\n")
    code, _, err = invoke("check", str(tiny_recipe), "--no-analyze")
    assert code == 0, err
    tiny_recipe.write_text(text + "lipsync: wav2lips\n")
    code, _, err = invoke("check", str(tiny_recipe), "--no-analyze")
    assert code == 2 and "VP013" in err and "wav2lip" in err, err


def test_slot_value_from_another_column(tiny_recipe: Path) -> None:
    text = tiny_recipe.read_text().replace("first_name: {say: john}", "first_name: {say: john, column: given}")
    tiny_recipe.write_text(text)
    (tiny_recipe.parent / "rows.csv").write_text("given,email\nAna,ana@example.com\n")
    code, out, err = invoke("build", str(tiny_recipe), "--no-analyze", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["plan"]["rows"]["total"] == 1
    (tiny_recipe.parent / "rows.csv").write_text("givn,email\nAna,ana@example.com\n")
    code, _, err = invoke("check", str(tiny_recipe), "--no-analyze")
    assert code == 2 and "VP041 slot 'first_name' reads column 'given', which is not a column" in err
    assert "did you mean 'givn'?" in err


def test_readable_metavars_and_validated_task() -> None:
    code, out, _ = invoke("run", "--help")
    assert "list[str]" not in out and "int range" not in out
    assert "--rows SPEC" in out and "--only ID" in out and "--jobs N" in out and "--cache-dir DIR" in out
    code, _, err = invoke("models", "--task", "lipsink")
    assert code == 2 and "'lipsink' is not one of" in err
    code, out, _ = invoke("models")
    assert code == 0 and max(len(line) for line in out.splitlines()) <= 120 and len(out.splitlines()) < 20
