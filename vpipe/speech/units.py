"""Speaker-own units: the recording as a library of the speaker's phones, for the new words.

`retrieve` re-animates a slot with the speaker's own mouths; this does the same for the
voice. The source is analysed once with WORLD (CheapTrick envelope, D4C aperiodicity, at
5 ms) and cut by its forced alignment into phones. A new word's phones (the synthesizer's
timing, fitted to the slot) are matched to the library's phones of the same label by a
Viterbi search (unit selection as in concatenative synthesis): the same neighbours score
better, units that follow each other in the recording join for free (a real diphone),
others pay the spectral jump at the join, a unit far from the target's length or pitch pays
too. A phone the recording lacks may borrow a close sound (SUBSTITUTES: the voicing partner
of a consonant, a neighbouring vowel) at the cost of a join. The chosen units lend their
envelopes, aperiodicities and F0, time-mapped onto the new phone; with `retime`, each run of
consecutive units shares its run's span in proportion to the units' recorded lengths (the
speaker's rhythm; the word keeps its length) and takes the units' own voicing. For the
phones no unit covers, the word's own frames (already moved towards the speaker by
`voice_match`) move towards the mean of the speaker's frames nearest in mel-cepstrum of the
same broad class (`fill`). Joins between units that were not neighbours are smoothed over a
few frames in the log-spectral domain, and log-F0 over 25 ms.

The kernel plays the chosen units from the recording's waveform (`vpipe.speech.concat`,
TD-PSOLA) over the spans and frames described here; the WORLD rendering below fills the
phones no unit covers and sets the level.

The speaker's sounds can turn a word into another (a full fill of a vowel the speaker never
says made "reserve" heard as "bank"), so the kernel (speech.match_voice) keeps a rendering
only when QC's heard check still hears the new word, and says which it kept.

Measured with resemblyzer on the word with 0.75 s either side (QC's window), medians over
the 6 values of each tuning clip (interview / glasses / studio; `python
benchmarks/voice_identity.py`, QC on the written files): pitch/envelope matching alone 0.870 /
0.730 / 0.785; last stop's units (same phones, half fill, the synthesizer's timing) 0.873 /
0.791 / 0.886; with borrowed sounds, the units' rhythm, a 0.75 fill and the guard 0.884 /
0.813 / 0.890; the units played from the recording by TD-PSOLA (`speech.concat`) with a
middle guard level 0.891 / 0.836 / 0.891. A development check (not a benchmark): a real
stretch of the glasses woman's own speech (another of her words, time-fitted into the slot
the same way) scores 0.78-0.87 there (median over the rows, by stretch), so the measure on a
2 s window depends on what is said, and the units are near what her 4.9 s recording gives.
Within noise (±0.01) or worse, and not kept: the recorded word's F0 contour transplanted, F0
bridged across filled frames, one nearest frame instead of four, the fill's aperiodicity,
per-phone levels, frames interpolated instead of the nearest taken, a higher join or context
cost; with TD-PSOLA: log-F0 smoothed over 50 or 100 ms instead of 25 (glasses -0.01), the
word moved to the recorded word's pitch (-0.01), the synthesizer's timing at the first level
(interview +0.006, glasses -0.012), the filled phones played frame by frame from the
recording (supervision 0.81 -> 0.71); room tone under the units lost 0.01 on glasses (they carry the room).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from vpipe.data.alignment import Segment
from vpipe.data.codec import cacheable
from vpipe.data.memo import derived
from vpipe.speech.phone_classes import CLASSES, SUBSTITUTES, VOWELS
from vpipe.speech.pitch import ANALYSIS_RATE, f0_track, resample
from vpipe.speech.profile import pyworld

FRAME_S = 0.005  # as voice matching's WORLD frames
MIN_UNIT_S = 0.03  # shorter aligned phones are alignment slivers, not sounds
RAMP_FRAMES = 3  # cross-fade half-width (frames) at a unit's edges
F0_SMOOTH_FRAMES = 5  # log-F0 moving average (25 ms) over each voiced stretch of the word
_CONTEXT_COST = 0.5  # per neighbour whose label differs
_JOIN_COST = 1.0  # a join between units that were not neighbours in the recording
_JOIN_SPECTRAL = 0.05  # per dB of mean log-envelope jump at a join
_LENGTH_COST = 0.7  # per unit of |log(duration ratio)|
_PITCH_COST = 0.7  # per unit of |log(F0 ratio)|
CEPSTRA = 20
KNN = 4  # speaker frames averaged for a synthetic frame the units do not cover
FILL = 0.5  # weight of the speaker's nearest frames over the synthetic envelope there
_FILL_FLOOR_DB = 30.0  # library frames this far below the loudest are not fill candidates
_SUBST_COST = 1.0  # a borrowed sound: as costly as one join
# Bytes of one block's temporary in the join and fill searches (join_jump, nearest): their
# whole arrays grow with the library (at 122 s a label's join was ~130 MB); 8 MB keeps a
# block's rows many enough that the per-block overhead does not show.
BLOCK_BYTES = 8 << 20


@cacheable("UnitLibrary")
@dataclass(frozen=True)
class UnitLibrary:
    """WORLD parameters of the whole source at ANALYSIS_RATE, FRAME_S hops, and its phones."""

    log_sp: np.ndarray  # float16 frames × 513: natural log of the CheapTrick power envelope
    ap: np.ndarray  # float16 frames × 513: D4C aperiodicity
    f0: np.ndarray  # float32 per frame, Hz (0 where aperiodic)
    labels: tuple[str, ...]  # the aligned phones in time order, "SIL" included
    starts: np.ndarray  # float64 seconds
    ends: np.ndarray
    features: np.ndarray  # float32 frames × CEPSTRA: mel-cepstrum of log_sp without c0 (level-free)
    speech: np.ndarray  # int frame indices inside non-silent phones (the kNN fill's candidates)

    def frame(self, t: float) -> int:
        return int(np.clip(round(t / FRAME_S), 0, len(self.log_sp) - 1))


def build_library(mono: np.ndarray, rate: int, phones: Sequence[Segment]) -> UnitLibrary:
    """Analyse the source speech once (shared work, ~0.3 s CPU per source second).

    WORLD's float64 (frames × 513) arrays are 100 MB each at 122 s: the envelope is turned
    into its log in place and dropped once its float16, its cepstra and its energy are taken,
    the energy is summed a block of frames at a time, and the aperiodicity is analysed only
    then, so no more than two of them are alive at once (five were, 770 MB at 122 s). The
    same operations on the same values: the library is equal to the bit
    (tests/speech/test_units_blocks.py keeps the whole-array form to compare)."""
    pw = pyworld()
    y = np.ascontiguousarray(resample(np.asarray(mono, np.float64), rate, ANALYSIS_RATE), dtype=np.float64)
    track = f0_track(y, ANALYSIS_RATE, hop_s=FRAME_S, voicing=-1.0)
    f0 = np.ascontiguousarray(np.where(track.voiced, track.f0, 0.0))
    times = np.ascontiguousarray(track.times)
    log_sp = pw.cheaptrick(y, f0, times, ANALYSIS_RATE)
    np.log(np.maximum(log_sp, 1e-30, out=log_sp), out=log_sp)
    step = _row_blocks(len(log_sp), log_sp.shape[1] * log_sp.itemsize)
    energy = np.concatenate([_log_energy(log_sp[a : a + step.step]) for a in step]) if len(log_sp) else np.zeros(0)
    features, log_sp16, frames = cepstra(log_sp).astype(np.float32), log_sp.astype(np.float16), len(log_sp)
    del log_sp
    ap = pw.d4c(y, f0, times, ANALYSIS_RATE).astype(np.float16)
    periodic = np.where(track.strength >= 0.5, f0, 0.0)
    inside = np.zeros(frames, bool)
    for p in phones:
        if p.label != "SIL":
            inside[int(p.start / FRAME_S) : int(np.ceil(p.end / FRAME_S))] = True
    inside[:frames] &= energy > energy.max() - _FILL_FLOOR_DB / (10 / np.log(10))
    return UnitLibrary(
        log_sp16,
        ap,
        periodic.astype(np.float32),
        tuple(p.label for p in phones),
        np.array([p.start for p in phones], np.float64),
        np.array([p.end for p in phones], np.float64),
        features,
        np.flatnonzero(inside[:frames]),
    )


def cepstra(log_sp: np.ndarray) -> np.ndarray:
    """Mel-cepstra (c1…c{CEPSTRA}) of log power envelopes on ENV grid: the envelope's shape,
    not its level."""
    return log_sp @ _mel_dct(log_sp.shape[1])


@dataclass(frozen=True)
class Choice:
    target: Segment  # the new phone, seconds in the word's audio
    unit: int | None  # index into the library's phones, or None: the synthesizer's own


def _label(lib: UnitLibrary, i: int) -> str:
    return lib.labels[i] if 0 <= i < len(lib.labels) else "SIL"


def _unit_f0(lib: UnitLibrary, i: int) -> float:
    a, b = lib.frame(lib.starts[i]), lib.frame(lib.ends[i])
    f = lib.f0[a : b + 1]
    f = f[f > 0]
    return float(np.median(f)) if len(f) else 0.0


@dataclass(frozen=True)
class _Index:
    """What the search and the fill read of each library phone and frame, gathered once per
    library and process (`data.memo.derived`): read phone by phone for every row, it made a
    row's search cost grow with the recording (the candidates were found by scanning every
    label). Each field is the function it replaces, applied to every phone (frame), so the
    search reads the same numbers (tests/speech/test_units_index.py)."""

    by_label: dict[str, tuple[int, ...]]  # _candidates: label → its phones long enough to be units, in order
    f0: np.ndarray  # float64 per phone: _unit_f0
    ends: np.ndarray  # float32 phones × bins: the spectral envelope of each phone's last frame
    starts: np.ndarray  # float32 phones × bins: that of its first frame
    classes: np.ndarray  # int8 per frame: _frame_classes


def _index(lib: UnitLibrary) -> _Index:
    return derived(lib, "unit_index", lambda: _gather(lib))


def _gather(lib: UnitLibrary) -> _Index:
    by_label: dict[str, list[int]] = {}
    for i, lab in enumerate(lib.labels):
        if lib.ends[i] - lib.starts[i] >= MIN_UNIT_S:
            by_label.setdefault(lab, []).append(i)
    n = len(lib.labels)
    ends = lib.log_sp[[lib.frame(lib.ends[i] - FRAME_S) for i in range(n)]].astype(np.float32)
    starts = lib.log_sp[[lib.frame(lib.starts[i]) for i in range(n)]].astype(np.float32)
    out = _Index(
        {lab: tuple(ids) for lab, ids in by_label.items()},
        np.array([_unit_f0(lib, i) for i in range(n)], np.float64),
        ends,
        starts,
        _frame_classes(lib),
    )
    for array in (out.f0, out.ends, out.starts, out.classes):  # shared by every row that reads them
        array.flags.writeable = False
    return out


def select(
    lib: UnitLibrary, phones: Sequence[Segment], target_f0: float = 0.0, substitute: bool = True
) -> list[Choice]:
    """The speaker's phones for `phones` (new word, in order): a Viterbi search over every
    library phone of the same label (target: neighbours, length, pitch; join: recording
    neighbours free, else a fixed cost plus the envelope jump). Phones without a candidate
    are the synthesizer's (None), which also breaks the chain of joins."""
    cands = [_candidates(lib, p.label) for p in phones]
    if substitute:  # a phone the recording lacks borrows a close sound (SUBSTITUTES) when it has one
        cands = [
            c or [i for s in SUBSTITUTES.get(p.label, ()) for i in _candidates(lib, s)]
            for c, p in zip(cands, phones, strict=True)
        ]
    picks: list[int | None] = [None] * len(phones)
    k = 0
    while k < len(phones):
        if not cands[k]:
            k += 1
            continue
        run = [k]
        while run[-1] + 1 < len(phones) and cands[run[-1] + 1]:
            run.append(run[-1] + 1)
        for m, u in zip(run, _viterbi(lib, phones, cands, run, target_f0), strict=True):
            picks[m] = u
        k = run[-1] + 1
    return [Choice(p, u) for p, u in zip(phones, picks, strict=True)]


