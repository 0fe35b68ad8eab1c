"""A CSV's rows read from the file as they are needed: never all in memory.

`scan` reads the file once, record by record. Per row it keeps only where the row starts (the
text stream's position, to seek to) and its line, and for the checks that need every row it
keeps one 16-byte digest per distinct id with the row that first had it (a dict: ~100 bytes a
row, 1 MB at 10,000 rows, ~100 MB at the 1,000,000-row limit; frontend.checks keeps the same
for output files). What a check finds is kept for the rows it concerns only.

`StreamedRows` is then the rows as a sequence: iterating reads the file again, record by
record; indexing seeks to one row and reads its record. Each row is rebuilt the same way every
time (parsed, given its kept problems, finished by the frontend: slot columns, output file).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO, overload

from vpipe.diagnostics.diagnostic import Diagnostic, DiagnosticError, Span


@dataclass(frozen=True)
class CsvFormat:
    path: Path
    display: str
    delimiter: str
    encoding: str  # as Python names it ("utf-8" read as "utf-8-sig": a byte-order mark is dropped)
    stamp: tuple[int, ...] = ()  # the file as scanned (device, inode, size, modification time)


def file_stamp(path: Path) -> tuple[int, ...]:
    st = path.stat()
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def open_text(fmt: CsvFormat) -> TextIO:
    """The rows file as text; VP040 when it is no longer the file scanned (its rows' positions
    would read another file's bytes)."""
    try:
        if fmt.stamp and file_stamp(fmt.path) != fmt.stamp:
            raise OSError("changed")
        return open(fmt.path, encoding=fmt.encoding, newline="")
    except OSError:
        raise DiagnosticError(
            Diagnostic(
                "VP040",
                f"{fmt.display} changed or went away while its rows were being read",
                Span(fmt.display),
                help="leave the rows file as it is until the command has finished, then run it again",
            )
        ) from None


def check_decodes(fmt: CsvFormat) -> None:
    """VP040 at the line of the first byte that is not `fmt.encoding` text (read in 1 MB
    blocks, not all at once); VP020 when the file cannot be read."""
    try:
        decoder = codecs.getincrementaldecoder(fmt.encoding)()
    except LookupError as exc:
        raise _not_text(fmt, 1, exc) from None
    line = 1
    try:
        with open(fmt.path, "rb") as f:
            while block := f.read(1 << 20):
                try:
                    decoder.decode(block)
                except UnicodeDecodeError as exc:
                    raise _not_text(fmt, line + block[: max(exc.start, 0)].count(b"\n"), exc) from None
                line += block.count(b"\n")
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError as exc:
                raise _not_text(fmt, line, exc) from None
    except OSError as exc:
        raise DiagnosticError(
            Diagnostic("VP020", f"cannot read rows file: {exc.strerror}", Span(fmt.display))
        ) from None


def _not_text(fmt: CsvFormat, line: int, exc: Exception) -> DiagnosticError:
    shown = "utf-8" if fmt.encoding == "utf-8-sig" else fmt.encoding
    return DiagnosticError(
        Diagnostic(
            "VP040",
            f"{fmt.display} is not valid {shown} text ({exc.__class__.__name__})",
            Span(fmt.display, line, 1, line, 2),
            help="save the file as UTF-8, or set rows: {csv: ..., encoding: ...}",
        )
    )


def records(
    f: TextIO, fmt: CsvFormat, first_line: int, header: bool = False
) -> Iterator[tuple[int, int, list[str]]]:
    """(where the record starts, its first line, its fields) of each record from f's position
    (on line `first_line`; the first record is the `header`). The csv reader takes exactly a
    record's lines, so the position after a record's last line is where the next one starts."""
    after = [f.tell()]

    def lines() -> Iterator[str]:
        while line := f.readline():
            after[0] = f.tell()
            yield line

    reader = csv.reader(lines(), delimiter=fmt.delimiter, strict=True)
    start, consumed = after[0], 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            at = first_line + reader.line_num - 1
            what = "CSV header" if header and consumed == 0 else "CSV"
            raise DiagnosticError(
                Diagnostic("VP040", f"cannot parse {what}: {exc}", Span(fmt.display, at, 1, at, 2))
            ) from None
        yield start, first_line + consumed, fields
        start, consumed = after[0], reader.line_num


def blank(fields: list[str]) -> bool:
    return not fields or all(not f.strip() for f in fields)


def id_digest(rid: str) -> bytes:
    return hashlib.blake2b(rid.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class StreamedRows(Sequence[Any]):
    """The rows of a scanned CSV (see the module's docstring). `build(index, line, fields,
    problems)` makes a row from its record and the problems kept for it; `finish` is applied
    after (the frontend's: slot columns, output file)."""

    def __init__(
        self,
        fmt: CsvFormat,
        starts: array,
        lines: array,
        build: Callable[[int, int, list[str], tuple[Diagnostic, ...]], Any],
        problems: dict[int, tuple[Diagnostic, ...]],
        finish: Callable[[Any], Any] | None = None,
    ) -> None:
        self.fmt, self.starts, self.lines, self.build = fmt, starts, lines, build
        self.problems, self.finish = problems, finish

    def finished(
        self, finish: Callable[[Any], Any], problems: dict[int, tuple[Diagnostic, ...]] | None = None
    ) -> StreamedRows:
        """The same rows, each then passed through `finish` (after any earlier one), with
        `problems` (index → all the row's problems) instead of those kept so far."""
        before = self.finish
        both = finish if before is None else (lambda row: finish(before(row)))
        kept = self.problems if problems is None else problems
        return StreamedRows(self.fmt, self.starts, self.lines, self.build, kept, both)

    def __len__(self) -> int:
        return len(self.starts)

    def _row(self, k: int, line: int, fields: list[str]) -> Any:
        row = self.build(k + 1, line, fields, self.problems.get(k + 1, ()))
        return self.finish(row) if self.finish is not None else row

    @overload
    def __getitem__(self, i: int) -> Any: ...
    @overload
    def __getitem__(self, i: slice) -> list[Any]: ...
    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        k = range(len(self))[i]  # IndexError as a tuple raises it
        with open_text(self.fmt) as f:
            f.seek(self.starts[k])
            _, line, fields = next(records(f, self.fmt, self.lines[k]))
        return self._row(k, line, fields)

    def __iter__(self) -> Iterator[Any]:
        if not len(self):
            return
        k = 0
        with open_text(self.fmt) as f:
            f.seek(self.starts[0])
            for _, line, fields in records(f, self.fmt, self.lines[0]):
                if blank(fields):
                    continue
                yield self._row(k, line, fields)
                k += 1
                if k == len(self):
                    return

    def __eq__(self, other: object) -> bool:
        """Equal to any sequence of the same rows (a tuple of them included), read from the file."""
        if not isinstance(other, (Sequence, StreamedRows)) or isinstance(other, (str, bytes)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  (a sequence read from a file: not hashable)

    def __repr__(self) -> str:
        return f"StreamedRows({self.fmt.display!r}, {len(self)} rows)"
