"""Sealing hashes each file once: the recording once per process (while it stays the same
file), the output once (its digest is the sealed file's, reused for the cache entry)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from vpipe import provenance
from vpipe.data.media import OutputFile
from vpipe.kernels.media import sealed_file


def test_the_recording_is_hashed_once_and_again_when_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "source.mp4"
    source.write_bytes(b"recording one")
    hashed: list[Path] = []
    real = provenance.file_sha256
    monkeypatch.setattr(provenance, "file_sha256", lambda p: hashed.append(p) or real(p))
    first = [provenance.source_sha256(source) for _ in range(3)]
    assert first == [hashlib.sha256(b"recording one").hexdigest()] * 3 and hashed == [source]
    source.write_bytes(b"recording two, longer")
    assert provenance.source_sha256(source) == hashlib.sha256(b"recording two, longer").hexdigest()
    st = source.stat()
    source.write_bytes(b"recording 3, longer!!")  # same size: the modification time tells
    os.utime(source, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert provenance.source_sha256(source) == hashlib.sha256(b"recording 3, longer!!").hexdigest()
    assert len(hashed) == 3


def test_the_sealed_digest_is_the_output_file_s(tmp_path: Path) -> None:
    source, output = tmp_path / "source.mp4", tmp_path / "out" / "r1.mp4"
    output.parent.mkdir()
    source.write_bytes(b"the recording")
    output.write_bytes(b"the row's video" * 1000)
    facts = provenance.seal(output, source, "r1", [], tmp_path)
    sealed = sealed_file(output, sha256=facts["sha256"])
    assert sealed == OutputFile.of(output, None, (provenance.sidecar_path(output),))  # as if hashed again
    assert sealed.sha256 == hashlib.sha256(output.read_bytes()).hexdigest() and sealed.still_valid()
    assert facts["source"]["sha256"] == hashlib.sha256(b"the recording").hexdigest()
