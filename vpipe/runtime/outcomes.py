"""A run's row outcomes, kept on disk as they come and summed up in counters.

A run over a long CSV must not hold one outcome per row (each carries its QC report, its
timings and its diagnostics: a few kB). `RowOutcomes` writes each outcome, pickled, to an
anonymous temporary file (deleted when closed or when the process ends) and keeps in memory
only what the run's summary needs: per status and per QC verdict a count, and for the
medians of the summary the wall seconds and QC share of each rendered row (8 bytes each, in
`array`s), plus the byte offset of each outcome (8 bytes), and the timings of the first
`KEEP_ROWS` rendered rows that calibration records. A run of 10,000 rows keeps about 24 bytes
a row, not the outcomes themselves.

It is a `Sequence[RowOutcome]`: `summary.outcomes[i]` reads outcome i back, and iterating
reads them in the order they came (the API and the CLI's closing lines use it that way).
Pickled, not JSON: an outcome read back is equal to the one written (diagnostics' spans and
labels, unrounded seconds), where the manifest's JSON rounds them.
"""

from __future__ import annotations

import pickle
import statistics
import tempfile
from array import array
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import IO, overload

from vpipe.runtime.calibration import KEEP_ROWS
from vpipe.runtime.executor import RowOutcome

VERDICTS = ("passed", "flagged", "failed", "unmeasured")


class RowOutcomes(Sequence[RowOutcome]):
    """Outcomes appended one by one, stored in a temporary file, counted in memory."""

    def __init__(self, qc_values: tuple[str, ...] = ()) -> None:
        self.qc_values = qc_values  # the ops whose time is a row's QC
        self._file: IO[bytes] | None = None
        self._offsets = array("q")
        self._end = 0
        self.statuses: Counter[str] = Counter()
        self.verdicts: Counter[str] = Counter({v: 0 for v in VERDICTS})
        self.ok_seconds = array("d")  # wall seconds of each row with status ok
        self.qc_shares = array("d")  # QC's share of each ok row's wall seconds
        # (wall, CPU) seconds of the first rendered rows: what calibration keeps of a run
        self.rendered: list[tuple[float, float]] = []

    def append(self, outcome: RowOutcome) -> None:
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="vpipe-outcomes-")  # noqa: SIM115 (held open: closed by close())
        data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
        self._file.seek(self._end)
        self._file.write(data)
        self._offsets.append(self._end)
        self._end += len(data)
        self.statuses[outcome.status] += 1
        self.verdicts[outcome.verdict] += 1
        if outcome.status == "ok":
            self.ok_seconds.append(outcome.seconds)
            if outcome.seconds > 0:
                self.qc_shares.append(sum(outcome.timings.get(v, 0.0) for v in self.qc_values) / outcome.seconds)
        if rendered(outcome) and len(self.rendered) < KEEP_ROWS:
            self.rendered.append((outcome.seconds, outcome.cpu_seconds))

    def __len__(self) -> int:
        return len(self._offsets)

    @overload
    def __getitem__(self, i: int) -> RowOutcome: ...

    @overload
    def __getitem__(self, i: slice) -> list[RowOutcome]: ...

    def __getitem__(self, i: int | slice) -> RowOutcome | list[RowOutcome]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        offset = self._offsets[i]  # IndexError as a list's
        assert self._file is not None
        self._file.seek(offset)
        return pickle.load(self._file)

    def __iter__(self) -> Iterator[RowOutcome]:
        for k in range(len(self)):
            yield self[k]

    def median_ok_seconds(self) -> float:
        return statistics.median(self.ok_seconds) if self.ok_seconds else 0.0

    def median_qc_share(self) -> float | None:
        return statistics.median(self.qc_shares) if self.qc_shares and self.qc_values else None



def copied(outcome: RowOutcome) -> bool:
    """A row deduplicated from an identical one: a copy, not a render (no measure of a row's cost)."""
    return any("copied from" in c for c in outcome.cached)


def rendered(outcome: RowOutcome) -> bool:
    """A row this run rendered (not up to date, not failed, not a copy): a measure of a row's cost."""
    return outcome.status == "ok" and not copied(outcome)
