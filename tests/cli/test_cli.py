"""The command line as a user meets it: exit codes, outputs, no tracebacks."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from typer.testing import CliRunner

from vpipe.cli.app import app

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


def test_version() -> None:
    code, out, _ = invoke("--version")
    assert code == 0 and out.startswith("vpipe ")


def test_check_ok_and_errors(tiny_recipe: Path) -> None:
    code, _, err = invoke("check", str(tiny_recipe), "--no-analyze")
    assert code == 0 and "ok (3 rows, 0 with errors; 1 slot(s))" in err
    tiny_recipe.write_text(tiny_recipe.read_text().replace("rows: rows.csv", "rows: rows.csv\nlipsinc: {}"))
    code, _, err = invoke("check", str(tiny_recipe), "--no-analyze")
    assert code == 2
    assert "recipe.yaml:10:1: VP012 unknown key 'lipsinc' at the top level" in err
    assert "= help: did you mean 'lipsync'?" in err


def test_check_json(tiny_recipe: Path) -> None:
    (tiny_recipe.parent / "rows.csv").write_text("first_name,email\n,empty@example.com\n")
    code, out, _ = invoke("check", str(tiny_recipe), "--no-analyze", "--format", "json")
    assert code == 2
    (d,) = json.loads(out)
    assert d == {
        "code": "VP047",
        "severity": "error",
        "message": "row 1: 'first_name' is empty",
        "file": "rows.csv",
        "line": 2,
        "col": 1,
        "end_line": 2,
        "end_col": 2,
        "help": 'fill it in, or write {{ first_name | default("...") }} in the template',
    }


def test_build_prints_plan_and_writes_build_dir(tiny_recipe: Path) -> None:
    code, out, _ = invoke("build", str(tiny_recipe), "--no-analyze", "--print-after", "hoist-shared")
    assert code == 0, out
    assert "IR Dump After hoist-shared" in out
    assert "transcript  hi [john] welcome to paris  (given)" in out
    assert "slot        first_name ← “john”" in out
    assert "rows        3 from rows.csv" in out
    build_dir = tiny_recipe.parent / ".vpipe" / "recipe"
    for name in ("plan.txt", "plan.json", "input.ir", "final.ir"):
        assert (build_dir / name).is_file()
    plan = json.loads((build_dir / "plan.json").read_text())
    assert plan["ops"]["shared"] > 0 and plan["rows"]["total"] == 3


def test_graph_writes_svg_and_dot(tiny_recipe: Path) -> None:
    code, out, _ = invoke("graph", str(tiny_recipe), "-o", "g.svg")
    assert code == 0 and "wrote g.svg" in out
    root = ET.parse(tiny_recipe.parent / "g.svg").getroot()
    texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "media.open" in texts and "media.splice" in texts and "shared (once)" in texts
    code, _, _ = invoke("graph", str(tiny_recipe), "--as", "dot", "-o", "g.dot")
    dot = (tiny_recipe.parent / "g.dot").read_text()
    assert code == 0 and dot.startswith('digraph "tiny"') and "->" in dot


def test_explain() -> None:
    code, out, _ = invoke("explain", "VP012")
    assert code == 0 and out.startswith("VP012: unknown key\n"), out
    assert "typo" in out and "closest valid key" in out  # the long explanation, not just the title
    code, _, err = invoke("explain", "VP999")
    assert code == 2 and "unknown code" in err
    code, out, _ = invoke("explain")
    assert code == 0 and "VP001" in out and "VP399" in out


def test_passes_models_doctor() -> None:
    code, out, _ = invoke("passes", "--ops")
    assert code == 0 and "resolve-slots" in out and "default" in out and "speech.align" in out
    code, out, _ = invoke("models", "--format", "json")
    models = json.loads(out)
    assert models["latentsync-1.6"]["vram_gb"] == {"fp16": 18}
    assert models["wav2lip"]["resolution"] == 96
    code, out, _ = invoke("models", "--task", "lipsync")
    assert code == 0 and "musetalk-1.5" in out
    code, out, _ = invoke("doctor", "--format", "json")
    checks = {c["check"]: c for c in json.loads(out)}
    assert checks["python: pocketsphinx"]["status"] == "ok"
    assert checks["ffmpeg"]["status"] == "ok"


def test_missing_recipe_is_a_diagnostic(tmp_path: Path) -> None:
    code, _, err = invoke("check", str(tmp_path / "nope.yaml"))
    assert code == 2 and "VP001" in err
