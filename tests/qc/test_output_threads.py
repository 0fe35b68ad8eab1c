"""QC decodes a large output's re-encoded frames on two frame threads (qc/pairs.py
`output_threads`): the same pictures in the same order as on one thread (a decoder's threads
never change a picture), so the same figures; small frames stay on one thread."""

from __future__ import annotations

from typing import Any

import pytest

from tests.media import shared_media
from tests.qc.test_kept_frames import _measured
from vpipe.media.convert import plane_arrays
from vpipe.media.decode import frame_timing, iter_decoded
from vpipe.qc import pairs
from vpipe.qc.pairs import output_threads


def test_only_large_frames_get_two_threads() -> None:
    assert output_threads(1080, 1920) == output_threads(1920, 1080) == output_threads(3840, 2160) == 2
    assert output_threads(700, 700) == output_threads(524, 524) == output_threads(854, 480) == 1


def _pictures(threads: Any, start: int) -> list[tuple[int, bytes]]:
    path = shared_media("portrait_hd.mp4")
    pts = frame_timing(path).pts
    out = []
    for index, _, frame in iter_decoded(path, start, pts, threads=threads, probe=False):
        out.append((index, b"".join(a.tobytes() for a in plane_arrays(frame))))  # without line padding
        if len(out) == 30:
            break
    return out


@pytest.mark.media
@pytest.mark.parametrize("start", [0, 61, 137])
def test_two_threads_give_the_same_pictures_as_one(start: int) -> None:
    one, two = _pictures(False, start), _pictures(2, start)
    assert len(one) == len(two) == 30
    assert [i for i, _ in one] == [i for i, _ in two]
    assert all(a == b for (_, a), (_, b) in zip(one, two, strict=True))


@pytest.mark.media
def test_qc_figures_are_the_same_with_the_output_on_two_threads(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.qc.test_around_slots import _row

    file, frames, _ = _row(1, tmp_path / "x1")
    assert output_threads(frames.width, frames.height) == 1
    before = _measured(file, frames)
    seen: list[Any] = []
    import vpipe.media.decode as decode  # pairs imports it where it decodes

    home = decode.iter_decoded

    def counted(path: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("threads", args[2] if len(args) > 2 else True))
        return home(path, *args, **kwargs)

    monkeypatch.setattr(decode, "iter_decoded", counted)
    monkeypatch.setattr(pairs, "THREADED_FROM", 1)  # this 524×524 row's output on two threads
    assert _measured(file, frames) == before
    assert 2 in seen  # the output's re-encoded frames were decoded on two threads
