"""The normalised source (splice-gops) keeps the colour its recording declared: its samples keep
their matrix (only the range is converted), so a BT.709 recording tagged BT.709 must come out
tagged BT.709 — untagged, players guess BT.601 for SD sizes and every row's colours shift."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.media import shared_media
from vpipe.ir.graph import Op, Value
from vpipe.ir.types import Type
from vpipe.kernel_api.context import RunContext
from vpipe.kernels.media import OpenVideo
from vpipe.kernels.media_gops import Normalize
from vpipe.probe import probe_video

pytestmark = pytest.mark.media


def _normalised(source: Path, work: Path) -> Path:
    rt = RunContext(work / "scratch", store_dir=work / "store")
    (work / "scratch").mkdir(parents=True)
    video = OpenVideo().run(Op("media.open", (), (Value("video", Type("Video")),), {"path": str(source)}), [], rt)
    op = Op(
        "media.normalize", ("video",), (Value("gops", Type("Video")),), {"gop": 12, "crf": 12, "preset": "veryfast"}
    )
    return Normalize().run(op, [video], rt).path


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (("-x264-params", "colorprim=bt709:transfer=bt709:colormatrix=bt709"), (1, 1, 1)),
        ((), (2, 2, 2)),  # nothing declared: nothing invented
    ],
    ids=["bt709", "untagged"],
)
def test_the_normalised_stream_keeps_the_declared_colour(
    tags: tuple[str, ...], expected: tuple[int, int, int], tmp_path: Path
) -> None:
    import imageio_ffmpeg

    source = tmp_path / "tagged.mp4"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-i",
            str(shared_media("glasses_woman.mp4")),
            "-t",
            "1",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            *tags,
            "-an",
            str(source),
        ],
        check=True,
    )
    declared = probe_video(source)
    assert (declared.colorspace, declared.color_primaries, declared.color_trc) == expected
    out = probe_video(_normalised(source, tmp_path / "work"))
    assert (out.colorspace, out.color_primaries, out.color_trc) == expected
    assert out.color_range in (0, 1)  # video range (MPEG), or not said
