"""Where a run's peak memory lies: resident set size sampled per op (a diagnostic benchmark).

Runs `vpipe run --jobs 1` on the glasses clip looped to each length (as benchmarks/scaling.py
does, fresh cache) inside this process, with a thread reading this process's resident set
size (/proc/self/statm) every `--every` seconds and the op the executor is running at that
moment (the executor's `_execute` is wrapped here, not changed). For each op: the largest
RSS seen while it ran, RSS before and after it, and whether it ran in the shared phase or in
a row. Compiling the recipe is counted as the op `compile`, and what runs between ops
(selecting rows, writing records) as `-`.

Sampling may miss a peak shorter than `--every`; the process's own high-water mark (VmHWM)
is printed beside it, and the op during which VmHWM last rose.

The process tree (this process and every process under it: the speech worker, any pool
worker or encoder) is sampled at the same moments as proportional set size (/proc/PID/
smaps_rollup, each shared page counted once, as benchmarks/scaling.py sums the tree): the
tree's summed peak, the op it fell in and each process's share at that moment, each
process's own peak, and the tree's peak per op.

Each op's CPU seconds are recorded beside (this process's, less the sampling thread's own,
plus the speech worker's), so a memory change can be checked for its cost in the same run.

Usage: python benchmarks/rss_ops.py [--lengths 5,120] [--rows 4] [--every 0.02] [--top 12]
Prints one JSON line per length and a Markdown table of the top ops per length.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import MEDIA, median
from benchmarks.scaling import looped, write_recipe
from tests.clips import GLASSES

PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20


def rss_mb() -> float:
    return rss_parts()[0]


def rss_parts() -> tuple[float, float]:
    """(resident, of which file-backed or shared: mapped files such as the crops) in MB."""
    with open("/proc/self/statm") as f:
        fields = f.read().split()
    return int(fields[1]) * PAGE_MB, int(fields[2]) * PAGE_MB


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            kids += [int(c) for c in f.read().split()]
    return kids


def _label(pid: int) -> str:
    """A process's name for the tables: this process is `vpipe`; a child by its module
    (`python -m X`) or its program's file name, with its pid (a restarted worker is another)."""
    if pid == os.getpid():
        return "vpipe"
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    name = argv[argv.index("-m") + 1] if "-m" in argv[:-1] else Path(argv[0]).name if argv else "?"
    return f"{name} ({pid})"


def tree_pss_mb() -> dict[str, float]:
    """Proportional set size in MB of this process and each process under it, by label."""
    out: dict[str, float] = {}
    todo = [os.getpid()]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                kb = next((int(line.split()[1]) for line in f if line.startswith("Pss:")), 0)
            out[_label(pid)] = kb / 1024
            todo += _children(pid)
        except (OSError, ValueError):  # it exited between listing and reading
            pass
    return out


def worker_cpu() -> float:
    """CPU seconds of the speech worker so far (0 before it starts; never imported just to ask)."""
    client = sys.modules.get("vpipe.speech.piper_client")
    return client.worker().cpu_seconds() if client is not None and client._WORKER is not None else 0.0


def hwm_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmHWM:"))


