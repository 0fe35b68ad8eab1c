"""`lipsync.model: auto` never picks a backend whose weights are missing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from vpipe.kernel_api import backends
from vpipe.kernel_api.backends import VIDEO, Backend
from vpipe.weights import default_root


@pytest.fixture
def eager_neural() -> Iterator[Backend]:
    """A neural backend that would win `auto` (rank above retrieve) if its weights were there."""
    spec = backends.backend(
        Backend("eager", "lipsync", catalog="wav2lip", sources=VIDEO, needs_weights=True, auto=1000)
    )
    yield spec
    backends.unregister("lipsync", "eager")


def test_auto_skips_a_backend_without_weights(eager_neural: Backend, tmp_path: Path) -> None:
    retrieve = backends.find("lipsync", "retrieve")
    assert backends.choose_auto("video") == retrieve
    assert backends.choose_auto("video", tmp_path) == retrieve  # a weights folder without the files
    (tmp_path / "wav2lip.pth").write_bytes(b"x")
    assert backends.choose_auto("video", tmp_path) == eager_neural
    folder = default_root() / "wav2lip"
    folder.mkdir(parents=True)
    (folder / "wav2lip_gan.pth").write_bytes(b"x")
    assert backends.choose_auto("video") == eager_neural  # found in the default folder too
