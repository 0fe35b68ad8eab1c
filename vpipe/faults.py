"""Fault injection for the crash tests: `VPIPE_FAULT_KILL=PHASE[:N]` makes the process kill
itself with SIGKILL (no `finally`, no `atexit`, as a power cut or the OOM killer would) the
N-th time (default 1) it reaches the named point of PHASE. Unset, a point costs one dict
lookup. Points: tts, lipsync, encode (frames half written, by media.write or a splice-gops
segment), mux (the audio being muxed), qc, manifest (a record of the run's manifest).
`VPIPE_FAULT_SIGNAL=INT` sends SIGINT instead (Ctrl-C at exactly that point, which the run
must clean up after).
"""

from __future__ import annotations

import os
import signal

POINTS = ("tts", "lipsync", "encode", "mux", "qc", "manifest")
_seen: dict[str, int] = {}


def point(name: str) -> None:
    spec = os.environ.get("VPIPE_FAULT_KILL")
    if not spec:
        return
    phase, _, count = spec.partition(":")
    if phase != name:
        return
    _seen[name] = _seen.get(name, 0) + 1
    if _seen[name] >= int(count or 1):
        os.kill(os.getpid(), signal.Signals[f"SIG{os.environ.get('VPIPE_FAULT_SIGNAL', 'KILL')}"])
