"""The mouth inventory with its crops in a file, memory-mapped (vpipe.data.mapped), on real clips:
it is the in-memory inventory value for value, it survives the cache as a mapping, and the
frames re-animated from it are bit-identical to those re-animated from the in-memory one."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np
import pytest

from tests.lipsync.sources import build_mapped, edit, source, track_of
from vpipe.data.mapped import is_mapped
from vpipe.lipsync.inventory import MouthInventory
from vpipe.lipsync.retrieve import retrieve
from vpipe.lipsync.timeline import slot_windows
from vpipe.runtime.cache import Cache

NEW = ("P", "AA", "M", "AA", "P", "AA", "M", "AA")


def _same(a: MouthInventory, b: MouthInventory) -> None:
    for f in dataclasses.fields(MouthInventory):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.shape == y.shape, f.name
            assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), f.name
        elif isinstance(x, float) and np.isnan(x):
            assert np.isnan(y), f.name
        else:
            assert x == y, f.name


@pytest.mark.media
@pytest.mark.parametrize("name", ["interview_man", "glasses_woman"])
def test_mapped_inventory_is_the_in_memory_one(name: str, tmp_path: Path) -> None:
    """Built with a crops folder, every field equals the in-memory build's, and the crops are a
    read-only mapping of a file in that folder (nothing of them held in memory)."""
    src = source(name)
    mapped = build_mapped(src, tmp_path)
    assert is_mapped(mapped.crops) and not mapped.crops.flags.writeable
    assert Path(mapped.crops.filename).parent == tmp_path
    assert not is_mapped(src.inventory.crops)
    _same(mapped, src.inventory)


def _hashes(fr: object) -> dict[int, str]:
    return {k: hashlib.sha256(img.tobytes()).hexdigest() for k, img in fr.rendered.items()}  # type: ignore[attr-defined]


@pytest.mark.media
def test_frames_from_the_cached_mapped_inventory_are_bit_identical(tmp_path: Path) -> None:
    """interview_man, 'asking for help' replaced by 'pa ma pa ma' (fitted and 0.3 s longer): the
    inventory stored in the cache and read back (its crops a mapping of the entry's own .npy
    file) re-animates exactly the frames the in-memory inventory does."""
    src = source("interview_man")
    cache = Cache(tmp_path / "cache")
    assert cache.put("ab" * 32, build_mapped(src, tmp_path))
    back = cache.get("ab" * 32)
    assert isinstance(back, MouthInventory) and is_mapped(back.crops)
    assert Path(back.crops.filename).parent == tmp_path / "cache" / "ab" / ("ab" * 32)
    _same(back, src.inventory)
    for stretch in (0.0, 0.3):
        track = track_of(src, edit(src, 1.22, 1.87, NEW, stretch))
        windows = slot_windows(track, 0.12, src.video.duration)
        before = retrieve(src.video, src.face, src.inventory, track, windows)
        after = retrieve(src.video, src.face, back, track, windows)
        assert len(before.rendered) > 10 and before.report["transplanted"] > 0  # type: ignore[index]
        assert _hashes(after) == _hashes(before)
        assert np.array_equal(after.source_index, before.source_index) and np.array_equal(after.times, before.times)
