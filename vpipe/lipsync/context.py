"""Phone context: which visemes come before and after the phone heard at a moment, and how
far through that phone the moment is.

A mouth is not one shape per phone: it is already moving towards the next phone and still
leaving the last (coarticulation), and it opens and closes over the phone's length. Video
Rewrite (Bregler, Covell and Slaney, 1997) chose triphone units for this reason. The mouth
search (select.py) uses the same idea per frame: an inventory mouth recorded in the same
context, at the same point of its phone, as the frame needs costs less than one recorded
between other phones. Contexts are compared as visemes (the lips cannot tell a t from a d),
so a short recording still holds near matches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vpipe.data.alignment import Segment
from vpipe.lipsync.visemes import INDEX, viseme_of

SILENCE = INDEX["sil"]


@dataclass(frozen=True)
class PhoneContext:
    before: np.ndarray  # (N,) int viseme index of the phone before the one heard (silence: SILENCE)
    after: np.ndarray  # (N,) int viseme index of the phone after it
    phase: np.ndarray  # (N,) float how far through its phone each moment is: 0 start … 1 end

    def __len__(self) -> int:
        return int(self.before.shape[0])


def phone_context(phones: list[Segment] | tuple[Segment, ...], times: np.ndarray) -> PhoneContext:
    """The context of each moment in `times` (seconds, the phones' clock). A moment outside
    every phone is silence between silences, at the middle of its (silent) phone. Two phones
    whose gap is a pause are not each other's context: the pause is (as 'sil')."""
    ordered = sorted((p for p in phones if p.end > p.start), key=lambda p: p.start)
    times = np.asarray(times, np.float64)
    n = len(times)
    before = np.full(n, SILENCE, np.int64)
    after = np.full(n, SILENCE, np.int64)
    phase = np.full(n, 0.5)
    if not ordered:
        return PhoneContext(before, after, phase)
    starts = np.array([p.start for p in ordered])
    ends = np.array([p.end for p in ordered])
    visemes = np.array([INDEX[viseme_of(p.label)] for p in ordered], np.int64)
    k = np.searchsorted(starts, times, side="right") - 1  # the last phone starting at or before each moment
    inside = (k >= 0) & (times < ends[np.clip(k, 0, None)])
    for i in np.nonzero(inside)[0]:
        j = int(k[i])
        if j > 0 and starts[j] - ends[j - 1] < 1e-3:
            before[i] = visemes[j - 1]
        if j + 1 < len(ordered) and starts[j + 1] - ends[j] < 1e-3:
            after[i] = visemes[j + 1]
        phase[i] = (times[i] - starts[j]) / (ends[j] - starts[j])
    return PhoneContext(before, after, phase)
