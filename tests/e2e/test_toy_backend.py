"""The backend seam: a lip-sync backend declared here, in the test suite, is a valid
`lipsync.model`, is lowered without a mouth inventory (it declares it reads none), gets the
slot windows from segment-lipsync, and renders through `vpipe run` — with no change to the
frontend, the IR or the passes. The toy inverts the lower half of every frame inside the
windows; the written file shows exactly that, and the untouched frames are the source's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.helpers import INTERVIEW, luma_frames, psnr, run_recipe, vpipe, write_recipe
from vpipe.data.media import Frames
from vpipe.ir.graph import Op
from vpipe.kernel_api import backends, registry
from vpipe.kernel_api.backends import VIDEO, Backend, backend
from vpipe.kernel_api.context import RunContext
from vpipe.kernel_api.registry import Kernel, kernel
from vpipe.lipsync.timeline import output_timeline
from vpipe.media.decode import read_frames

pytestmark = pytest.mark.media

TOY = Backend("toy", "lipsync", summary="inverts the lower half of the slot frames", sources=VIDEO, devices=("cpu",))


class ToyLipsync(Kernel):
    cache = False

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> Frames:
        video, _landmarks, track, _spans = inputs  # no inventory: TOY does not declare needs_inventory
        windows = [(float(a), float(b)) for a, b in op.attr("windows")]
        timeline = output_timeline(video, track, windows)
        inside = [i for i, t in enumerate(timeline.times) if any(a <= t <= b for a, b in windows)]
        pixels = read_frames(video.path, sorted({int(timeline.pose_frame[i]) for i in inside}))
        rendered = {}
        for i in inside:
            frame = pixels[int(timeline.pose_frame[i])].copy()
            frame[frame.shape[0] // 2 :] = 255 - frame[frame.shape[0] // 2 :]
            rendered[i] = frame
        return Frames(
            video.path,
            timeline.times,
            timeline.pose_frame,
            rendered,
            video.time_base,
            video.width,
            video.height,
            report={"identity_timeline": timeline.identity, "windows": windows},
        )


@pytest.fixture(scope="module")
def toy() -> Iterator[Backend]:
    backend(TOY)
    kernel("lipsync.apply", backend=TOY)(ToyLipsync)
    yield TOY
    registry.unregister("lipsync.apply", "toy@cpu")
    backends.unregister("lipsync", "toy")


def test_unknown_backend_is_refused_with_the_registered_ones(tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path, INTERVIEW, INTERVIEW.values[:1], lipsync="toy")
    checked = vpipe("check", recipe)  # runs first: the toy is not declared yet
    assert checked.code == 2 and "VP013" in checked.text and "'toy' is not a valid value" in checked.text
    assert "retrieve" in checked.text


def test_toy_backend_is_a_recipe_value_and_lowers_without_inventory(toy: Backend, tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path, INTERVIEW, INTERVIEW.values[:1], lipsync="toy")
    built = vpipe("build", recipe, "--cache-dir", tmp_path / "cache")
    assert built.code == 0, built.text
    final = (tmp_path / ".vpipe" / "recipe" / "final.ir").read_text(encoding="utf-8")
    apply = next(line for line in final.splitlines() if "lipsync.apply(" in line)
    # four operands, no inventory (the source may be the normalised one splice-gops made, the
    # slots those keep-recorded says the row changes)
    assert re.search(r"lipsync\.apply\(%(video|gops), %landmarks, %track, %(spans|changed)\)", apply), apply
    assert '"backend": "toy"' in apply and '"windows": [[' in apply and "kernel(toy@cpu)" in apply
    assert "face.inventory" not in final
    # `auto` still means retrieve: the toy declares no auto rank
    assert backends.choose_auto("video") == backends.find("lipsync", "retrieve")


def test_toy_backend_renders_its_frames_in_the_windows_only(toy: Backend, tmp_path: Path, e2e_cache: Path) -> None:
    recipe = write_recipe(tmp_path, INTERVIEW, INTERVIEW.values[:1], lipsync="toy")
    run = run_recipe(recipe, cache=e2e_cache)
    assert run.cli.code == 0, run.cli.text
    assert run.rows["r1"]["status"] == "ok", run.rows["r1"]
    out = luma_frames(run.output("r1"))
    src = luma_frames(INTERVIEW.source)
    assert len(out) == len(src)
    half = src[0][1].shape[0] // 2
    inverted, kept = 0, 0
    for (_, o), (_, s) in zip(out, src, strict=True):
        if psnr(o[half:], 255 - s[half:]) > 30:  # the toy's frame: lower half inverted, upper half kept
            assert psnr(o[: half - 8], s[: half - 8]) > 35
            inverted += 1
        else:
            assert psnr(o, s) > 35  # untouched
            kept += 1
    # the slot 'help' (≈0.3 s) plus the 120 ms margin on both sides, at 25 fps
    assert 8 <= inverted <= 20 and kept > 100
