"""The speech worker as it was before it gave a long run's memory back: onnxruntime's arena
keeps its largest run and the heap is never trimmed. Shared by tests/speech/test_worker_memory.py
and benchmarks/worker_memory.py, which compare the worker against it."""

from __future__ import annotations

from vpipe.speech.piper_client import PiperWorker


class KeepingWorker(PiperWorker):
    COMMAND = (
        "-c",
        "import vpipe.speech.piper_worker as w; w._run_options = lambda size, limit: None; "
        "w._release_free_memory = lambda: None; w.main()",
    )
