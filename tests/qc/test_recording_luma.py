"""A recording's stored picture read as QC reads it (vpipe/qc/pairs.py RecordingPicture):
the same luma, bit for bit, as the av.VideoFrame first_generation.as_frame makes of it, on
every shape as_frame takes; any other shape goes through as_frame as before."""

from __future__ import annotations

import numpy as np
import pytest

from vpipe.media.decode import luma
from vpipe.media.first_generation import as_frame
from vpipe.qc.pairs import RecordingPicture, luma_of, recorded

# even sides from 2 up (the Y plane's line size is padded differently across these), the
# clips' own 524², and HD both ways
SHAPES = [(h, w) for h in (2, 4, 6, 10, 18, 34, 66) for w in range(2, 132, 2)]
SHAPES += [(524, 524), (1080, 1920), (1920, 1080), (720, 1278), (2, 4096)]


def test_the_luma_is_as_frame_s_on_every_shape() -> None:
    rng = np.random.default_rng(7)
    for h, w in SHAPES:
        picture = rng.integers(0, 256, (h * 3 // 2, w), dtype=np.uint8)
        expected = luma(as_frame(picture))
        stand_in = recorded(picture)
        assert isinstance(stand_in, RecordingPicture), (h, w)
        got = luma_of(stand_in)
        assert got.dtype == expected.dtype and got.shape == expected.shape == (h, w), (h, w)
        assert got.tobytes() == expected.tobytes(), (h, w)


def test_a_read_only_mapped_picture_too(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # stored pictures are memory-mapped read-only (first_generation.stored_pictures)
    rng = np.random.default_rng(8)
    np.save(tmp_path / "g.npy", rng.integers(0, 256, (3, 786, 524), dtype=np.uint8))
    block = np.load(tmp_path / "g.npy", mmap_mode="r")
    for picture in block:
        assert luma_of(recorded(picture)).tobytes() == luma(as_frame(picture)).tobytes()


def test_a_shape_as_frame_does_not_take_goes_through_it() -> None:
    odd = np.zeros((9, 7), np.uint8)  # odd width: as_frame refuses it, and still does
    with pytest.raises(ValueError):
        as_frame(odd)
    with pytest.raises(ValueError):
        recorded(odd)
    for shape in ((8, 4), (6, 4, 1)):  # rows not a multiple of 3; not 2-D
        with pytest.raises(ValueError):
            as_frame(np.zeros(shape, np.uint8))
        with pytest.raises(ValueError):
            recorded(np.zeros(shape, np.uint8))
