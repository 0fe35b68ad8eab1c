"""The weight-free lip-sync measure: does each heard phone show the mouth this speaker makes for it?

Phone-level: each phone in a stretch of frames gets one measured aperture (landmarks) and one
expected aperture (this speaker's own, per viseme, measured the same way on their recording);
the score is the cosine between the two, each taken as a deviation from the speaker's mean
aperture while speaking. On the source's own words it sets the natural baseline; on a
re-animated slot it says how well the new mouth follows the new words; on the untouched
source mouth under the new words it is the control a lip-sync must beat.

Why this shape (the previous measure correlated per-frame apertures with a smoothed
prediction, inside each window):
- a p, b or m is scored as a closure: its measured value is the smallest aperture around the
  phone (the lips meet for a few tens of ms, often between two frames' phones), its expected
  value this speaker's closures measured the same way; the per-frame median of frames
  labelled p/b/m is an open mouth on some speakers (interview_man: 0.057, closures 0.007);
- a short word's score is not noise: centring on the speaker's mean (not the window's)
  needs no spread inside the window, so a word whose phones all open the mouth scores as
  what it is, where a within-window correlation of four frames is chance; each phone
  counts once, however long it is held.
Measured with `benchmarks/sync_measure.py` (each recorded word against another word's phones
under the same mouth, the untouched-mouth control): see that script's docstring.
"""

from __future__ import annotations

import numpy as np

from vpipe.data.alignment import Segment
from vpipe.lipsync.visemes import BILABIALS, CLOSURE_REACH, INDEX, NAMES, VISEMES, viseme_of

# Seconds of the speaker's own speech on each side of a recorded word in the natural baseline:
# natural windows are shaped like slot windows at the recipe's default lip-sync margin.
WORD_MARGIN = 0.12
MIN_PHONES = 3  # fewer phones than this in a stretch: no score
PRIOR_PHONES = 1.0  # how many phones' worth the generic viseme table weighs against the speaker's own
# A pause this long shows the speaker at rest (some rest with the mouth open), not speaking: left out.
LONG_PAUSE = 0.4


def correlation(measured: np.ndarray, predicted: np.ndarray) -> float:
    ok = np.isfinite(measured) & np.isfinite(predicted)
    if ok.sum() < 4 or np.std(measured[ok]) < 1e-6 or np.std(predicted[ok]) < 1e-6:
        return float("nan")
    return float(np.corrcoef(measured[ok], predicted[ok])[0, 1])


def is_bilabial(label: str) -> bool:
    return label.upper().rstrip("012") in BILABIALS


def scored_phones(phones: list[Segment], times: np.ndarray) -> list[Segment]:
    """The phones a stretch of frames (`times`, sorted) is scored on: those whose middle lies
    within the frames' span (a bilabial: whose closure reach touches a frame), long pauses left
    out."""
    if len(times) == 0:
        return []
    lo, hi = float(times[0]), float(times[-1])
    out = []
    for p in phones:
        if p.label == "SIL" and p.duration >= LONG_PAUSE:
            continue
        mid = 0.5 * (p.start + p.end)
        if lo <= mid <= hi or (is_bilabial(p.label) and p.start - CLOSURE_REACH <= hi and p.end + CLOSURE_REACH >= lo):
            out.append(p)
    return out


def phone_apertures(aperture: np.ndarray, times: np.ndarray, phones: list[Segment]) -> np.ndarray:
    """One measured aperture per phone: a p, b or m its smallest within CLOSURE_REACH (its
    closure); any other phone the mean of its frames, or, shorter than a frame interval, the
    aperture interpolated at its middle between two neighbouring frames. NaN where no frame is
    near (`times` may hold several windows: nothing is interpolated across the gap)."""
    aperture = np.asarray(aperture, np.float64)
    times = np.asarray(times, np.float64)
    ok = np.isfinite(aperture)
    a, t = aperture[ok], times[ok]
    out = np.full(len(phones), np.nan)
    if len(t) == 0:
        return out
    step = float(np.median(np.diff(t))) if len(t) > 1 else 0.0
    for k, p in enumerate(phones):
        if is_bilabial(p.label):
            near = (t >= p.start - CLOSURE_REACH) & (t <= p.end + CLOSURE_REACH)
        else:
            near = (t >= p.start) & (t < p.end)
        if near.any():
            out[k] = float(a[near].min() if is_bilabial(p.label) else a[near].mean())
            continue
        j = int(np.searchsorted(t, 0.5 * (p.start + p.end)))
        if 0 < j < len(t) and t[j] - t[j - 1] <= 2 * step:  # between two neighbouring frames, not across a gap
            out[k] = float(np.interp(0.5 * (p.start + p.end), t, a))
    return out


