"""benchmarks/lse.py: says where the weights go when they are missing; with (tiny random)
weights it scores a clip against its own and its 200 ms-late audio."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

from benchmarks.lse import main  # noqa: E402
from tests.media import shared_media  # noqa: E402
from vpipe.neural.syncnet import SyncNetV2  # noqa: E402
from vpipe.weights import default_root  # noqa: E402

pytestmark = pytest.mark.slow


def test_lse_script(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert str(default_root() / "syncnet" / "syncnet_v2.model") in capsys.readouterr().err
    folder = default_root() / "syncnet"
    folder.mkdir(parents=True)
    torch.manual_seed(0)
    torch.save(SyncNetV2(width=1 / 8, embedding=32).state_dict(), folder / "syncnet_v2.model")
    assert main([str(shared_media("glasses_woman.mp4"))]) == 0
    (line,) = capsys.readouterr().out.strip().splitlines()
    result = json.loads(line)
    assert result["file"] == "glasses_woman.mp4" and set(result) >= {"own", "late_200ms", "separates"}
    assert -15 <= result["own"]["offset"] <= 15
