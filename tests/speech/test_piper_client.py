"""The client side of the GPL worker process: the JSON-lines protocol, errors that leave the
worker serving, restart after the worker dies, the float32 audio encoding. Each test runs its
own PiperWorker (no voice loaded, so it starts in about a second) and closes it."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator

import numpy as np
import pytest

from vpipe.speech.piper_client import PiperWorker, WorkerError, decode_audio


@pytest.fixture
def own_worker() -> Iterator[PiperWorker]:
    w = PiperWorker(timeout=60)
    yield w
    w.close()


def test_a_bad_request_is_an_error_and_the_worker_keeps_serving(own_worker: PiperWorker) -> None:
    assert own_worker.request({"op": "ping"})["pong"] is True
    pid = own_worker._proc.pid if own_worker._proc else None
    with pytest.raises(WorkerError, match="unknown op 'nope'"):
        own_worker.request({"op": "nope"})
    with pytest.raises(WorkerError, match="KeyError"):
        own_worker.request({"op": "espeak"})  # no text
    assert own_worker.request({"op": "ping"})["pong"] is True
    assert own_worker._proc is not None and own_worker._proc.pid == pid  # the same process throughout


def test_a_dead_worker_is_restarted(own_worker: PiperWorker) -> None:
    """The worker process is killed between requests: the next request starts a new one."""
    assert own_worker.request({"op": "ping"})["pong"] is True
    assert own_worker._proc is not None
    first = own_worker._proc.pid
    own_worker._proc.kill()
    own_worker._proc.wait(timeout=10)
    assert own_worker.request({"op": "ping"})["pong"] is True
    assert own_worker._proc.pid != first


def test_phonemize_through_the_protocol_and_cpu_accounting(own_worker: PiperWorker) -> None:
    """espeak IPA per text, in order; the worker's CPU time is visible (Linux) and 0 once closed."""
    reply = own_worker.request({"op": "phonemize", "voice": "en-us", "texts": ["hello", "world"]})
    assert len(reply["ipa"]) == 2 and reply["ipa"][0].startswith("h") and "w" in reply["ipa"][1]
    if os.path.exists("/proc/self/stat"):
        assert own_worker.cpu_seconds() > 0.0
    own_worker.close()
    assert own_worker.cpu_seconds() == 0.0


def test_audio_travels_as_little_endian_float32() -> None:
    x = np.array([0.0, -1.0, 0.5, 1e-7, 3.25], np.float32)
    encoded = base64.b64encode(x.astype("<f4").tobytes()).decode("ascii")
    y = decode_audio(encoded)
    assert y.dtype == np.float32 and np.array_equal(x, y)
    assert len(decode_audio("")) == 0
