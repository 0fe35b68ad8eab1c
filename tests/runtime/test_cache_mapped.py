"""Arrays kept in files and memory-mapped (vpipe.data.mapped) through the cache: stored as their
own `.npy` file in the entry, verified against the integrity record, read back as a read-only
mapping that puts only the touched pages in memory; damage, links and pickles are refused."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from vpipe.data.mapped import MappedError, RowWriter, is_mapped, open_mapped
from vpipe.runtime.cache import MISS, Cache

KEY = "cd" * 32


def _mapped(folder: Path, rows: int = 6, shape: tuple[int, ...] = (5, 4, 3)) -> np.ndarray:
    writer = RowWriter(folder, (rows, *shape), np.uint8)
    for k in range(0, rows, 2):  # odd rows never given: zeros
        writer.put(k, np.full(shape, k + 1, np.uint8))
    writer.put(rows - 1, np.full((2, *shape[1:]), 9, np.uint8))  # smaller than a row: zero-padded
    return writer.finish()


def test_row_writer_file_equals_memory(tmp_path: Path) -> None:
    in_file, in_memory = _mapped(tmp_path), _mapped_in_memory()
    assert is_mapped(in_file) and not in_file.flags.writeable and not is_mapped(in_memory)
    assert np.array_equal(in_file, in_memory)
    assert in_memory[5, :2].min() == 9 and in_memory[5, 2:].max() == 0 and in_memory[1].max() == 0
    assert not is_mapped(in_file[1:]) and not is_mapped(in_file + 0)  # views and results are plain arrays


def _mapped_in_memory() -> np.ndarray:
    writer = RowWriter(None, (6, 5, 4, 3), np.uint8)
    for k in range(0, 6, 2):
        writer.put(k, np.full((5, 4, 3), k + 1, np.uint8))
    writer.put(5, np.full((2, 4, 3), 9, np.uint8))
    return writer.finish()


def test_a_mapped_array_is_its_own_file_in_the_entry_and_comes_back_mapped(tmp_path: Path) -> None:
    crops = _mapped(tmp_path)
    cache = Cache(tmp_path / "cache")
    assert cache.put(KEY, {"crops": crops, "small": np.arange(4), "view": crops[2:4]})
    entry = tmp_path / "cache" / KEY[:2] / KEY
    record = json.loads((entry / "integrity.json").read_text())
    assert sorted(record) == ["a0.npy", "arrays.npz", "value.json"]
    back = cache.get(KEY)
    assert is_mapped(back["crops"]) and Path(back["crops"].filename) == entry / "a0.npy"
    assert not back["crops"].flags.writeable
    assert np.array_equal(back["crops"], crops) and np.array_equal(back["view"], crops[2:4])
    assert not is_mapped(back["view"]) and np.array_equal(back["small"], np.arange(4))


@pytest.mark.parametrize(
    "damage",
    ["flip-a-byte", "truncate", "replace-with-link", "object-header"],
)
def test_a_damaged_mapped_file_is_a_miss(tmp_path: Path, damage: str) -> None:
    cache = Cache(tmp_path / "cache")
    assert cache.put(KEY, {"crops": _mapped(tmp_path)})
    path = tmp_path / "cache" / KEY[:2] / KEY / "a0.npy"
    data = bytearray(path.read_bytes())
    outside = tmp_path / "outside.npy"
    if damage == "flip-a-byte":
        data[-7] ^= 0xFF
        path.write_bytes(bytes(data))
    elif damage == "truncate":
        path.write_bytes(bytes(data[:-1]))
    elif damage == "replace-with-link":  # same bytes, reached through a link: not followed
        outside.write_bytes(bytes(data))
        path.unlink()
        path.symlink_to(outside)
    else:  # a pickled object array behind a header naming an object dtype
        np.save(outside, np.array([{"x": 1}], dtype=object), allow_pickle=True)
        path.write_bytes(outside.read_bytes())
    assert cache.get(KEY) is MISS
    assert cache.damaged and cache.damaged[0][0] == KEY
    assert not (tmp_path / "cache" / KEY[:2] / KEY).exists()
    if damage == "replace-with-link":
        assert outside.read_bytes() == bytes(data)  # what the link pointed to is left alone


def test_open_mapped_refuses_objects_links_and_wrong_sizes(tmp_path: Path) -> None:
    pickled = tmp_path / "objects.npy"
    np.save(pickled, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(MappedError):
        open_mapped(pickled)
    good = tmp_path / "good.npy"
    np.save(good, np.arange(10, dtype=np.int32))
    link = tmp_path / "link.npy"
    link.symlink_to(good)
    with pytest.raises(OSError):
        open_mapped(link)
    with good.open("ab") as f:
        f.write(b"\0")
    with pytest.raises(MappedError):
        open_mapped(good)
    empty = tmp_path / "empty.npy"
    np.save(empty, np.zeros((0, 3), np.uint8))
    assert open_mapped(empty).shape == (0, 3)


def _resident_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="resident size is read from /proc")
def test_storing_and_reading_a_mapped_array_does_not_bring_it_into_memory(tmp_path: Path) -> None:
    """A 192 MB mapped array written to the cache and read back (hashed, verified, mapped) while
    one item is read: the process grows by far less than the array."""
    rows, shape = 64, (1024, 1024, 3)
    writer = RowWriter(tmp_path, (rows, *shape), np.uint8)
    for k in range(rows):
        writer.put(k, np.full(shape, k, np.uint8))
    before = _resident_mb()
    crops = writer.finish()
    cache = Cache(tmp_path / "cache")
    assert cache.put(KEY, {"crops": crops})
    back = cache.get(KEY)
    assert int(back["crops"][37].max()) == 37
    assert _resident_mb() - before < 48


def test_a_worker_gets_a_mapped_array_as_its_file_not_a_copy(tmp_path: Path) -> None:
    """`vpipe run --jobs N` sends the shared values to each worker pickled (spawn): with the
    reducer the pool registers, a whole mapping travels as its path and comes back mapped, equal;
    a slice of one travels as its values; a file changed since is refused, not misread."""
    import pickle
    from multiprocessing.reduction import ForkingPickler

    from vpipe.runtime import pool

    crops = _mapped(tmp_path, rows=400, shape=(64, 64, 3))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ForkingPickler, "_extra_reducers", dict(ForkingPickler._extra_reducers))
        pool.share_mapped_arrays()  # as pool_rows does before it starts the workers
        sent = bytes(ForkingPickler.dumps({"inventory crops": crops}))
        view = bytes(ForkingPickler.dumps(crops[10:20]))
    assert len(sent) < 1_000 < crops.nbytes and len(view) > crops[10:20].nbytes
    got = pickle.loads(sent)["inventory crops"]
    assert is_mapped(got) and np.array_equal(got, crops) and not got.flags.writeable
    assert np.array_equal(pickle.loads(view), crops[10:20])
    os.utime(crops.filename, ns=(0, 0))
    with pytest.raises(MappedError, match="changed"):
        pickle.loads(sent)
    os.unlink(crops.filename)  # mapped from a scratch file since removed: sent as its values
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ForkingPickler, "_extra_reducers", dict(ForkingPickler._extra_reducers))
        pool.share_mapped_arrays()
        gone = bytes(ForkingPickler.dumps(crops))
    assert len(gone) > crops.nbytes and np.array_equal(pickle.loads(gone), crops)
