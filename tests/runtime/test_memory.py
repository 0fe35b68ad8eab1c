"""vpipe.runtime.memory: freed heap memory given back between ops. The case it is for, made on
purpose: after a large block is freed glibc serves 1 MB blocks from the heap; 200 of them
freed under one still in use stay resident until the heap is trimmed."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from vpipe.runtime.memory import release_freed


def _resident_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc and /proc")
def test_freed_blocks_under_a_live_one_are_given_back() -> None:
    big = np.ones(16 << 20, np.uint8)  # freed: glibc's mmap threshold rises to 16 MB
    del big
    blocks = [np.ones(1 << 20, np.uint8) for _ in range(200)]  # now from the heap
    pin = np.ones(1 << 20, np.uint8)  # above them: the heap's top cannot shrink past it
    del blocks
    before = _resident_mb()
    assert release_freed()
    after = _resident_mb()
    assert before - after > 150, (before, after)
    assert int(pin.sum()) == 1 << 20
