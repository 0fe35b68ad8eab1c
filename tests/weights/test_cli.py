"""What a user sees about weights: `vpipe check` (VP023 with the expected path) and `vpipe doctor`."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from vpipe.cli.app import app
from vpipe.weights import default_root

runner = CliRunner()


def _invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


def _with_model(recipe: Path, model: str, weights: str | None = None) -> None:
    extra = f", weights: {weights}" if weights else ""
    recipe.write_text(recipe.read_text() + f"lipsync: {{model: {model}{extra}}}\n")


def test_check_names_the_expected_path_when_weights_are_missing(tiny_recipe: Path) -> None:
    _with_model(tiny_recipe, "wav2lip")
    code, _, err = _invoke("check", str(tiny_recipe), "--no-analyze")
    expected = default_root() / "wav2lip" / "wav2lip_gan.pth"
    assert code == 2
    assert "VP023 lipsync model 'wav2lip' needs weights" in err and str(expected) in err
    line = next(i for i, ln in enumerate(tiny_recipe.read_text().splitlines(), 1) if ln.startswith("lipsync:"))
    assert f"recipe.yaml:{line}:" in err


def test_check_passes_when_the_files_are_there(tiny_recipe: Path) -> None:
    folder = tiny_recipe.parent / "w"
    folder.mkdir()
    (folder / "wav2lip.pth").write_bytes(b"x")
    _with_model(tiny_recipe, "wav2lip", "w")
    code, _, err = _invoke("check", str(tiny_recipe), "--no-analyze")
    assert code == 0, err


def test_auto_and_weight_free_models_need_no_weights(tiny_recipe: Path) -> None:
    _with_model(tiny_recipe, "auto")
    code, _, err = _invoke("check", str(tiny_recipe), "--no-analyze")
    assert code == 0 and "VP023" not in err


def test_doctor_lists_found_missing_and_wrong_files() -> None:
    d = default_root() / "wav2lip"
    d.mkdir(parents=True)
    (d / "wav2lip_gan.pth").write_bytes(b"x")
    tiny = default_root() / "latentsync-1.5" / "whisper" / "tiny.pt"
    tiny.parent.mkdir(parents=True)
    tiny.write_bytes(b"not whisper")
    code, out, _ = _invoke("doctor", "--format", "json")
    assert code == 0
    rows = [c for c in json.loads(out) if c["check"].startswith("model ")]
    by = {(c["check"], c["detail"].split(":")[0]): c for c in rows}
    found = by[("model wav2lip", "wav2lip_gan.pth")]
    assert found["status"] == "ok" and str(d / "wav2lip_gan.pth") in found["detail"]
    assert "visual-quality discriminator" in found["detail"]  # which file is which
    missing = by[("model syncnet", "syncnet_v2.model")]
    assert missing["status"] == "missing" and str(default_root() / "syncnet" / "syncnet_v2.model") in missing["detail"]
    assert by[("model latentsync-1.5", "whisper/tiny.pt")]["status"] == "wrong-hash"
