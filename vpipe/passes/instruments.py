"""Pass instruments: one mechanism behind --disable-pass, --print-after, --print-after-all,
--print-after-change, --dump-ir and --time-passes (after LLVM's and TVM's instruments)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from vpipe.atomic import atomic_write_text
from vpipe.ir.graph import Graph
from vpipe.ir.printer import print_graph


class Instrument:
    def before_pipeline(self, graph: Graph) -> None: ...

    def should_run(self, name: str, graph: Graph) -> bool:
        """False skips the pass (e.g. --disable-pass)."""
        return True

    def before_pass(self, name: str, graph: Graph) -> None: ...

    def after_pass(self, name: str, before: Graph, after: Graph, seconds: float) -> None: ...

    def skipped(self, name: str) -> None: ...

    def after_pipeline(self, graph: Graph) -> None: ...


def _banner(name: str) -> str:
    return f"// -----// IR Dump After {name} //----- //"


@dataclass
class DisablePasses(Instrument):
    """Skip the named passes (--disable-pass)."""

    names: frozenset[str]

    def should_run(self, name: str, graph: Graph) -> bool:
        return name not in self.names


@dataclass
class PrintAfter(Instrument):
    """Print the IR after the named passes (all passes when `names` is None); with
    `only_changed`, only after passes that changed it."""

    stream: TextIO
    names: frozenset[str] | None = None
    only_changed: bool = False

    def after_pass(self, name: str, before: Graph, after: Graph, seconds: float) -> None:
        if self.names is not None and name not in self.names:
            return
        if self.only_changed and before == after:
            return
        self.stream.write(_banner(name) + "\n" + print_graph(after) + "\n")


@dataclass
class DumpIR(Instrument):
    """Write `00-input.ir`, `01-<pass>.ir`, ... into a directory."""

    directory: Path
    _count: int = 0

    def before_pipeline(self, graph: Graph) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        for old in self.directory.glob("*.ir"):
            old.unlink()
        atomic_write_text(self.directory / "00-input.ir", print_graph(graph))

    def after_pass(self, name: str, before: Graph, after: Graph, seconds: float) -> None:
        self._count += 1
        atomic_write_text(self.directory / f"{self._count:02d}-{name}.ir", print_graph(after))


@dataclass
class TimePasses(Instrument):
    stream: TextIO
    timings: list[tuple[str, float]] = field(default_factory=list)

    def after_pass(self, name: str, before: Graph, after: Graph, seconds: float) -> None:
        self.timings.append((name, seconds))  # the pass alone: instruments' own work is not timed

    def after_pipeline(self, graph: Graph) -> None:
        total = sum(t for _, t in self.timings) or 1e-12
        self.stream.write("===-------------------------------------------------------------===\n")
        self.stream.write("                      ... Pass execution timing report ...\n")
        self.stream.write("===-------------------------------------------------------------===\n")
        self.stream.write(f"  Total Execution Time: {total:.4f} seconds\n\n")
        self.stream.write("   ---Wall Time---  --- Name ---\n")
        for name, seconds in self.timings:
            self.stream.write(f"   {seconds:.4f} ({100 * seconds / total:5.1f}%)  {name}\n")
        self.stream.write(f"   {total:.4f} (100.0%)  Total\n")


@dataclass
class RecordChanges(Instrument):
    """Which passes changed the graph (the build summary lists them)."""

    changed: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)

    def after_pass(self, name: str, before: Graph, after: Graph, seconds: float) -> None:
        if before != after:
            self.changed.append(name)

    def skipped(self, name: str) -> None:
        self.disabled.append(name)