class OpSampler:
    """The op running now (set by the wrapped executor) and the RSS samples taken under it."""

    def __init__(self, every: float, trace: str = "") -> None:
        self.every = every
        self.trace = trace  # an op whose first run's surviving allocations are listed (tracemalloc)
        self.traced: list[str] = []
        self.current = "compile"
        self.phase = "build"
        self.peaks: dict[tuple[str, str], float] = {}
        self.deltas: dict[tuple[str, str], list[float]] = {}
        self.hwm_op = ("", "")
        self.hwm = 0.0
        self.step_peak = (0.0, 0.0)  # (RSS, of which file-backed) at the running op's largest sample
        self.timeline: list[dict[str, Any]] = []  # every op run: before, after, its peak
        self.tree_peaks: dict[tuple[str, str], float] = {}  # the tree's summed PSS per op
        self.proc_peaks: dict[str, float] = {}  # each process's own PSS peak
        self.tree_peak: tuple[float, tuple[str, str], dict[str, float]] = (0.0, ("", ""), {})
        self.step_tree_peak = 0.0
        self.cpus: dict[tuple[str, str], list[float]] = {}
        self.own_cpu = 0.0  # the sampling thread's own CPU seconds (not charged to the ops)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _note(self) -> None:
        key = (self.phase, self.current)
        now, mapped = rss_parts()
        self.peaks[key] = max(self.peaks.get(key, 0.0), now)
        if now > self.step_peak[0]:
            self.step_peak = (now, mapped)
        hwm = hwm_mb()
        if hwm > self.hwm:
            self.hwm, self.hwm_op = hwm, key
        tree = tree_pss_mb()
        total = sum(tree.values())
        self.tree_peaks[key] = max(self.tree_peaks.get(key, 0.0), total)
        self.step_tree_peak = max(self.step_tree_peak, total)
        for name, mb in tree.items():
            self.proc_peaks[name] = max(self.proc_peaks.get(name, 0.0), mb)
        if total > self.tree_peak[0]:
            self.tree_peak = (total, key, tree)

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self._note()
            self.own_cpu = time.thread_time()

    def cpu(self) -> float:
        return time.process_time() - self.own_cpu + worker_cpu()

    def __enter__(self) -> OpSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def wrap(self) -> None:
        """Wrap the executor's op step and its two phases so samples know their op."""
        from vpipe.runtime.executor import Executor

        execute, shared, row = Executor._execute, Executor.run_shared, Executor.run_row
        sampler = self

        def _execute(ex: Executor, i: int, op: Any, *args: Any, **kw: Any) -> None:
            sampler.current = op.kind
            before = rss_mb()
            sampler.step_peak = (before, 0.0)
            sampler.step_tree_peak = 0.0
            cpu = sampler.cpu()
            tracing = op.kind == sampler.trace and not sampler.traced
            if tracing:
                tracemalloc.start(8)
            try:
                execute(ex, i, op, *args, **kw)
            finally:
                if tracing:
                    snap = tracemalloc.take_snapshot()
                    tracemalloc.stop()
                    sampler.traced = [str(s) for s in snap.statistics("traceback")[:8]]
                sampler._note()
                after = rss_mb()
                sampler.deltas.setdefault((sampler.phase, op.kind), []).append(after - before)
                spent = sampler.cpu() - cpu
                sampler.cpus.setdefault((sampler.phase, op.kind), []).append(spent)
                sampler.timeline.append(
                    {
                        "phase": sampler.phase,
                        "op": op.kind,
                        "before": round(before),
                        "after": round(after),
                        "peak": round(sampler.step_peak[0]),
                        "peak_file_mb": round(sampler.step_peak[1]),
                        "tree_peak": round(sampler.step_tree_peak),
                        "cpu_s": round(spent, 3),
                    }
                )
                sampler.current = "-"

        def run_shared(ex: Executor) -> Any:
            sampler.phase = "shared"
            try:
                return shared(ex)
            finally:
                sampler.phase = "rows"

        def run_row(ex: Executor, *args: Any, **kw: Any) -> Any:
            sampler.phase = "rows"
            return row(ex, *args, **kw)

        Executor._execute = _execute  # type: ignore[method-assign]
        Executor.run_shared = run_shared  # type: ignore[method-assign]
        Executor.run_row = run_row  # type: ignore[method-assign]


