"""A run streams its rows and its outcomes: rows are read as they run, outcomes are kept on
disk and counted, so a run's memory does not grow with its number of rows."""

from __future__ import annotations

import statistics
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.runtime.test_executor import GRAPH
from vpipe.diagnostics.diagnostic import Diagnostic, DiagnosticError, Span
from vpipe.frontend.rows import Row
from vpipe.ir.parser import parse_graph
from vpipe.runtime.cache import Cache
from vpipe.runtime.executor import Executor, RowOutcome
from vpipe.runtime.outcomes import RowOutcomes
from vpipe.runtime.run import RunOptions, _execute_rows, _Split
from vpipe.runtime.selection import select_rows

QC = ("report",)


def outcome(k: int) -> RowOutcome:
    """Outcomes as a run has them: statuses, QC verdicts, diagnostics with spans and labels."""
    status = ("ok", "ok", "up-to-date", "failed", "ok")[k % 5]
    failures = ["sync below its gate"] if k % 7 == 0 else []
    return RowOutcome(
        k + 1,
        f"r{k + 1}",
        status,
        output=f"out/r{k + 1}.mp4",
        seconds=1.0 + (k % 13) / 7,
        timings={"frames": 0.3 + k % 3, "report": 0.1 * (k % 4)},
        cpu_seconds=0.9 + (k % 11) / 9,
        cached=["copied from row 1"] if k % 9 == 0 else [],
        diagnostics=[Diagnostic("VP307", f"row {k + 1}: cannot say it", Span("rows.csv", k + 2, 1, k + 2, 4), label="here")]
        if status == "failed"
        else [],
        report=None if status == "failed" else {"failures": failures, "metrics": {"sync": 1.0 + k / 1e4, "x": [k] * 40}},
        values={"value": f"word{k}"},
    )


def test_outcomes_read_back_equal_and_their_counters_equal_the_lists() -> None:
    made = [outcome(k) for k in range(300)]
    kept = RowOutcomes(QC)
    for o in made:
        kept.append(o)
    assert len(kept) == 300 and list(kept) == made and kept[-1] == made[-1] and kept[10:13] == made[10:13]
    assert kept[3].diagnostics[0].label == "here"  # exact: spans and labels, not the manifest's JSON
    assert dict(kept.statuses) == dict(Counter(o.status for o in made))
    assert dict(kept.verdicts) == {**{v: 0 for v in ("passed", "flagged", "failed", "unmeasured")}, **Counter(o.verdict for o in made)}
    ok = [o for o in made if o.status == "ok"]
    assert kept.median_ok_seconds() == statistics.median(o.seconds for o in ok)
    assert kept.median_qc_share() == statistics.median(o.timings["report"] / o.seconds for o in ok)
    rendered = [(o.seconds, o.cpu_seconds) for o in ok if not o.cached]
    assert kept.rendered == rendered
    with pytest.raises(IndexError):
        kept[300]


def test_outcomes_keep_a_few_bytes_a_row_in_memory() -> None:
    made = [outcome(k) for k in range(64)]  # ~1 kB each pickled: 20,000 of them would keep ~20 MB
    kept = RowOutcomes(QC)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for k in range(20_000):
            kept.append(made[k % 64])
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(kept) == 20_000 and kept[19_999] == made[19_999 % 64]
    assert grown / 20_000 < 48, f"{grown / 20_000:.0f} B a row"  # offsets, seconds and shares: 24 B


class CountedRows:
    """A recipe's rows that count what is read of them (as StreamedRows reads its file)."""

    def __init__(self, n: int, failing: frozenset[int] = frozenset()) -> None:
        self.n, self.failing, self.read = n, failing, 0

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, k: int) -> Row:
        if not 0 <= k < self.n:
            raise IndexError(k)
        self.read += 1
        problems = (Diagnostic("VP041", f"row {k + 1}: bad", None),) if k + 1 in self.failing else ()
        return Row(k + 1, str(k + 1), {"name": f"n{k + 1}"}, Span("rows.csv", k + 2), problems)

    def __iter__(self) -> Iterator[Row]:
        return (self[k] for k in range(self.n))


def test_a_selection_reads_only_its_rows_and_only_as_it_is_iterated() -> None:
    rows = CountedRows(1000)
    chosen = select_rows(rows, "3:5", ())  # type: ignore[arg-type]
    assert len(chosen) == 3 and rows.read == 0  # counted from the numbers: nothing read
    assert [r.index for r in chosen] == [3, 4, 5] and rows.read == 5  # read in order, up to row 5 only
    assert len(select_rows(rows, "998:", ())) == 3  # type: ignore[arg-type]
    only = select_rows(rows, None, ("7", "900"))  # type: ignore[arg-type]
    assert len(only) == 2 and [r.id for r in only] == ["7", "900"]
    for spec, ids in (("5:3", ()), ("1001", ()), (None, ("nobody",))):
        with pytest.raises(DiagnosticError) as caught:
            select_rows(rows, spec, ids)  # type: ignore[arg-type]
        assert caught.value.diagnostics[0].code == "VP014"


def test_rows_run_as_they_are_read_and_failing_rows_keep_their_place(tmp_path: Path) -> None:
    rows = CountedRows(40, failing=frozenset({1, 17}))
    ex = Executor(parse_graph(GRAPH), Cache(tmp_path / "c"), work_root=tmp_path / "w")
    shared = ex.run_shared()
    split = _Split(ex, select_rows(rows, None, ()), RunOptions())  # type: ignore[arg-type]
    assert split.needed and rows.read == 2  # read up to the first row to run, not the whole CSV
    stream = _execute_rows(ex, shared, split, RunOptions(), graph_text="", cache_root=None, target=ex.target, bdir=tmp_path)
    first = next(iter(stream))
    assert first.index == 1 and first.status == "failed" and rows.read == 4  # read again, as the rows run
    rest = list(stream)
    assert [o.index for o in [first, *rest]] == list(range(1, 41))
    assert [o.index for o in rest if o.status == "failed"] == [17]
    assert all(o.status == "ok" for o in rest if o.index != 17)
