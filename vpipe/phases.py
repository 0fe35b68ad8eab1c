"""Progress inside a row: which phase is running (script, speech, lip-sync, encode, QC) and,
where a library loops over frames, how far it is.

The runtime names the phase of each op it runs (`phase_of`) and, while the op runs, installs
a reporter (`reporting`); the frame loops of the renderers, the encoder and QC call
`advance(done, total)`. With no reporter installed a call costs one context-variable lookup,
and a reporter hears at most one update per `interval` seconds (and the last), so progress
never slows a row measurably.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

PHASES = ("script", "speech", "lip-sync", "encode", "QC")
Reporter = Callable[[int, int], None]  # (done, total) of the phase's frames; total 0: not known
_reporter: ContextVar[_Throttled | None] = ContextVar("vpipe_phase_reporter", default=None)


def phase_of(kind: str) -> str:
    """The phase an op of this kind belongs to, as the progress display names it."""
    family = kind.split(".", 1)[0]
    if family in ("speech", "audio"):
        return "speech"
    if family in ("lipsync", "face"):
        return "lip-sync"
    if kind in ("media.write", "media.splice"):
        return "encode"
    if family == "qc":
        return "QC"
    return "script"


class _Throttled:
    def __init__(self, report: Reporter, interval: float) -> None:
        self.report, self.interval, self.last = report, interval, 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if (total > 0 and done >= total) or now - self.last >= self.interval:
            self.last = now
            self.report(done, total)


def advance(done: int, total: int) -> None:
    """`done` of `total` frames of the running phase are finished (`total` 0: not known ahead);
    a no-op unless reported."""
    reporter = _reporter.get()
    if reporter is not None:
        reporter(done, total)


@contextmanager
def running(kind: str, report: Callable[[str, int, int], None] | None) -> Iterator[None]:
    """While an op of `kind` runs: its phase is announced to `report` (phase, 0, 0) and the
    frame loops' `advance` calls reach it as (phase, done, total). `report` None: nothing."""
    if report is None:
        yield
        return
    phase = phase_of(kind)
    report(phase, 0, 0)
    with reporting(lambda done, total: report(phase, done, total)):
        yield


@contextmanager
def reporting(report: Reporter, interval: float = 0.2) -> Iterator[None]:
    """Send `advance` calls made inside this block to `report`, at most every `interval` s."""
    token = _reporter.set(_Throttled(report, interval))
    try:
        yield
    finally:
        _reporter.reset(token)
