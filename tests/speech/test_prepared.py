"""A voice's prepared form on disk (vpipe.speech.prepared): written atomically, read back only
when every byte matches its record, never through a link; and the speech worker that loads a
voice from it speaks exactly the samples of one that prepared the voice itself."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from vpipe.speech import prepared
from vpipe.speech.piper_client import PiperWorker, decode_audio

NAMES = ("a.onnx", "b.onnx")


def _write(folder: Path, contents: dict[str, bytes], root: Path | None = None) -> None:
    with prepared.writing(folder, contents, root) as temps:
        assert temps is not None
        for name, data in contents.items():
            temps[name].write_bytes(data)


def test_what_is_written_is_read_back(tmp_path: Path) -> None:
    folder = tmp_path / "store" / "k"
    _write(folder, {"a.onnx": b"alpha", "b.onnx": b"beta" * 1000}, tmp_path / "store")
    assert prepared.read(folder, NAMES) == {"a.onnx": b"alpha", "b.onnx": b"beta" * 1000}
    assert sorted(p.name for p in folder.iterdir()) == ["a.onnx", "b.onnx", prepared.META]  # no temporaries left


def test_a_failed_block_keeps_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "k"
    with pytest.raises(RuntimeError), prepared.writing(folder, NAMES) as temps:
        assert temps is not None
        temps["a.onnx"].write_bytes(b"half")
        raise RuntimeError("the session could not be made")
    assert prepared.read(folder, NAMES) is None
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("damage", ["altered", "truncated", "missing", "meta"])
def test_a_damaged_prepared_form_is_not_used(tmp_path: Path, damage: str) -> None:
    folder = tmp_path / "k"
    _write(folder, {"a.onnx": b"alpha" * 100, "b.onnx": b"beta" * 100})
    target = folder / "b.onnx"
    if damage == "altered":  # same size, other bytes
        target.write_bytes(b"BETA" * 100)
    elif damage == "truncated":
        target.write_bytes(b"beta" * 50)
    elif damage == "missing":
        target.unlink()
    else:
        (folder / prepared.META).write_text("{not json", encoding="utf-8")
    assert prepared.read(folder, NAMES) is None


def test_a_link_is_never_followed(tmp_path: Path) -> None:
    """A prepared file replaced by a link (to a file with the right bytes) is not read; a
    store folder that is a link is not written through."""
    folder = tmp_path / "store" / "k"
    _write(folder, {"a.onnx": b"alpha", "b.onnx": b"beta"}, tmp_path / "store")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(b"beta")
    (folder / "b.onnx").unlink()
    (folder / "b.onnx").symlink_to(elsewhere)
    assert prepared.read(folder, NAMES) is None
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "store" / "linked").symlink_to(outside, target_is_directory=True)
    with prepared.writing(tmp_path / "store" / "linked" / "k", NAMES, tmp_path / "store") as temps:
        assert temps is None  # nothing can be kept there
    assert list(outside.iterdir()) == []


def test_an_unwritable_store_only_means_nothing_is_kept(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    store = tmp_path / "store"
    store.mkdir()
    store.chmod(0o500)
    try:
        with prepared.writing(store / "k", NAMES, store) as temps:
            assert temps is None
    finally:
        store.chmod(0o700)


def test_the_folder_follows_the_bytes_and_the_salt(tmp_path: Path) -> None:
    model, config = tmp_path / "v.onnx", tmp_path / "v.onnx.json"
    model.write_bytes(b"weights")
    config.write_text("{}", encoding="utf-8")
    first = prepared.folder_for(tmp_path, [model, config], ["1", "cpu"])
    assert prepared.folder_for(tmp_path, [model, config], ["1", "cpu"]) == first
    assert prepared.folder_for(tmp_path, [model, config], ["2", "cpu"]) != first
    model.write_bytes(b"weightz")  # same size, other bytes
    assert prepared.folder_for(tmp_path, [model, config], ["1", "cpu"]) != first
    assert prepared.cpu_identity()  # something to tell processors apart


# --- the speech worker ------------------------------------------------------------------------
@pytest.fixture
def voice() -> dict[str, str]:
    from vpipe.speech.voices import bundled_piper_voices

    files = bundled_piper_voices().get("en_US-joe-medium")
    if files is None:
        pytest.skip("the bundled piper voice is not installed")
    return {"model": str(files.model), "config": str(files.config)}


@pytest.fixture
def workers() -> Iterator[list[PiperWorker]]:
    started: list[PiperWorker] = []
    yield started
    for w in started:
        w.close()


def _speak(workers: list[PiperWorker], voice: dict[str, str], store: Path | None) -> tuple[np.ndarray, float]:
    """(samples of a sentence, CPU seconds the worker spent loading the voice) in a new worker."""
    w = PiperWorker(timeout=120)
    workers.append(w)
    w.request({"op": "ping"})
    before = w.cpu_seconds()
    extra = {"store": str(store)} if store else {}
    w.request({"op": "load", **voice, **extra})
    loading = w.cpu_seconds() - before
    reply = w.request(
        {"op": "synthesize", **voice, **extra, "text": "My biggest fear is asking for help.", "length_scale": 1.0}
    )
    w.close()
    return decode_audio(reply["audio"]), loading


def test_a_voice_loaded_from_its_prepared_form_speaks_the_same_samples(
    tmp_path: Path, voice: dict[str, str], workers: list[PiperWorker]
) -> None:
    """Three new worker processes: one prepares the voice itself (no store), one prepares it
    and keeps it, one loads what was kept. The samples are equal, bit for bit; the prepared
    form is three ONNX files and their record, and loading it costs less CPU than preparing."""
    plain, _ = _speak(workers, voice, None)
    kept, preparing = _speak(workers, voice, tmp_path / "store")
    (folder,) = (tmp_path / "store" / "piper").iterdir()
    assert sorted(p.name for p in folder.iterdir()) == ["decoder.onnx", "durations.onnx", "front.onnx", "meta.json"]
    loaded, loading = _speak(workers, voice, tmp_path / "store")
    assert len(plain) > 10_000
    assert np.array_equal(plain, kept) and np.array_equal(plain, loaded)
    assert loading < preparing
    # a damaged prepared form is prepared again (and kept anew), with the same samples
    front = folder / "front.onnx"
    data = bytearray(front.read_bytes())
    data[len(data) // 2] ^= 0xFF
    front.write_bytes(bytes(data))
    again, _ = _speak(workers, voice, tmp_path / "store")
    assert np.array_equal(plain, again)
    assert prepared.read(folder, ("durations.onnx", "front.onnx", "decoder.onnx")) is not None
