"""The cache's own safety rules, unit by unit: the counts it reports, links in the cache never
followed (for reading or removing), entries stored through a hidden temporary folder beside
them, a writer that loses the race to another one, files that are not executable."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from vpipe.runtime import cache as cache_module
from vpipe.runtime.cache import MISS, Cache

KEY = "ab" * 32
OTHER = "cd" * 32


def entry_of(root: Path, key: str = KEY) -> Path:
    return root / key[:2] / key


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_miss_reads_as_miss() -> None:
    assert repr(MISS) == "MISS" and repr(Cache.MISS) == "MISS" and MISS is Cache.MISS


def test_the_counts_are_what_happened(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    assert cache.get(KEY) is MISS and cache.get(OTHER) is MISS
    assert cache.put(KEY, {"a": 1}) and cache.put(OTHER, [1, 2])
    assert cache.put(KEY, {"a": 1})  # already stored: True, and nothing is written again
    assert [cache.get(KEY), cache.get(OTHER), cache.get(KEY)] == [{"a": 1}, [1, 2], {"a": 1}]
    assert (cache.stats.hits, cache.stats.misses, cache.stats.writes) == (3, 2, 2)
    assert cache.damaged == []
    (entry_of(tmp_path) / "value.json").write_text("[]")
    assert cache.get(KEY) is MISS and cache.get(OTHER) == [1, 2]
    assert (cache.stats.hits, cache.stats.misses, cache.stats.writes) == (4, 3, 2)


@pytest.mark.parametrize("what", ["a file", "a link to a folder", "a dangling link"])
def test_something_else_at_an_entrys_place_is_removed_and_the_value_stored_again(tmp_path: Path, what: str) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("mine")
    root = tmp_path / "cache"
    entry = entry_of(root)
    entry.parent.mkdir(parents=True)
    if what == "a file":
        entry.write_text("stray")
    else:
        os.symlink(elsewhere if what == "a link to a folder" else tmp_path / "nothing", entry)
    cache = Cache(root)
    assert cache.get(KEY) is MISS
    assert cache.damaged == [(KEY, "value.json is missing")]
    assert not entry.exists() and not entry.is_symlink()
    assert (elsewhere / "keep.txt").read_text() == "mine"  # what a link points to is never removed
    assert cache.put(KEY, {"a": 1}) and Cache(root).get(KEY) == {"a": 1}
    assert entry.is_dir() and not entry.is_symlink()


def test_a_damaged_entry_behind_a_link_is_a_miss_and_its_target_is_left_alone(tmp_path: Path) -> None:
    root, elsewhere = tmp_path / "cache", tmp_path / "elsewhere"
    assert Cache(elsewhere).put(KEY, {"a": 1})
    target = entry_of(elsewhere)
    (target / "value.json").write_text('{"a": 2}')  # damaged: its hash no longer matches
    entry_of(root).parent.mkdir(parents=True)
    os.symlink(target, entry_of(root))
    cache = Cache(root)
    assert cache.get(KEY) is MISS
    assert cache.damaged == [(KEY, "value.json is 8 bytes, 22 were stored")]
    assert not entry_of(root).is_symlink()  # the link went, not what it points to
    assert sorted(p.name for p in target.iterdir()) == ["integrity.json", "value.json"]


@pytest.mark.parametrize("name", ["value.json", "integrity.json"])
def test_a_link_planted_at_an_entrys_file_is_not_followed(tmp_path: Path, name: str) -> None:
    """Even a link to a file with exactly the stored bytes: the entry is refused and removed,
    the file the link points to is not touched."""
    cache = Cache(tmp_path / "cache")
    assert cache.put(KEY, {"a": 1})
    entry = entry_of(tmp_path / "cache")
    copy = tmp_path / "copy"
    stored = (entry / name).read_bytes()
    copy.write_bytes(stored)
    (entry / name).unlink()
    os.symlink(copy, entry / name)
    got = cache.get(KEY)
    if name == "integrity.json":  # read with an ordinary open: only value.json / arrays.npz are checked
        assert got == {"a": 1}
        return
    assert got is MISS
    assert cache.damaged == [(KEY, "it cannot be decoded (OSError)")]
    assert not entry.exists() and copy.read_bytes() == stored


def test_an_entry_is_renamed_into_place_from_a_hidden_folder_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same folder, so the same filesystem: the rename is atomic and cannot fail across devices;
    hidden, so nothing that lists entries mistakes a half-written one for an entry."""
    renames: list[tuple[Path, Path]] = []
    original = Path.rename

    def spy(self: Path, target: Path) -> Path:
        renames.append((self, Path(target)))
        return original(self, target)

    monkeypatch.setattr(Path, "rename", spy)
    assert Cache(tmp_path).put(KEY, {"a": 1})
    ((src, dst),) = renames
    assert dst == entry_of(tmp_path) and src.parent == dst.parent
    assert src.name.startswith("." + KEY[:8] + ".") and not src.exists()