def profile(recipe: Path, cache: Path, every: float, trace: str = "") -> dict[str, Any]:
    """Compile and run `recipe` in this process (as `vpipe run --jobs 1`), sampling RSS per op."""
    from vpipe import api

    sampler = OpSampler(every, trace)
    sampler.wrap()
    start_rss = rss_mb()
    with sampler:
        build = api.compile(recipe, cache_dir=cache)
        sampler.current, sampler.phase = "-", "build"
        summary = build.run(jobs=1)  # the HTML review included, as the CLI writes it
        sampler.current = "after the run"
    assert summary.failed == 0, "a row failed"
    return {
        "start_rss_mb": round(start_rss),
        "peak_sampled_mb": round(max(sampler.peaks.values())),
        "hwm_mb": round(sampler.hwm),
        "hwm_last_rose_in": list(sampler.hwm_op),
        "tree_peak_mb": round(sampler.tree_peak[0]),
        "tree_peak_in": list(sampler.tree_peak[1]),
        "tree_at_peak_mb": {k: round(v) for k, v in sampler.tree_peak[2].items()},
        "process_peaks_mb": {k: round(v) for k, v in sampler.proc_peaks.items()},
        "timeline": [t for t in sampler.timeline if t["phase"] != "build"],
        "traced": sampler.traced,
        "ops": sorted(
            (
                {
                    "phase": phase,
                    "op": op,
                    "peak_mb": round(peak),
                    "tree_peak_mb": round(sampler.tree_peaks.get((phase, op), 0.0)),
                    "median_delta_mb": round(median(sampler.deltas.get((phase, op), [])), 1),
                    "median_cpu_s": round(median(sampler.cpus.get((phase, op), [])), 3),
                }
                for (phase, op), peak in sampler.peaks.items()
            ),
            key=lambda r: -r["peak_mb"],
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", default="5,120")
    parser.add_argument("--rows", type=int, default=4)
    parser.add_argument("--every", type=float, default=0.02)
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--trace", default="", help="an op kind: what its first run leaves allocated (tracemalloc)")
    parser.add_argument("--length", type=float, help=argparse.SUPPRESS)  # one length, in a fresh process
    args = parser.parse_args()
    if args.length is not None:
        with tempfile.TemporaryDirectory(prefix="vpipe-rss-") as tmp:
            work = Path(tmp)
            source, times = looped(MEDIA / GLASSES.file, args.length, work)
            recipe = write_recipe(work, source, times, args.rows)
            result = profile(recipe, work / "cache", args.every, args.trace)
        print(json.dumps({"seconds": args.length, "source_s": round(times * 4.88, 1), **result}), flush=True)
        return 0
    import subprocess

    for seconds in (x for x in args.lengths.split(",") if x):  # each length in its own process
        cmd = [sys.executable, __file__, "--length", seconds, "--rows", str(args.rows), "--every", str(args.every)]
        cmd += ["--trace", args.trace] if args.trace else []
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        result = json.loads(out.strip().splitlines()[-1])
        print(json.dumps(result), flush=True)
        print(f"\n{result['source_s']:.0f} s: sampled peak {result['peak_sampled_mb']} MB, VmHWM {result['hwm_mb']} MB "
              f"(last rose in {'/'.join(result['hwm_last_rose_in'])}), start {result['start_rss_mb']} MB")
        at_peak = " + ".join(f"{k} {v}" for k, v in result["tree_at_peak_mb"].items())
        print(f"tree (PSS summed): peak {result['tree_peak_mb']} MB in {'/'.join(result['tree_peak_in'])} = {at_peak}")
        print("process peaks (PSS, MB): " + ", ".join(f"{k} {v}" for k, v in result["process_peaks_mb"].items()))
        print("| phase | op | peak RSS, MB | tree peak (PSS), MB | median RSS change, MB | median CPU, s |")
        print("|---|---|---|---|---|---|")
        for r in result["ops"][: args.top]:
            print(f"| {r['phase']} | {r['op']} | {r['peak_mb']} | {r['tree_peak_mb']} | {r['median_delta_mb']} "
                  f"| {r.get('median_cpu_s', '')} |")
        for line in result.get("traced", []):
            print("traced:", line)
        print("\n| phase | op | RSS before → after, MB | peak (of which mapped files), MB | tree peak, MB | CPU, s |")
        print("|---|---|---|---|---|---|")
        for t in result["timeline"]:
            if t["peak"] - t["before"] > 5 or abs(t["after"] - t["before"]) > 5:
                print(f"| {t['phase']} | {t['op']} | {t['before']} → {t['after']} | {t['peak']} ({t['peak_file_mb']}) "
                      f"| {t['tree_peak']} | {t['cpu_s']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
