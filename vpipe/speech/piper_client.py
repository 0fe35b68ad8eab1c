"""Client of the piper/espeak-ng worker process (see piper_worker.py for why it is separate).

One worker per vpipe process, started on first use and reused by every row; a crashed or
hung worker is restarted once per request. Requests are serialised with a lock.
"""

from __future__ import annotations

import atexit
import base64
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np


class WorkerError(Exception):
    pass


class PiperWorker:
    # what runs the worker (after the interpreter); one place, so a test's variant of the
    # worker differs in this and nothing else (environment, pipes, draining)
    COMMAND: tuple[str, ...] = ("-m", "vpipe.speech.piper_worker")

    def __init__(self, timeout: float = 120.0) -> None:
        self.timeout = timeout
        self._proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()
        self._next_id = 0

    def _start(self) -> subprocess.Popen[str]:
        env = dict(os.environ)
        env.setdefault("OMP_NUM_THREADS", "1")  # rows run in parallel processes; avoid oversubscription
        proc = subprocess.Popen(
            [sys.executable, *self.COMMAND],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
            env=env,
        )
        threading.Thread(target=_drain, args=(proc,), daemon=True).start()
        return proc

    def start(self) -> None:
        """Start the process now: it imports piper and onnxruntime while the caller does other
        work (`vpipe preview` compiles the recipe meanwhile)."""
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._proc = self._start()

    def request(self, payload: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            for attempt in range(2):
                if self._proc is None or self._proc.poll() is not None:
                    self._proc = self._start()
                self._next_id += 1
                payload = {**payload, "id": self._next_id}
                try:
                    assert self._proc.stdin is not None and self._proc.stdout is not None
                    self._proc.stdin.write(json.dumps(payload) + "\n")
                    self._proc.stdin.flush()
                    line = _readline(self._proc, self.timeout)
                except (BrokenPipeError, TimeoutError, OSError) as exc:
                    self.close()
                    if attempt == 1:
                        raise WorkerError(f"the speech worker failed: {exc}") from None
                    continue
                reply: dict[str, Any] = json.loads(line)
                if "error" in reply:
                    raise WorkerError(reply["error"])
                return reply
        raise WorkerError("the speech worker failed")

    def cpu_seconds(self) -> float:
        """CPU time the worker process has used so far (user + system, Linux /proc; 0.0 elsewhere).
        Benchmarks add it to the parent's: synthesis runs here, not in the caller."""
        if self._proc is None or self._proc.poll() is not None:
            return 0.0
        try:
            fields = Path(f"/proc/{self._proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        if self._proc is not None:
            try:
                self._proc.kill()
                self._proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
            self._proc = None


def _drain(proc: subprocess.Popen[str]) -> None:
    """Read the worker's stderr so a chatty library can never fill the pipe and block it."""
    if proc.stderr is None:
        return
    for _ in proc.stderr:
        pass


def _readline(proc: subprocess.Popen[str], timeout: float) -> str:
    result: list[str] = []
    reader = threading.Thread(target=lambda: result.append(proc.stdout.readline() if proc.stdout else ""), daemon=True)
    reader.start()
    reader.join(timeout)
    if reader.is_alive():
        raise TimeoutError(f"no answer within {timeout:.0f} s")
    if not result or not result[0]:
        raise BrokenPipeError("the worker exited")
    return result[0]


def decode_audio(b64: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), dtype="<f4").astype(np.float32)


_WORKER: PiperWorker | None = None


def worker() -> PiperWorker:
    global _WORKER
    if _WORKER is None:
        _WORKER = PiperWorker()
        atexit.register(_WORKER.close)
    return _WORKER
