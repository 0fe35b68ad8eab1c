"""CPU of the units search in blocks against the whole-array form (a diagnostic benchmark).

`vpipe.speech.units` computes the Viterbi join and the kNN fill distances a block of rows at
a time (`BLOCK_BYTES`); one block of any size (`BLOCK_BYTES` = 2**62) is the whole-array
computation it replaced, with the same numbers. This times a new word's units search and
matching (`select`, `envelope_hook` inside `match_voice`: what speech.match_voice runs per
level) on the glasses clip's library as it is and looped `--loops` times (the 122 s scaling
source), both forms alternating, `--repeat` times each, and prints the medians of CPU
seconds and the peak of the traced allocations (tracemalloc) of one run of each.

Usage: python benchmarks/units_blocks.py [--loops 25] [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import median

WHOLE = 1 << 62


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loops", type=int, default=25)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    from tests.speech.test_units import library, new_word
    from tests.speech.test_units_blocks import looped
    from tests.speech.test_voice_match import CASES, source
    from vpipe.speech import units
    from vpipe.speech.pitch import local_f0
    from vpipe.speech.voice_match import match_voice

    case, src = CASES["glasses_woman"], source("glasses_woman")
    slot = src.alignment.words[case.transcript.split().index(case.slot)]
    audio, rate, lead, phones = new_word("glasses_woman")
    target = local_f0(src.mono, src.rate, slot.start, slot.end)

    def word(lib: units.UnitLibrary) -> Callable[[], object]:
        def run() -> object:
            hook = units.envelope_hook(lib, units.select(lib, phones, target), lead)
            return match_voice(audio, rate, src.profile, target_f0=target, units=hook, room=False).audio

        return run

    default = units.BLOCK_BYTES
    for loops in (1, args.loops):
        run = word(looped(library("glasses_woman"), loops))
        run()  # one-time work (caches, imports) charged to neither form
        cpu: dict[str, list[float]] = {"whole": [], "blocks": []}
        peak: dict[str, float] = {}
        for i in range(args.repeat + 1):
            for name, block in (("whole", WHOLE), ("blocks", default))[:: 1 if i % 2 else -1]:
                units.BLOCK_BYTES = block
                if i == 0:  # warm-up round: the traced peak (tracemalloc slows it; not timed)
                    tracemalloc.start()
                    run()
                    peak[name] = tracemalloc.get_traced_memory()[1] / 2**20
                    tracemalloc.stop()
                    continue
                t = time.process_time()
                run()
                cpu[name].append(time.process_time() - t)
        units.BLOCK_BYTES = default
        result = {
            "loops": loops,
            "library_frames": len(library("glasses_woman").log_sp) * loops,
            **{f"{k}_cpu_s": round(median(v), 4) for k, v in cpu.items()},
            **{f"{k}_peak_traced_mb": round(v, 1) for k, v in peak.items()},
        }
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
