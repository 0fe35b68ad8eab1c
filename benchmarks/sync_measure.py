"""How well does vpipe's lip-sync measure tell a mouth that says the heard words from one that
does not? Measured on each shared clip's own recording, no rendering:

- natural: every recorded word, scored over its own frames with the slot windows' 120 ms
  margins, under its own phones (the speaker's mouth saying what is heard), against the
  table of the rest of the recording (as the QC baseline is);
- control: the same frames under another recorded word's phones stretched onto the word
  (the neighbouring speech kept): the untouched-mouth control, where the heard word is new
  and the mouth still says the recorded one. Drawn 4 times per word (fixed seed).

Per measure: natural and control mean / median / standard deviation over words, d' (mean
difference over the pooled standard deviation: how far apart the two are in units of a
single word's noise) and the fraction of draws where the word scores above its control.
Measures: `phone` (lipsync/sync.py, what QC uses) and `frame` (the measure before it: the
Pearson correlation, inside the window, of per-frame apertures with the smoothed per-frame
prediction from the speaker's per-frame median table; kept here only for comparison). Both
score a word against tables built from the rest of the recording: a table that has heard the
word it scores flatters it (with the word's own phones in the tables, d' read 1.02 / 0.83 /
0.71 for the phone measure and 0.59 / 1.23 / 0.53 for the frame one).
The held-out clip (tests/clips.py HELD_OUT) only with --held-out, reported apart.

Measured (2-core CPU, 4 draws; natural mean / sd, control mean, d'):

| clip | phone | frame |
|---|---|---|
| interview | 0.69 / 0.21, 0.41, d' 0.83 | 0.43 / 0.55, 0.23, d' 0.36 |
| glasses | 0.34 / 0.46, 0.08, d' 0.54 | 0.26 / 0.51, 0.02, d' 0.45 |
| studio | 0.52 / 0.19, 0.36, d' 0.51 | 0.52 / 0.43, 0.38, d' 0.31 |

The phone measure separates a word from its control better on every clip, and a single
word's score is less noisy (sd 0.19-0.46 against 0.43-0.55). Glasses (9 words, a few
visemes heard once) is the weakest: a short recording is a thin table.

Usage: python benchmarks/sync_measure.py [--held-out] [--draws 4]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import CLIPS, HELD_OUT
from vpipe.data.alignment import Segment


def frame_score(aperture: np.ndarray, times: np.ndarray, phones: list[Segment], table: np.ndarray) -> float:
    """The previous measure: per-frame correlation with the smoothed prediction."""
    from vpipe.lipsync.sync import correlation
    from vpipe.lipsync.visemes import predicted_aperture

    return correlation(aperture, predicted_aperture(phones, times, table=table))


def control_phones(phones: list[Segment], word: Segment, other: Segment) -> list[Segment]:
    """`phones` with `word`'s own replaced by `other`'s, stretched onto `word`'s span."""
    k = word.duration / other.duration
    moved = [
        Segment(p.label, word.start + (p.start - other.start) * k, word.start + (p.end - other.start) * k)
        for p in phones
        if p.start >= other.start - 1e-6 and p.end <= other.end + 1e-6
    ]
    kept = [p for p in phones if p.end <= word.start + 1e-6 or p.start >= word.end - 1e-6]
    return sorted(kept + moved, key=lambda p: p.start)


def clip_scores(name: str, draws: int) -> dict[str, object]:
    from tests.lipsync import sources
    from tests.lipsync.sources import source
    from vpipe.face.landmarks import mouth_aperture
    from vpipe.lipsync.inventory import speaker_apertures
    from vpipe.lipsync.sync import WORD_MARGIN, speaker_table, sync_score
    from vpipe.lipsync.visemes import INDEX, frame_visemes

    sources.TRANSCRIPTS.update({c.file.removesuffix(".mp4"): c.transcript for c in HELD_OUT})
    src = source(name)
    usable = src.face.usable
    aperture = np.asarray(mouth_aperture(src.face.landmarks[usable]), np.float64)
    times = src.face.times[usable]
    phones, words = list(src.alignment.phones), [w for w in src.alignment.words if w.label != "SIL"]
    visemes = np.array([INDEX[v] for v in frame_visemes(phones, times)])
    rng = np.random.default_rng(0)
    scores: dict[str, dict[str, list[float]]] = {m: {"natural": [], "control": []} for m in ("phone", "frame")}
    for _ in range(draws):
        for w in words:
            others = [o for o in words if o is not w and o.label != w.label and abs(o.duration - w.duration) < 0.25]
            sel = (times >= w.start - WORD_MARGIN) & (times < w.end + WORD_MARGIN)
            if not others or sel.sum() < 6:
                continue
            control = control_phones(phones, w, others[int(rng.integers(len(others)))])
            table, centre = speaker_table(aperture, times, phones, leave_out=(w.start, w.end))
            rest = ~((times >= w.start) & (times < w.end))
            frame_table = speaker_apertures(visemes[rest], aperture[rest])
            for kind, heard in (("natural", phones), ("control", control)):
                scores["phone"][kind].append(sync_score(aperture[sel], times[sel], heard, table, centre))
                scores["frame"][kind].append(frame_score(aperture[sel], times[sel], heard, frame_table))
    out: dict[str, object] = {"clip": name, "words": len(words)}
    for measure, by in scores.items():
        nat, ctl = np.array(by["natural"]), np.array(by["control"])
        ok = np.isfinite(nat) & np.isfinite(ctl)
        nat, ctl = nat[ok], ctl[ok]
        pooled = float(np.sqrt((nat.var() + ctl.var()) / 2))
        out[measure] = {
            "natural_mean": round(float(nat.mean()), 3),
            "natural_median": round(float(np.median(nat)), 3),
            "natural_sd": round(float(nat.std()), 3),
            "control_mean": round(float(ctl.mean()), 3),
            "control_median": round(float(np.median(ctl)), 3),
            "d_prime": round(float((nat.mean() - ctl.mean()) / pooled), 2) if pooled > 0 else float("nan"),
            "above_control": round(float(np.mean(nat > ctl)), 2),
            "pairs": int(ok.sum()),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--held-out", action="store_true", help="also the held-out clip, reported apart")
    parser.add_argument("--draws", type=int, default=4, help="control draws per word")
    args = parser.parse_args()
    for clip in CLIPS:
        print(json.dumps(clip_scores(clip.file.removesuffix(".mp4"), args.draws)), flush=True)
    if args.held_out:
        for clip in HELD_OUT:
            print(json.dumps({"held_out": True, **clip_scores(clip.file.removesuffix(".mp4"), args.draws)}), flush=True)


if __name__ == "__main__":
    main()
