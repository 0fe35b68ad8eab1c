"""Kernels prepare on a thread while a process's first row runs (`Kernel.prepare`): the
runtime starts it once, when a row op first computes (not for rows whose ops are all taken
from the cache), on a thread of its own, beside the row's earlier ops; a failed preparation does not fail a row (the
kernel's run meets the failure again and reports it); the row waits for it at its end, so
no thread is left loading models. QC's own preparation leaves the tracking graphs pooled and
the speaker encoder loaded, and QC's figures are the same after it (the pooled graphs give
landmarks equal to the bit: tests/face/test_graph_pool.py)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from vpipe.data.rowdata import RowValue
from vpipe.ir.graph import Op
from vpipe.ir.opspec import OpSpec, define
from vpipe.ir.parser import parse_graph
from vpipe.kernel_api.registry import Kernel, kernel
from vpipe.runtime.cache import Cache
from vpipe.runtime.executor import Executor

SEEN: dict[str, Any] = {}

define(OpSpec("test.early", "a row's earlier op", operands=(("script", "Script"),), results=("Text",)))
define(OpSpec("test.prepared", "loads something first", operands=(("early", "Text"),), results=("Text",)))


@kernel("test.early", backend="test")
class Early(Kernel):
    def run(self, op: Op, inputs: list[Any], rt: Any) -> str:
        time.sleep(0.05)  # the preparation runs beside this op
        SEEN.setdefault("early_ran_while_preparing", []).append(SEEN.get("preparing", False))
        return inputs[0].text


@kernel("test.prepared", backend="test")
class Prepared(Kernel):
    prepares = True

    def prepare(self) -> None:
        SEEN.setdefault("threads", []).append(threading.current_thread().name)
        SEEN["preparing"] = True
        time.sleep(0.2)
        if SEEN.get("fail"):
            raise RuntimeError("no model here")
        SEEN["loaded"] = SEEN.get("loaded", 0) + 1
        SEEN["preparing"] = False

    def run(self, op: Op, inputs: list[Any], rt: Any) -> str:
        return f"{inputs[0]}:{SEEN.get('loaded', 0)}"


GRAPH = """
graph @g {
  %row = rows.row() {"file": "rows.csv"} : Row per_row kernel(builtin@cpu)
  %script = template.render(%row) {"slots": [], "template": "hi {{ name }}"} : Script per_row kernel(builtin@cpu)
  %early = test.early(%script) : Text per_row kernel(test@cpu)
  %out = test.prepared(%early) : Text per_row kernel(test@cpu)
}
"""


def _rows(*names: str) -> list[RowValue]:
    return [RowValue(i, str(i), {"name": n}, "rows.csv", i + 1) for i, n in enumerate(names, start=1)]


@pytest.fixture(autouse=True)
def _clear() -> None:
    SEEN.clear()


def test_prepared_once_on_a_thread_beside_the_first_rows_ops(tmp_path: Path) -> None:
    ex = Executor(parse_graph(GRAPH), Cache(tmp_path / "cache"), work_root=tmp_path / "w")
    shared = ex.run_shared()
    assert "threads" not in SEEN  # nothing prepared before a row runs
    outcomes = [ex.run_row(shared, r) for r in _rows("ana", "ben", "cy")]
    assert [o.status for o in outcomes] == ["ok"] * 3
    assert SEEN["threads"] == ["vpipe-prepare"]  # once, on its own thread
    assert SEEN["early_ran_while_preparing"][0] is True  # the first row's earlier op ran beside it
    assert not ex.preparation.running  # waited for by the row's end


def test_rows_taken_from_the_cache_prepare_nothing(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = Executor(parse_graph(GRAPH), Cache(cache), work_root=tmp_path / "w")
    shared = first.run_shared()
    first.run_row(shared, _rows("ana")[0])
    SEEN.clear()
    again = Executor(parse_graph(GRAPH), Cache(cache), work_root=tmp_path / "w")
    assert again.run_row(again.run_shared(), _rows("ana")[0]).status == "ok"
    assert "threads" not in SEEN


def test_a_failed_preparation_fails_no_row(tmp_path: Path) -> None:
    SEEN["fail"] = True
    ex = Executor(parse_graph(GRAPH), Cache(tmp_path / "cache"), work_root=tmp_path / "w")
    outcome = ex.run_row(ex.run_shared(), _rows("ana")[0])
    assert outcome.status == "ok" and not outcome.diagnostics
    assert SEEN["threads"] == ["vpipe-prepare"] and "loaded" not in SEEN


def test_qc_prepares_the_tracking_graphs_and_the_speaker_encoder() -> None:
    from vpipe.face import tracker
    from vpipe.kernels.qc import Measure
    from vpipe.speech import similarity

    assert Measure.prepares
    tracker.close_idle_graphs()
    Measure().prepare()
    pid = os.getpid()
    assert tracker._POOL.get((pid, "mesh", 1)) and tracker._POOL.get((pid, "detector", 0))
    assert similarity._ENCODER is not None
