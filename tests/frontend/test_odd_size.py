"""An odd-sized re-rendered picture cannot be H.264 4:2:0: the recipe is told before anything
runs (VP059) that rows will be 4:4:4, which browsers do not play — not when the picture is
copied (lip-sync none) nor when the codec keeps 4:2:0 at any size (VP9 in .webm)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.clips import GLASSES
from tests.e2e.helpers import write_recipe
from vpipe.frontend.load import load_recipe

pytestmark = pytest.mark.media


@pytest.fixture(scope="module")
def odd_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import imageio_ffmpeg

    path = tmp_path_factory.mktemp("odd") / "odd.mp4"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-i",
            str(GLASSES.source),
            "-vf",
            "scale=523:521",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv444p",
            "-c:a",
            "copy",
            str(path),
        ],
        check=True,
    )
    return path


@pytest.mark.parametrize(
    ("lipsync", "output", "warned"),
    [
        ("retrieve", "", True),
        ("none", "", False),
        ("retrieve", 'output: {codec: vp9, path: "out/{{ row_id }}.webm"}', False),
    ],
    ids=["h264-rerendered", "picture-copied", "vp9"],
)
def test_odd_sized_rerendered_h264_is_warned_about(
    odd_source: Path, tmp_path: Path, lipsync: str, output: str, warned: bool
) -> None:
    recipe = write_recipe(tmp_path, GLASSES, ["statute"], lipsync=lipsync, source=odd_source)
    if output:
        text = recipe.read_text()
        recipe.write_text(
            "\n".join(line for line in text.splitlines() if not line.startswith("output:")) + f"\n{output}\n"
        )
    _, diagnostics = load_recipe(recipe)
    found = [d for d in diagnostics if d.code == "VP059"]
    assert bool(found) == warned, [d.message for d in diagnostics]
    if warned:
        assert "523×521" in found[0].message and "4:4:4" in found[0].message
        assert found[0].span.file.endswith(recipe.name) and found[0].span.line > 0
