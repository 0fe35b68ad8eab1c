"""The weight-free lip-sync measure: does the mouth open when the phones say it should?

Correlation between the measured mouth aperture (landmarks) and the aperture predicted
from the aligned phones of the audio. On the source's own speech it sets the natural
baseline; on a re-animated slot it says how well the new mouth follows the new words;
on the untouched source mouth under the new words it is the control a lip-sync must beat.
"""

from __future__ import annotations

import numpy as np

from vpipe.data.alignment import Segment
from vpipe.lipsync.visemes import predicted_aperture

WINDOW = 0.6  # seconds: about a slot word with its margins
STEP = 0.2


def correlation(measured: np.ndarray, predicted: np.ndarray) -> float:
    ok = np.isfinite(measured) & np.isfinite(predicted)
    if ok.sum() < 4 or np.std(measured[ok]) < 1e-6 or np.std(predicted[ok]) < 1e-6:
        return float("nan")
    return float(np.corrcoef(measured[ok], predicted[ok])[0, 1])


def sync_score(
    aperture: np.ndarray, times: np.ndarray, phones: list[Segment], table: np.ndarray | None = None
) -> float:
    """Correlation of measured aperture with the aperture the phones predict. `table` is the
    speaker's own aperture per viseme (measured on the source): a generic table fails on
    real speakers (one keeps her mouth open in pauses; schwas differ), the speaker's fits."""
    predicted = predicted_aperture(phones, np.asarray(times), table=table)
    return correlation(np.asarray(aperture, np.float64), predicted)


def natural_baseline(
    aperture: np.ndarray, times: np.ndarray, phones: list[Segment], table: np.ndarray | None = None
) -> float:
    """Mean sync score over slot-sized windows of the source's speech (not its pauses)."""
    speech = [p for p in phones if p.label != "SIL"]
    if not speech or len(times) < 4:
        return float("nan")
    start, end = speech[0].start, speech[-1].end
    scores = []
    t = start
    while t + WINDOW <= end:
        sel = (times >= t) & (times < t + WINDOW)
        inside = [p for p in speech if p.start < t + WINDOW and p.end > t]
        if sel.sum() >= 6 and len(inside) >= 2:
            s = sync_score(aperture[sel], times[sel], phones, table)
            if np.isfinite(s):
                scores.append(s)
        t += STEP
    return float(np.mean(scores)) if scores else float("nan")
