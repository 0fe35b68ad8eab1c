"""Where weight files are found, and whether they are the published ones (vpipe.weights.locate)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from vpipe import weights as W
from vpipe.weights import spec

TINY_PT = "65147644a518d12f04e32d6f3b26facc3f8dd46e5390956a9424a650c0ce22b9"  # the catalog's published hash


def test_default_root_and_missing_files_name_where_to_put_them(isolated_caches: Path) -> None:
    assert W.default_root() == isolated_caches / "vpipe" / "models"
    status = W.model_status("wav2lip")
    assert not status.ready and [f.state for f in status.files] == ["missing"]
    (problem,) = status.problems()
    expected = isolated_caches / "vpipe" / "models" / "wav2lip" / "wav2lip_gan.pth"
    assert str(expected) in problem and "wav2lip.pth" in problem  # the alternative is named too


def test_found_in_default_root_env_and_recipe_folder_in_that_order(tmp_path: Path, monkeypatch) -> None:
    default = W.default_root() / "wav2lip"
    default.mkdir(parents=True)
    (default / "wav2lip.pth").write_bytes(b"a")  # the alternative name is accepted
    status = W.model_status("wav2lip")
    assert status.ready and status.path() == default / "wav2lip.pth"
    assert status.files[0].name == "wav2lip.pth"

    env = tmp_path / "env-models"
    (env / "wav2lip").mkdir(parents=True)
    (env / "wav2lip" / "wav2lip_gan.pth").write_bytes(b"b")
    monkeypatch.setenv(W.ENV_MODELS, str(env))
    assert W.model_status("wav2lip").path() == env / "wav2lip" / "wav2lip_gan.pth"

    recipe_dir = tmp_path / "mine"
    recipe_dir.mkdir()
    (recipe_dir / "wav2lip_gan.pth").write_bytes(b"c")
    assert W.model_status("wav2lip", [recipe_dir]).path() == recipe_dir / "wav2lip_gan.pth"


def test_hugging_face_cache_layout(tmp_path: Path, monkeypatch) -> None:
    """models--org--name/snapshots/<rev>/<file> → ../../blobs/<hash>, with refs/main naming the revision."""
    hub = tmp_path / "hf" / "hub"
    repo = hub / "models--ByteDance--LatentSync-1.5"
    (repo / "blobs").mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("abc123")
    for rev in ("old999", "abc123"):
        (repo / "snapshots" / rev / "whisper").mkdir(parents=True)
    (repo / "blobs" / "u").write_bytes(b"unet")
    os.symlink("../../blobs/u", repo / "snapshots" / "abc123" / "latentsync_unet.pt")
    (repo / "snapshots" / "old999" / "latentsync_unet.pt").write_bytes(b"old")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    status = W.model_status("latentsync-1.5")
    unet, tiny, vae = status.files
    assert unet.ok and unet.path == repo / "snapshots" / "abc123" / "latentsync_unet.pt"
    assert tiny.state == "missing" and vae.state == "missing" and not status.ready


def test_wrong_hash_and_wrong_size_are_reported(tmp_path: Path, monkeypatch) -> None:
    folder = W.default_root() / "latentsync-1.6" / "whisper"
    folder.mkdir(parents=True)
    (folder / "tiny.pt").write_bytes(b"not the published whisper tiny.pt")
    (folder.parent / "latentsync_unet.pt").write_bytes(b"x")
    status = W.model_status("latentsync-1.6")
    unet, tiny, _vae = status.files
    assert unet.ok and not unet.verified  # no published hash for the UNet: found, not verified
    assert tiny.state == "wrong-hash" and TINY_PT[:12] in tiny.detail and not status.ready
    assert W.missing_weights("latentsync") is not None

    data = b"published bytes"
    entry = {
        "weights": {
            "files": ["m.bin"],
            "sha256": {"m.bin": hashlib.sha256(data).hexdigest()},
            "size": {"m.bin": len(data)},
            "variants": {hashlib.sha256(data).hexdigest(): "v2"},
        }
    }
    monkeypatch.setattr(spec, "model", lambda mid: entry if mid == "fake" else None)
    root = W.default_root() / "fake"
    root.mkdir(parents=True)
    (root / "m.bin").write_bytes(data)
    good = W.model_status("fake")
    assert good.ready and good.files[0].verified and good.files[0].version == "v2"
    (root / "m.bin").write_bytes(data + b"!")
    bad = W.model_status("fake")
    assert bad.files[0].state == "wrong-size" and "16 bytes, the published file has 15" in bad.problems()[0]


def test_hash_memo_follows_content(tmp_path: Path) -> None:
    f = tmp_path / "w.bin"
    f.write_bytes(b"one")
    assert W.file_sha256(f) == hashlib.sha256(b"one").hexdigest()
    f.write_bytes(b"two!")
    assert W.file_sha256(f) == hashlib.sha256(b"two!").hexdigest()  # size/mtime changed: rehashed
    assert (W.default_root() / ".sha256.json").is_file()


def test_weights_hash_changes_with_the_file() -> None:
    d = W.default_root() / "wav2lip"
    d.mkdir(parents=True)
    (d / "wav2lip_gan.pth").write_bytes(b"one")
    h1 = W.model_status("wav2lip").weights_hash
    (d / "wav2lip_gan.pth").write_bytes(b"other")
    assert W.model_status("wav2lip").weights_hash != h1


def test_which_models_need_user_weights() -> None:
    ids = W.neural_models()
    assert {"wav2lip", "syncnet", "wav2lip-syncnet", "latentsync-1.5"} <= set(ids)
    assert not {"retrieve", "piper:en_US-joe-medium", "pocketsphinx:en-us", "resemblyzer"} & set(ids)
    assert W.catalog_ids("latentsync") == ["latentsync-1.5", "latentsync-1.6"]
    assert W.catalog_ids("retrieve") == []


@pytest.mark.parametrize("model", ["wav2lip", "latentsync"])
def test_missing_weights_names_the_model_folder(model: str) -> None:
    got = W.missing_weights(model)
    assert got is not None and str(W.default_root()) in " ".join(got[1])
