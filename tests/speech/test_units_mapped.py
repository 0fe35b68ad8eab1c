"""The speaker's unit library keeps its envelopes and aperiodicities in files, mapped: the
`speech.units` kernel returns the library `build_library` computes, value for value, with
those two arrays read-only mappings (resident only where a row reads them), and the cache
stores them as files and maps them again on a hit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.speech.test_voice_match import source
from vpipe.data.audio import Audio
from vpipe.data.mapped import is_mapped, mapped_copy
from vpipe.kernel_api.context import RunContext
from vpipe.kernels.speech_voice import UnitLibraryKernel
from vpipe.runtime.cache import Cache
from vpipe.speech.units import build_library

pytestmark = pytest.mark.media


def test_a_mapped_copy_equals_the_array_for_every_dtype_and_shape(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    for a in (
        rng.standard_normal((7, 513)).astype(np.float16),
        rng.standard_normal(11).astype(np.float32),
        rng.integers(0, 9, (3, 4, 5)).astype(np.int64),
        np.asfortranarray(rng.standard_normal((4, 6))),
        rng.standard_normal((6, 8))[:, ::2],  # not contiguous
    ):
        m = mapped_copy(a, tmp_path)
        assert is_mapped(m) and m.dtype == a.dtype and m.shape == a.shape and np.array_equal(m, a)
        assert not m.flags.writeable
    empty = np.zeros((0, 513), np.float16)
    assert mapped_copy(empty, tmp_path) is empty


def test_the_kernel_maps_the_library_and_the_cache_maps_it_again(tmp_path: Path) -> None:
    src = source("glasses_woman")
    expected = build_library(src.mono, src.rate, src.alignment.phones)
    audio = Audio(src.mono[:, None].astype(np.float32), src.rate)
    work = tmp_path / "work"
    work.mkdir()
    lib = UnitLibraryKernel().run(None, [audio, src.alignment], RunContext(work))  # type: ignore[arg-type]
    assert is_mapped(lib.log_sp) and is_mapped(lib.ap)
    for name in ("log_sp", "ap", "f0", "starts", "ends", "features", "speech"):
        got, want = getattr(lib, name), getattr(expected, name)
        assert got.dtype == want.dtype and np.array_equal(got, want), name
    assert lib.labels == expected.labels
    cache = Cache(tmp_path / "cache")
    assert cache.put("k" * 64, lib)
    again = Cache(tmp_path / "cache").get("k" * 64)
    assert is_mapped(again.log_sp) and is_mapped(again.ap)
    assert np.array_equal(again.log_sp, expected.log_sp) and np.array_equal(again.ap, expected.ap)
    assert np.array_equal(again.features, expected.features) and again.labels == expected.labels
