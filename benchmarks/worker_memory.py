"""The speech worker's memory and CPU with and without giving back a long run's memory (a
diagnostic benchmark).

Two piper workers side by side: the worker as it is (a run larger than a ~9 s sentence
shrinks onnxruntime's arena and the heap is trimmed after the request) and the same worker
keeping its memory (`_run_options` → None, no trim: the behaviour before). Each loads the
voice and synthesizes the voice statistics' long text (60 words of the looped glasses
transcript, as at 122 s), then a row's requests (durations, a partial decode, a whole
synthesis of the template) `--repeat` times, the two workers alternating. Prints per worker
the median CPU seconds of each request kind (the worker process's own, /proc) and its
resident set after the long text and at the end.

Usage: python benchmarks/worker_memory.py [--repeat 12]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import median
from tests.speech.keeping_worker import KeepingWorker
from vpipe.speech import piper_client
from vpipe.speech.piper_client import PiperWorker

TEMPLATE = "bringing in reforms to tighten that legislation and his"
LONG = " ".join(("bringing in reforms to tighten that regulation and his " * 25).split()[:60])


def rss_mb(w: PiperWorker) -> float:
    assert w._proc is not None
    with open(f"/proc/{w._proc.pid}/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmRSS:"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=12)
    args = parser.parse_args()
    from vpipe.speech.tts import PiperEngine

    workers = {"gives back": PiperWorker(timeout=120), "keeps": KeepingWorker(timeout=120)}
    with tempfile.TemporaryDirectory(prefix="vpipe-worker-") as tmp:
        engines = {name: PiperEngine("en_US-joe-medium", store=Path(tmp)) for name in workers}  # one per worker
        cpu: dict[str, dict[str, list[float]]] = {name: {} for name in workers}
        rss: dict[str, dict[str, float]] = {name: {} for name in workers}

        def on(name: str, kind: str, request: Callable[[PiperEngine], object]) -> None:
            piper_client._WORKER = workers[name]
            before = workers[name].cpu_seconds()
            request(engines[name])
            cpu[name].setdefault(kind, []).append(workers[name].cpu_seconds() - before)

        try:
            for name in workers:
                on(name, "load", lambda e: e.sample_rate())
                rss[name]["loaded"] = rss_mb(workers[name])
                on(name, "long", lambda e: e.synthesize(LONG))
                rss[name]["after the long text"] = rss_mb(workers[name])
            for i in range(args.repeat):
                for name in list(workers)[:: 1 if i % 2 else -1]:
                    on(name, "durations", lambda e: e.durations(TEMPLATE))
                    on(name, "decode", lambda e: e.synthesize(TEMPLATE, decode=(20, 30, 0.1)))
                    on(name, "synthesize", lambda e: e.synthesize(TEMPLATE))
            for name in workers:
                rss[name]["end"] = rss_mb(workers[name])
        finally:
            for w in workers.values():
                w.close()
            piper_client._WORKER = None
    for name in workers:
        medians = {k: round(median(v), 4) for k, v in cpu[name].items()}
        print(json.dumps({"worker": name, "cpu_s": medians, "rss_mb": {k: round(v) for k, v in rss[name].items()}}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