def speaker_table(
    aperture: np.ndarray, times: np.ndarray, phones: list[Segment], leave_out: tuple[float, float] | None = None
) -> tuple[np.ndarray, float]:
    """This speaker's expected aperture per viseme (indexed like NAMES), phone-level as
    `phone_apertures` measures it, and their mean phone aperture while speaking (the centre
    scores are taken from). Per viseme: the median of the recording's phones of it, shrunk
    towards the generic value mapped onto the speaker's range by PRIOR_PHONES phones' worth:
    a short recording hears some visemes once or never (glasses_woman: one 'ch', measured
    0.216, where the generic value maps to 0.059), and neither one phone nor the generic
    table alone is to be trusted. Short pauses count as the 'sil' viseme. `leave_out`: a
    span whose phones are left out (a word scored against the table of the rest)."""
    times = np.asarray(times, np.float64)
    chosen = [
        p
        for p in scored_phones(phones, times)
        if leave_out is None or not (p.start < leave_out[1] and p.end > leave_out[0])
    ]
    values = phone_apertures(aperture, times, chosen)
    ok = np.isfinite(values)
    speech = ok & np.array([p.label != "SIL" for p in chosen], bool)
    generic = np.array([VISEMES[n].aperture for n in NAMES])
    if speech.sum() < MIN_PHONES:
        return generic.astype(np.float32), float(np.mean(generic))
    lo, hi = np.percentile(values[speech], [5, 95])
    table = lo + (generic - generic.min()) * (hi - lo) / max(float(generic.max() - generic.min()), 1e-6)
    visemes = np.array([INDEX[viseme_of(p.label)] for p in chosen])
    for v in range(len(NAMES)):
        seen = values[ok & (visemes == v)]
        if len(seen):
            table[v] = (len(seen) * float(np.median(seen)) + PRIOR_PHONES * table[v]) / (len(seen) + PRIOR_PHONES)
    return table.astype(np.float32), float(np.mean(values[speech]))


def sync_score(
    aperture: np.ndarray, times: np.ndarray, phones: list[Segment], table: np.ndarray, centre: float
) -> float:
    """How well the measured mouth follows the phones heard over these frames: the cosine of
    measured against expected phone apertures (`table`, `centre`: `speaker_table`), both less
    the speaker's mean. 1: every phone's mouth is as far from this speaker's mean, in the same
    direction, as their own mouth for that phone; ~0: unrelated; < 0: the opposite."""
    times = np.asarray(times, np.float64)
    order = np.argsort(times)
    times, aperture = times[order], np.asarray(aperture, np.float64)[order]
    chosen = scored_phones(phones, times)
    measured = phone_apertures(aperture, times, chosen) - centre
    expected = np.array([table[INDEX[viseme_of(p.label)]] for p in chosen], np.float64) - centre
    ok = np.isfinite(measured) & np.isfinite(expected)
    if ok.sum() < MIN_PHONES:
        return float("nan")
    norm = float(np.sqrt(np.sum(measured[ok] ** 2) * np.sum(expected[ok] ** 2)))
    return float(np.sum(measured[ok] * expected[ok]) / norm) if norm > 1e-12 else float("nan")


def word_scores(
    aperture: np.ndarray,
    times: np.ndarray,
    phones: list[Segment],
    words: list[Segment],
    table: np.ndarray,
    centre: float,
) -> list[float]:
    """The score of each recorded word over its own frames with WORD_MARGIN on each side: what a
    slot window holds (a word and the speech around it)."""
    times = np.asarray(times, np.float64)
    out = []
    for w in words:
        if w.label == "SIL":
            continue
        sel = (times >= w.start - WORD_MARGIN) & (times < w.end + WORD_MARGIN)
        if sel.sum() >= 2:
            s = sync_score(aperture[sel], times[sel], phones, table, centre)
            if np.isfinite(s):
                out.append(s)
    return out


def natural_baseline(
    aperture: np.ndarray,
    times: np.ndarray,
    phones: list[Segment],
    words: list[Segment],
    table: np.ndarray,
    centre: float,
) -> float:
    """The mean score of the speaker's own recorded words (`word_scores`): the same measure, on
    windows shaped like a slot's. The table has heard each of these words, which flatters them
    (a new word is scored by a table that never heard it; benchmarks/sync_measure.py leaves
    each word out to compare measures): a slot's ratio to this baseline errs low, never high."""
    scores = word_scores(aperture, times, phones, words, table, centre)
    return float(np.mean(scores)) if scores else float("nan")