def _candidates(lib: UnitLibrary, label: str) -> list[int]:
    return list(_index(lib).by_label.get(label, ()))


def _viterbi(
    lib: UnitLibrary, phones: Sequence[Segment], cands: list[list[int]], run: list[int], target_f0: float
) -> list[int]:
    cost = np.zeros(0)
    back: list[np.ndarray] = []
    index = _index(lib)
    for n, k in enumerate(run):
        left = phones[k - 1].label if k > 0 else None
        right = phones[k + 1].label if k + 1 < len(phones) else None
        cs = cands[k]
        tcost = np.array([_target_cost(lib, i, phones[k], left, right, target_f0, index.f0) for i in cs])
        if n == 0:
            cost = tcost
            continue
        pick, reached = _best_joins(cost, np.array(cands[run[n - 1]]), np.array(cs), index)
        back.append(pick)
        cost = reached + tcost
    j = int(np.argmin(cost))
    path = [j]
    for bp in reversed(back):
        j = int(bp[j])
        path.append(j)
    path.reverse()
    return [cands[k][j] for k, j in zip(run, path, strict=True)]


def _best_joins(cost: np.ndarray, prev: np.ndarray, cur: np.ndarray, index: _Index) -> tuple[np.ndarray, np.ndarray]:
    """For each unit of `cur`, the predecessor (position in `prev`, whose path costs are
    `cost`) minimising path cost + join, and that sum: the whole (prev, cur) table's argmin
    and min, ties to the first, without scoring every pair. Every join costs at least
    _JOIN_COST but a recording neighbour's (free), so a predecessor whose cost + _JOIN_COST
    exceeds what the cheapest predecessor reaches at every unit wins no unit (its sums are
    larger, not equal) unless it is a unit's neighbour: only the others' joins are computed
    (the library's phones come back at every repeat of a long recording; most cannot win)."""
    free = prev[:, None] + 1 == cur[None, :]  # neighbours in the recording
    rows = np.arange(len(prev))
    first = int(np.argmin(cost))
    reach = cost[first] + _joins(index.ends[prev[[first]]], index.starts[cur])[0]  # ≥ each unit's least sum
    if np.isfinite(cost).all() and np.isfinite(reach).all():
        rows = np.flatnonzero((cost + _JOIN_COST <= reach.max()) | free.any(axis=1))
    join = _joins(index.ends[prev[rows]], index.starts[cur])
    join[free[rows]] = 0.0
    total = cost[rows, None] + join
    pick = np.argmin(total, axis=0)
    return rows[pick], total[pick, np.arange(len(cur))]


