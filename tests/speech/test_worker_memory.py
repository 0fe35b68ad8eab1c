"""The speech worker gives back the working memory of a long synthesis: the voice statistics
speak up to 60 words of the transcript (a 122 s source's 60 against a 5 s one's 9), which no
longer leaves the worker that much larger for the rest of the run; a row's sentence keeps
the arena as before. What it synthesizes is the same to the bit as a worker that keeps its
memory (the old behaviour)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.speech.keeping_worker import KeepingWorker
from vpipe.speech import piper_client
from vpipe.speech.piper_client import PiperWorker
from vpipe.speech.tts import PiperEngine

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")

TEMPLATE = "bringing in reforms to tighten that legislation and his"
LONG = " ".join(("bringing in reforms to tighten that regulation and his " * 25).split()[:60])  # 122 s source


def _own(monkeypatch: pytest.MonkeyPatch, w: PiperWorker) -> Iterator[PiperWorker]:
    monkeypatch.setattr(piper_client, "_WORKER", w)
    yield w
    w.close()


@pytest.fixture
def worker(monkeypatch: pytest.MonkeyPatch) -> Iterator[PiperWorker]:
    yield from _own(monkeypatch, PiperWorker(timeout=120))


def _mb(w: PiperWorker, field: str) -> float:
    assert w._proc is not None
    with open(f"/proc/{w._proc.pid}/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith(field + ":"))


def test_a_long_synthesis_leaves_the_worker_no_larger(worker: PiperWorker) -> None:
    """Measured before the change: +280 MB resident kept after LONG (the arena), peak +340 MB
    during it. Now the peak still comes (the work is the same) and goes."""
    engine = PiperEngine("en_US-joe-medium")
    first = engine.synthesize(TEMPLATE)
    before = _mb(worker, "VmRSS")
    engine.synthesize(LONG)
    after, peak = _mb(worker, "VmRSS"), _mb(worker, "VmHWM")
    print(f"worker RSS {before:.0f} -> {after:.0f} MB, peak {peak:.0f} MB")
    assert peak - before > 150  # the long synthesis did need the memory
    assert after - before < 60
    again = engine.synthesize(TEMPLATE)
    assert np.array_equal(again.audio, first.audio) and again.phonemes == first.phonemes


@pytest.mark.slow
def test_what_is_synthesized_equals_a_worker_that_keeps_its_memory(worker: PiperWorker) -> None:
    engine = PiperEngine("en_US-joe-medium")
    ours = [engine.synthesize(t) for t in (TEMPLATE, LONG, TEMPLATE)]
    ours.append(engine.synthesize(TEMPLATE, decode=(20, 30, 0.1)))
    keeping = KeepingWorker(timeout=120)
    piper_client._WORKER = keeping  # restored by the fixture's monkeypatch
    try:
        engine = PiperEngine("en_US-joe-medium")
        theirs = [engine.synthesize(t) for t in (TEMPLATE, LONG, TEMPLATE)]
        theirs.append(engine.synthesize(TEMPLATE, decode=(20, 30, 0.1)))
        assert _mb(keeping, "VmRSS") > _mb(worker, "VmRSS") + 150  # it did keep the memory
    finally:
        keeping.close()
    for a, b in zip(ours, theirs, strict=True):
        assert a.audio.dtype == b.audio.dtype and np.array_equal(a.audio, b.audio)
        assert a.phonemes == b.phonemes and a.offset == b.offset
