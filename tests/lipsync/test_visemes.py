"""Phones to visemes, the viseme shown at each frame, and the mouth opening phones predict.

No media: the phone sequences are written here and every expected value follows from the
timing rules the module documents (a phone covers [start, end), frames outside every phone
are silence, coarticulation is a symmetric Gaussian)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from vpipe.data.alignment import Segment
from vpipe.lexicon import ARPABET
from vpipe.lipsync.visemes import INDEX, NAMES, VISEMES, distance_matrix, frame_visemes, predicted_aperture, viseme_of


def _phones(*spec: tuple[str, float]) -> list[Segment]:
    """Back-to-back phones from (label, duration) pairs, starting at 0."""
    out, t = [], 0.0
    for label, d in spec:
        out.append(Segment(label, t, t + d))
        t += d
    return out


def test_every_arpabet_phone_has_a_viseme() -> None:
    """All 39 phones the aligner and the synthesizer use map to a real mouth shape (a phone
    missing from the table would silently show a closed 'sil' mouth inside a word)."""
    missing = sorted(p for p in ARPABET if viseme_of(p) == "sil")
    assert missing == []
    assert all(viseme_of(p) in VISEMES for p in ARPABET)


def test_viseme_of_normalises_stress_and_case() -> None:
    """pocketsphinx and CMUdict write stress digits (AA1) and callers may pass lower case."""
    assert viseme_of("AA1") == viseme_of("aa") == viseme_of("AA") == "aa"
    assert viseme_of("ow0") == "oh"
    assert viseme_of("SIL") == viseme_of("") == viseme_of("+NSN+") == "sil"
    assert {viseme_of(p) for p in ("P", "B", "M")} == {"PP"}


def test_bilabials_closed_open_vowels_widest() -> None:
    """The order the lip-sync relies on: p/b/m are the one fully closed shape, open vowels the
    widest; every aperture lies in [0, 1]."""
    ap = {n: v.aperture for n, v in VISEMES.items()}
    assert min(ap, key=ap.__getitem__) == "PP" and ap["PP"] == 0.0
    assert max(ap, key=ap.__getitem__) == "aa"
    assert all(0.0 <= a <= 1.0 for a in ap.values())
    assert tuple(INDEX) == NAMES and [INDEX[n] for n in NAMES] == list(range(len(NAMES)))


def test_distance_matrix_is_a_metric_with_a_closure_step() -> None:
    """Symmetric, zero only on the diagonal, triangle inequality (the DP adds these costs up),
    and showing an open mouth for p/b/m costs more than any two non-bilabial shapes differ
    in aperture alone."""
    d = distance_matrix()
    n = len(NAMES)
    assert d.shape == (n, n)
    assert np.allclose(d, d.T) and np.all(np.diag(d) == 0)
    off = d[~np.eye(n, dtype=bool)]
    assert off.min() > 0
    for i, j, k in itertools.product(range(n), repeat=3):
        assert d[i, k] <= d[i, j] + d[j, k] + 1e-6
    pp = INDEX["PP"]
    sil = INDEX["sil"]
    # sil (0.02 open, neutral) is nearly the same aperture as PP, yet farther from it than
    # the aperture difference: the lip closure is its own feature
    assert d[pp, sil] >= 0.4 + abs(VISEMES["PP"].aperture - VISEMES["sil"].aperture) - 1e-6


def test_frame_visemes_half_open_intervals_gaps_and_offset() -> None:
    """A frame at a phone's start shows that phone, at its end the next one; a gap between
    phones and anything after the last phone is silence; `offset` looks later in time."""
    phones = [Segment("P", 0.1, 0.2), Segment("AA1", 0.2, 0.4), Segment("M", 0.5, 0.6)]
    times = np.array([0.0, 0.1, 0.15, 0.2, 0.399, 0.4, 0.45, 0.5, 0.6, 0.9])
    got = frame_visemes(phones, times)
    assert got == ["sil", "PP", "PP", "aa", "aa", "sil", "sil", "PP", "sil", "sil"]
    # unsorted phones give the same answer
    assert frame_visemes(phones[::-1], times) == got
    # offset +0.1: the frame at 0.0 shows what is said at 0.1
    assert frame_visemes(phones, np.array([0.0, 0.1, 0.45]), offset=0.1) == ["PP", "aa", "PP"]


def test_predicted_aperture_plateaus_and_symmetric_transition() -> None:
    """Long phones reach their viseme's aperture; at a P→AA boundary the Gaussian smoothing
    gives exactly half-way; the curve rises monotonically across it."""
    phones = _phones(("P", 0.6), ("AA", 0.6), ("P", 0.6))
    times = np.arange(0.0, 1.8, 0.01)
    pred = predicted_aperture(phones, times)
    aa = VISEMES["aa"].aperture
    assert pred[np.searchsorted(times, 0.3)] == pytest.approx(0.0, abs=1e-3)
    assert pred[np.searchsorted(times, 0.9)] == pytest.approx(aa, abs=1e-3)
    at_edge = predicted_aperture(phones, np.array([0.6]))[0]
    assert at_edge == pytest.approx(aa / 2, abs=0.03)
    rise = pred[(times > 0.45) & (times < 0.75)]
    assert np.all(np.diff(rise) >= -1e-9) and rise[-1] - rise[0] > 0.8 * aa


def test_predicted_aperture_uses_the_speaker_table_and_lead() -> None:
    """With a speaker table the plateaus are the table's values; a lead shows the mouth
    earlier by exactly that time."""
    phones = _phones(("SIL", 0.5), ("OW", 0.5), ("S", 0.5), ("SIL", 0.5))
    table = np.linspace(0.05, 0.4, len(NAMES))
    times = np.array([0.25, 0.75, 1.25, 1.75])
    got = predicted_aperture(phones, times, table=table)
    want = [table[INDEX[n]] for n in ("sil", "oh", "SS", "sil")]
    assert got == pytest.approx(want, abs=1e-3)
    t = np.arange(0.3, 1.7, 0.02)
    early = predicted_aperture(phones, t, lead=0.1)
    assert early == pytest.approx(predicted_aperture(phones, t + 0.1, lead=0.0), abs=0.01)
    assert predicted_aperture(phones, np.zeros(0)).shape == (0,)