def _joins(ends: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The join cost of every (end, start) pair of unit edges when they were not neighbours."""
    return _JOIN_COST + _JOIN_SPECTRAL * (join_jump(ends, starts) * (10 / np.log(10)))  # the jump in dB


def _row_blocks(rows: int, row_bytes: int) -> range:
    """Starts of blocks of rows whose temporary holds about BLOCK_BYTES (one row at least)."""
    return range(0, rows, max(1, BLOCK_BYTES // max(row_bytes, 1)))


def join_jump(ends: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Mean |ends[i] - starts[j]| over the envelope's bins, for every pair (i, j): the join's
    spectral jump, natural-log units. Computed a block of `ends` rows at a time, so the
    (rows, len(starts), bins) difference never spans the whole library's candidates (it
    grows with the square of the recording's length). Each output row is reduced over its
    own contiguous bins in both forms, so the blocks give the whole array's numbers to the
    bit (tests/speech/test_units_blocks.py checks it on a real library)."""
    step = _row_blocks(len(ends), starts.size * starts.itemsize)
    parts = [np.abs(ends[a : a + step.step, None, :] - starts[None, :, :]).mean(axis=2) for a in step]
    return np.concatenate(parts) if parts else np.abs(ends[:, None, :] - starts[None, :, :]).mean(axis=2)


def nearest(points: np.ndarray, bank: np.ndarray, k: int) -> np.ndarray:
    """For each row of `points`, the indices into `bank` of its `k` nearest rows (squared
    Euclidean distance, in argpartition's order). A block of `points` at a time: the
    (rows, len(bank), dims) differences of all of them at once grow with the recording; each
    row's distances and partition are its own, so the blocks give the same indices."""
    dtype = np.result_type(points, bank)
    step = _row_blocks(len(points), bank.size * dtype.itemsize)
    parts = []
    for a in step:
        dist = ((points[a : a + step.step, None, :] - bank[None, :, :]) ** 2).sum(axis=2)
        parts.append(np.argpartition(dist, k - 1, axis=1)[:, :k])
    return np.concatenate(parts) if parts else np.zeros((0, k), np.intp)


def _target_cost(
    lib: UnitLibrary, i: int, p: Segment, left: str | None, right: str | None, target_f0: float, f0: np.ndarray
) -> float:
    c = 0.0 if lib.labels[i] == p.label else _SUBST_COST
    if left is not None and _label(lib, i - 1) != left:
        c += _CONTEXT_COST
    if right is not None and _label(lib, i + 1) != right:
        c += _CONTEXT_COST
    dur = lib.ends[i] - lib.starts[i]
    c += _LENGTH_COST * abs(np.log(max(dur, 1e-3) / max(p.duration, 1e-3)))
    uf = float(f0[i]) if p.label in VOWELS else 0.0  # f0: _unit_f0 of every phone
    if target_f0 > 0 and uf > 0:
        c += _PITCH_COST * abs(np.log(uf / target_f0))
    return c


def envelope_hook(
    lib: UnitLibrary,
    choices: Sequence[Choice],
    offset: float,
    fill: float = FILL,
    replaced: tuple[float, float] | None = None,
    retime: bool = True,
) -> Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """A function (frame times, log envelope, aperiodicity, F0 of the synthetic word at
    ANALYSIS_RATE, after pitch and timbre matching) → the same with the speaker's frames in.
    `offset`: seconds from the start of the analysed audio to the word (the phones' zero).

    A chosen unit lends its frames (time-mapped onto the new phone), its aperiodicity and,
    where both are voiced, its F0; frames of the word no unit covers take the mean of the
    KNN library frames nearest by mel-cepstrum (the envelope's shape), at the synthetic
    frame's level, weighted `fill`. All of it is then set to the synthetic word's mean level
    (the units keep the recording's relative levels; loudness is matched afterwards)."""

    def apply(
        times: np.ndarray, log_sp: np.ndarray, ap: np.ndarray, f0: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if log_sp.shape[1] != lib.log_sp.shape[1] or not choices:  # another analysis grid (a voice at another rate)
            return log_sp, ap, f0
        new_sp, new_ap, new_f0 = log_sp.copy(), ap.copy(), f0.copy()
        weight = np.zeros(len(times))
        breaks: list[int] = []
        prev: int | None = None
        spans = retimed(lib, choices) if retime else [(c.target.start, c.target.end) for c in choices]
        for c, (ta, tb) in zip(choices, spans, strict=True):
            a, b = offset + ta, offset + tb
            inside = np.flatnonzero((times >= a) & (times < b))
            if c.unit is None or len(inside) == 0:
                prev = None
                continue
            s, e = lib.starts[c.unit], lib.ends[c.unit]
            src = np.round((s + (times[inside] - a) / max(b - a, 1e-6) * (e - s)) / FRAME_S).astype(int)
            idx = np.clip(src, 0, len(lib.log_sp) - 1)
            new_sp[inside] = lib.log_sp[idx]
            new_ap[inside] = lib.ap[idx]
            unit_f0 = lib.f0[idx].astype(np.float64)
            if retime:  # the unit's own voicing: the synthesizer's no longer lines up with it
                new_f0[inside] = np.where(unit_f0 > 0, unit_f0, 0.0)
            else:
                voiced = (unit_f0 > 0) & (f0[inside] > 0)
                new_f0[inside[voiced]] = unit_f0[voiced]
            weight[inside] = 1.0
            if prev is not None and prev + 1 != c.unit:
                breaks.append(int(inside[0]))
            prev = c.unit
        if fill > 0:
            classes = _index(lib).classes
            if replaced is not None:  # never fill from the word being replaced: it would be heard
                classes = classes.copy()
                classes[lib.frame(replaced[0]) : lib.frame(replaced[1]) + 1] = -1
            for c in choices:  # phones no unit covers: the speaker's nearest frames of the same class
                a, b = offset + c.target.start, offset + c.target.end
                todo = np.flatnonzero((weight == 0) & (times >= a) & (times < b))
                bank = lib.speech[classes[lib.speech] == CLASSES.get(c.target.label, -1)]
                if len(todo) == 0 or len(bank) < KNN:
                    continue
                near = bank[nearest(cepstra(log_sp[todo]), lib.features[bank], KNN)]
                frames = lib.log_sp[near].astype(np.float64).mean(axis=1)
                new_sp[todo] = frames + (_log_energy(log_sp[todo]) - _log_energy(frames))[:, None]
                weight[todo] = fill
        if not weight.any():
            return log_sp, ap, f0
        own = weight > 0
        new_f0 = smooth_f0(new_f0, F0_SMOOTH_FRAMES)  # units from far apart: no pitch step at their joins
        new_sp[own] += np.mean(_log_energy(log_sp[own])) - np.mean(_log_energy(new_sp[own]))
        for f in breaks:  # a join of units that were not neighbours: smooth it over a few frames
            lo, hi = max(0, f - RAMP_FRAMES), min(len(times), f + RAMP_FRAMES)
            new_sp[lo:hi] = np.mean(new_sp[lo:hi], axis=0) * 0.5 + new_sp[lo:hi] * 0.5
        ramp = np.bartlett(2 * RAMP_FRAMES + 3)[1:-1]
        w = np.convolve(weight, ramp / ramp.sum(), mode="same")[:, None]
        out_sp = w * new_sp + (1 - w) * log_sp
        out_ap = np.clip(w * new_ap + (1 - w) * ap, 0.0, 1.0)
        return np.ascontiguousarray(out_sp), np.ascontiguousarray(out_ap), new_f0

    return apply


def smooth_f0(f0: np.ndarray, width: int) -> np.ndarray:
    """Moving average of log F0 over each voiced stretch (unvoiced frames stay 0)."""
    out = f0.copy()
    voiced = f0 > 0
    edges = np.flatnonzero(np.diff(np.concatenate([[0], voiced.astype(int), [0]])))
    kernel = np.ones(width) / width
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        seg = np.log(f0[a:b])
        padded = np.pad(seg, (width // 2, width - 1 - width // 2), mode="edge")
        out[a:b] = np.exp(np.convolve(padded, kernel, mode="valid"))
    return out


def retimed(lib: UnitLibrary, choices: Sequence[Choice]) -> list[tuple[float, float]]:
    """Phone spans (seconds from the word start) where each run of consecutive own units
    shares its run's span in proportion to the units' recorded lengths (the speaker's
    rhythm); a phone the synthesizer keeps keeps its own span."""
    out = [(c.target.start, c.target.end) for c in choices]
    k = 0
    while k < len(choices):
        if choices[k].unit is None:
            k += 1
            continue
        m = k
        while m + 1 < len(choices) and choices[m + 1].unit is not None:
            m += 1
        lengths = np.array([lib.ends[c.unit] - lib.starts[c.unit] for c in choices[k : m + 1] if c.unit is not None])
        a, b = choices[k].target.start, choices[m].target.end
        edges = a + np.concatenate([[0.0], np.cumsum(lengths)]) * (b - a) / max(float(lengths.sum()), 1e-9)
        out[k : m + 1] = [(float(edges[j]), float(edges[j + 1])) for j in range(len(lengths))]
        k = m + 1
    return out


def _frame_classes(lib: UnitLibrary) -> np.ndarray:
    """The broad phone class (CLASSES; -1 for silence) of every library frame."""
    out = np.full(len(lib.log_sp), -1, np.int8)
    for label, a, b in zip(lib.labels, lib.starts, lib.ends, strict=True):
        out[lib.frame(a) : lib.frame(b)] = CLASSES.get(label, -1)
    return out


@functools.cache
def _mel_dct(bins: int) -> np.ndarray:
    """bins → CEPSTRA matrix: the log envelope sampled at 40 mel-spaced points (100 Hz…8 kHz),
    then DCT-II rows 1…CEPSTRA."""
    freqs = np.linspace(0, ANALYSIS_RATE / 2, bins)
    mel = np.linspace(2595 * np.log10(1 + 100 / 700), 2595 * np.log10(1 + 8000 / 700), 40)
    points = 700 * (10 ** (mel / 2595) - 1)
    interp = np.zeros((bins, len(points)))
    for j, f in enumerate(points):
        k = int(np.searchsorted(freqs, f)) - 1
        a = (f - freqs[k]) / (freqs[k + 1] - freqs[k])
        interp[k, j], interp[k + 1, j] = 1 - a, a
    n = np.arange(len(points))
    dct = np.cos(np.pi * np.outer(n + 0.5, np.arange(1, CEPSTRA + 1)) / len(points)) * np.sqrt(2 / len(points))
    return interp @ dct


def _log_energy(log_sp: np.ndarray) -> np.ndarray:
    m = np.max(log_sp, axis=1, keepdims=True)
    return (m + np.log(np.sum(np.exp(log_sp - m), axis=1, keepdims=True)))[:, 0]


def coverage(choices: Sequence[Choice]) -> float:
    """Share of the new word's duration taken from the speaker."""
    total = sum(c.target.duration for c in choices)
    own = sum(c.target.duration for c in choices if c.unit is not None)
    return own / total if total > 0 else 0.0


__all__ = [
    "Choice",
    "UnitLibrary",
    "build_library",
    "coverage",
    "envelope_hook",
    "join_jump",
    "nearest",
    "select",
    "smooth_f0",
]