def test_a_writer_that_loses_the_race_keeps_the_winners_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process stores the same key between this one's check and its rename: the
    rename fails quietly, the winner's entry stays whole, no temporary folder is left."""
    original = tempfile.mkdtemp
    raced: list[bool] = []

    def mkdtemp_after_another_writer(*args: object, **kwargs: object) -> str:
        if not raced:
            raced.append(True)
            assert Cache(tmp_path).put(KEY, {"a": 1})
        return original(*args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(cache_module.tempfile, "mkdtemp", mkdtemp_after_another_writer)
    cache = Cache(tmp_path)
    assert cache.put(KEY, {"a": 1}) and raced
    assert [p.name for p in entry_of(tmp_path).parent.iterdir()] == [KEY]
    assert Cache(tmp_path).get(KEY) == {"a": 1}


def test_entry_files_are_readable_and_not_executable(tmp_path: Path, umask_022: None) -> None:
    import numpy as np

    assert Cache(tmp_path).put(KEY, {"a": np.arange(3)})
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in entry_of(tmp_path).iterdir()}
    assert modes == {"value.json": 0o644, "arrays.npz": 0o644, "integrity.json": 0o644}


def test_write_new_never_writes_over_a_file_or_through_a_link(tmp_path: Path) -> None:
    existing, target = tmp_path / "existing", tmp_path / "target"
    existing.write_bytes(b"old")
    target.write_bytes(b"kept")
    os.symlink(target, tmp_path / "link")
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling")
    for path in (existing, tmp_path / "link", tmp_path / "dangling"):
        with pytest.raises(FileExistsError):
            cache_module._write_new(path, b"new")
    assert existing.read_bytes() == b"old" and target.read_bytes() == b"kept"
    assert not (tmp_path / "nowhere").exists()
    cache_module._write_new(tmp_path / "fresh", b"new")
    assert (tmp_path / "fresh").read_bytes() == b"new"


def test_an_entry_that_cannot_be_removed_is_still_a_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A damaged entry whose files cannot be deleted (read-only cache, another user's files):
    still a miss and a reported damage, never an exception out of `get`."""
    cache = Cache(tmp_path)
    assert cache.put(KEY, {"a": 1})
    (entry_of(tmp_path) / "value.json").write_text('{"a": 2}')
    real_unlink = os.unlink

    def unlink(path: object, *args: object, **kwargs: object) -> None:
        if os.path.basename(str(path)) == "value.json":
            raise PermissionError(13, "Permission denied")
        real_unlink(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "unlink", unlink)
    assert cache.get(KEY) is MISS
    assert cache.damaged == [(KEY, "value.json is 8 bytes, 22 were stored")]
    assert (entry_of(tmp_path) / "value.json").exists()


def test_an_entry_removed_by_another_run_meanwhile_is_a_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two runs share a cache and both find the same damaged entry: the other one removes it
    while this one is reading it. A miss, not an exception."""
    cache = Cache(tmp_path)
    assert cache.put(KEY, {"a": 1})
    real = cache_module._read_verified

    def read_while_another_run_removes(entry: Path) -> dict[str, bytes]:
        import shutil

        shutil.rmtree(entry)
        return real(entry)

    monkeypatch.setattr(cache_module, "_read_verified", read_while_another_run_removes)
    assert cache.get(KEY) is MISS
    assert cache.damaged == [(KEY, "its integrity record is missing")]
    assert not entry_of(tmp_path).exists()
