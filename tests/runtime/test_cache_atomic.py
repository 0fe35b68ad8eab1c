from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from vpipe.atomic import atomic_path, atomic_write_text, sweep_stale
from vpipe.data.alignment import Alignment, Segment
from vpipe.data.audio import Audio
from vpipe.data.codec import CodecError, decode, encode
from vpipe.runtime.cache import Cache


def sample_alignment() -> Alignment:
    return Alignment(
        "hi there",
        (Segment("hi", 0.0, 0.2), Segment("there", 0.2, 0.5)),
        (Segment("HH", 0, 0.1), Segment("AY", 0.1, 0.2)),
        ((0, 1), (1, 2)),
        0.5,
        "x",
        (1.0, -2.0),
    )


def test_codec_round_trips_values_with_arrays() -> None:
    audio = Audio(np.random.default_rng(0).standard_normal((100, 2)).astype(np.float32), 16000, 0.25)
    for value in (sample_alignment(), audio, {"a": (1, 2), "b": [Path("x")]}, None, 3.5):
        text, arrays = encode(value)
        back = decode(text, _npz(arrays))
        if isinstance(value, Audio):
            assert np.array_equal(back.samples, value.samples) and back.rate == value.rate
        else:
            assert back == value


def _npz(arrays: dict[str, np.ndarray]) -> bytes | None:
    import io

    if not arrays:
        return None
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def test_codec_refuses_unregistered_types_and_names() -> None:
    class Foreign:
        pass

    with pytest.raises(CodecError):
        encode(Foreign())
    with pytest.raises(CodecError):  # a tampered entry cannot name an arbitrary class
        decode('{"__type__": "os.system", "fields": {}}', None)


def test_cache_put_get_and_corruption(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    key = "ab" * 32
    assert cache.get(key) is Cache.MISS
    assert cache.put(key, sample_alignment())
    assert cache.get(key) == sample_alignment()
    (tmp_path / key[:2] / key / "value.json").write_text("{not json")
    assert cache.get(key) is Cache.MISS  # corrupt entries are misses, and removed
    assert not (tmp_path / key[:2] / key).exists()
    assert not cache.put("cd" * 32, object())  # not encodable: not stored, no error


def test_atomic_write_leaves_no_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "out" / "video.mp4"
    atomic_write_text(target, "first")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half written")
        raise RuntimeError("encoder crashed")
    assert target.read_text() == "first"
    assert sorted(p.name for p in target.parent.iterdir()) == ["video.mp4"]


def test_sweep_removes_only_a_dead_writers_temporary_files(tmp_path: Path) -> None:
    """A killed run leaves `.name.PID.xxxx.tmp.mp4` behind; the next run removes it, and keeps
    a live writer's file and everything that is not a temporary file of atomic_path."""
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    (tmp_path / "sub").mkdir()
    stale = tmp_path / "sub" / f".r1.{dead_pid}.k2j4x_9a.tmp.mp4"
    stale.write_bytes(b"half")
    with atomic_path(tmp_path / "r2.mp4") as live:  # this process's own, being written
        live.write_bytes(b"writing")
        keep = [tmp_path / "r3.mp4", tmp_path / ".hidden.tmp", tmp_path / f".notes.{dead_pid}.txt"]
        for path in keep:
            path.write_text("data")
        elsewhere = tmp_path / "other" / f".r1.{dead_pid}.k2j4x_9b.tmp.mp4"  # a folder this run does not write
        elsewhere.parent.mkdir()
        elsewhere.write_bytes(b"not ours to judge")
        link = tmp_path / f".r4.{dead_pid}.k2j4x_9c.tmp.mp4"  # a link with our pattern: never touched
        link.symlink_to(tmp_path / "r3.mp4")
        assert sweep_stale(tmp_path, [tmp_path / "sub"]) == [stale]
        assert not stale.exists() and live.exists() and all(p.exists() for p in keep)
        assert elsewhere.exists() and link.is_symlink()
        # only the stems of this run's outputs: another recipe's leftovers in a shared folder stay
        other = tmp_path / f".theirs.{dead_pid}.k2j4x_9d.tmp.mp4"
        other.write_bytes(b"x")
        assert sweep_stale(tmp_path, [], {"r1", "r2"}) == [] and other.exists()
    assert (tmp_path / "r2.mp4").read_bytes() == b"writing"


def test_alive_tells_a_running_process_and_leaves_it_alone() -> None:
    """`_alive` only asks (signal 0): a live process is alive and stays so, a finished one is not."""
    import subprocess
    import sys

    from vpipe.atomic import _alive

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert _alive(child.pid)
        assert child.poll() is None  # not signalled by the question
    finally:
        child.kill()
        child.wait()
    assert not _alive(child.pid)
    assert _alive(2**70)  # no pid can be that: treated as alive (never swept), not a crash


def test_a_file_that_cannot_be_removed_is_left_and_the_sweep_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stuck = tmp_path / f".a.{int(dead.stdout)}.k2j4x_9a.tmp.mp4"
    gone = tmp_path / f".b.{int(dead.stdout)}.k2j4x_9b.tmp.mp4"
    stuck.write_bytes(b"x")
    gone.write_bytes(b"y")
    real_unlink = os.unlink

    def unlink(path: str) -> None:
        if os.path.basename(path) == stuck.name:
            raise PermissionError("read-only")
        real_unlink(path)

    monkeypatch.setattr(os, "unlink", unlink)
    assert sweep_stale(tmp_path) == [gone]
    assert stuck.exists() and not gone.exists()


def test_atomic_writes_refuse_a_linked_folder_inside_the_root(tmp_path: Path) -> None:
    from vpipe.atomic import UnsafePath, atomic_write_bytes

    root, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    root.mkdir()
    elsewhere.mkdir()
    os.symlink(elsewhere, root / "linked")
    with pytest.raises(UnsafePath):
        atomic_write_text(root / "linked" / "manifest.jsonl", "x", root)
    with pytest.raises(UnsafePath):
        atomic_write_bytes(root / "linked" / "r1.mp4", b"x", root)
    assert list(elsewhere.iterdir()) == []
    atomic_write_text(root / "sub" / "ok.txt", "fine", root)
    assert (root / "sub" / "ok.txt").read_text() == "fine"


def test_a_temporary_name_that_is_taken_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vpipe import atomic

    taken = tmp_path / ".r1.taken.tmp.txt"
    taken.write_text("someone else's")
    names = iter([taken, tmp_path / ".r1.free.tmp.txt"])
    monkeypatch.setattr(atomic, "temp_name", lambda target: next(names))
    atomic.atomic_write_bytes(tmp_path / "r1.txt", b"mine")
    assert (tmp_path / "r1.txt").read_bytes() == b"mine" and taken.read_text() == "someone else's"


def test_the_sweep_goes_past_a_missing_or_repeated_folder(tmp_path: Path) -> None:
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / "sub").mkdir()
    stale = tmp_path / "sub" / f".r1.{int(dead.stdout)}.k2j4x_9a.tmp.mp4"
    stale.write_bytes(b"half")
    folders = [tmp_path / "missing", tmp_path, tmp_path / "sub", tmp_path / "sub"]
    assert sweep_stale(tmp_path, folders) == [stale] and not stale.exists()
