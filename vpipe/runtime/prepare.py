"""Kernels' preparation while a process's first row runs (`Kernel.prepare`).

A kernel whose first run loads something slow (QC: mediapipe and its graphs, torch and the
speaker encoder, ~2 s here) would make a process's first row wait for it inside that op.
The runtime calls `prepare()` of the row's kernels once per process, on a thread of its own,
when a row op first computes (a run whose rows all come from the cache loads nothing): the
load overlaps that row's earlier ops (the speech worker, the lip-sync), where a core is
mostly free. Measured
(`benchmarks/estimates.py`, each clip's first row in a new process with the cache warm): the
first row 0.65-0.9 s shorter, its QC 14-19 % of it where it was 45-56 %.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable

from vpipe.kernel_api.registry import Kernel


class Preparation:
    """The row kernels' `prepare`, started once (`start`) and waited for (`wait`)."""

    def __init__(self, kernels: Iterable[Kernel]) -> None:
        self._kernels = list({id(k): k for k in kernels if k.prepares}.values())  # each instance once
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # a batch's rows start on threads of their own

    def start(self) -> None:
        """Start the kernels' preparation on a thread, the first time only. A failure is not
        reported here: the kernel's own run meets it again and reports it in its row."""
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._prepare, name="vpipe-prepare", daemon=True)
            if self._kernels:
                self._thread.start()

    def _prepare(self) -> None:
        for k in self._kernels:
            with contextlib.suppress(Exception):
                k.prepare()

    def wait(self) -> None:
        """Wait for it (done by now unless a row ended early): no thread is left loading
        models when the process goes on to exit."""
        if self._thread is not None and self._thread.is_alive():
            self._thread.join()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
