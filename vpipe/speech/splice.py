"""Splice new words into a source track.

Outside the slots the source samples are kept exactly (same rate, same channels). Each
boundary moves to the quietest point within ±15 ms of the aligner's word boundary, and the
crossfades lie in the gaps beside the word (the source's tail fading out before it, the
new word's own lead-in fading in), so no fricative or plosive onset is ever cut through.
The new word gets the loudness of the speech within a second around the recorded word.

`shift_multiple` (set by the splice-aac pass): an elastic word is time-stretched by at most
half that many samples, longer or shorter, so the timeline after every slot moves by a
multiple of it (1024: AAC's block, so the rest of the row is the recording's AAC packets as
they are, one shared encode for every row). At 44.1 kHz that is at most ±11.6 ms on the
word (±3 % on a 0.4 s word; a fitted word is stretched by up to the recipe's max_stretch).
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from vpipe.data.alignment import Segment
from vpipe.data.audio import Audio
from vpipe.data.media import TimelineEdit, Track
from vpipe.data.speech import SlotClip
from vpipe.speech.loudness import speech_loudness
from vpipe.speech.stretch import wsola

SNAP = 0.015  # seconds the boundary may move to find a quiet point
FADE = 0.012  # crossfade length at each boundary
CONTEXT_LOUDNESS = 1.0  # seconds of source speech on each side that set the loudness target
MAX_GAIN_DB = 18.0


def resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    if rate_in == rate_out:
        return x.astype(np.float32)
    r = Fraction(rate_out, rate_in)
    from vpipe.speech.resample import resample_poly  # scipy's, in numpy: scipy.signal costs ~1.2 s to import

    return resample_poly(x.astype(np.float64), r.numerator, r.denominator).astype(np.float32)


def quietest(mono: np.ndarray | MonoMix, rate: int, t: float, window: float = SNAP) -> float:
    """The time within ±window of t where 5 ms energy is lowest."""
    hop = max(1, int(0.001 * rate))
    width = max(hop, int(0.005 * rate))
    lo, hi = max(0, int((t - window) * rate)), min(len(mono) - width, int((t + window) * rate))
    if hi <= lo:
        return t
    starts = np.arange(lo, hi + 1, hop)
    near = np.asarray(mono[lo : hi + width])  # read once (a `MonoMix` mixes only these samples)
    energy = np.array([float(np.dot(near[s - lo : s - lo + width], near[s - lo : s - lo + width])) for s in starts])
    # prefer the centre when energies tie (flat silence): add a small distance penalty
    penalty = np.abs(starts + width / 2 - t * rate) / (window * rate) * (energy.min() + 1e-9) * 0.1
    best = starts[int(np.argmin(energy + penalty))]
    return (best + width / 2) / rate


class MonoMix:
    """`Audio.mono()` of a recording, mixed only where it is sliced: a row reads ±15 ms around
    each boundary and a second around each word, and mixing the whole recording per row cost
    ~0.1 s CPU at two minutes. Each sample is the same mean as `Audio.mono()`'s (the mean
    across channels is taken per sample, whatever the slice)."""

    def __init__(self, audio: Audio) -> None:
        self.samples = audio.samples

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, part: slice) -> np.ndarray:
        return self.samples[part].mean(axis=1).astype(np.float32)


def _equal_power(n: int) -> tuple[np.ndarray, np.ndarray]:
    x = (np.arange(n) + 0.5) / n
    return np.cos(x * np.pi / 2).astype(np.float32), np.sin(x * np.pi / 2).astype(np.float32)


def surrounding_loudness(mono: np.ndarray | MonoMix, rate: int, s0: float, s1: float) -> float:
    """Speech loudness within CONTEXT_LOUDNESS before s0 and after s1 (the word itself excluded):
    the reference QC measures a new word against."""
    before = mono[max(0, int((s0 - CONTEXT_LOUDNESS) * rate)) : max(0, int(s0 * rate))]
    after = mono[int(s1 * rate) : int((s1 + CONTEXT_LOUDNESS) * rate)]
    return speech_loudness(np.concatenate([before, after]), rate)


def loudness_gain(word: np.ndarray, rate: int, target: float) -> float:
    current = speech_loudness(word, rate)
    if not (np.isfinite(target) and np.isfinite(current)):
        return 1.0
    return float(10 ** (np.clip(target - current, -MAX_GAIN_DB, MAX_GAIN_DB) / 20))


@dataclass
class _Cut:
    """One clip prepared for splicing: where it goes, and its (gain-matched) audio parts."""

    clip: SlotClip
    s0: float  # source boundaries after snapping (seconds)
    s1: float
    i0: int  # the same in samples
    i1: int
    body: np.ndarray  # the new word
    head: np.ndarray  # FADE samples of its lead-in
    tail: np.ndarray  # FADE samples after it
    target_lufs: float  # loudness of the speech around the recorded word
    joined: bool = False  # the next slot starts within two crossfades: crossfade straight into it


def _prepare(source: Audio, clips: list[SlotClip], fade: int, shift_multiple: int = 1) -> list[_Cut]:
    rate, mono = source.rate, MonoMix(source)
    cuts = []
    for clip in sorted(clips, key=lambda c: c.source_start):
        s0 = quietest(mono, rate, clip.source_start)
        s1 = quietest(mono, rate, clip.source_end)
        new = resample(clip.audio, clip.rate, rate)
        lead = round(clip.lead * rate)
        word_end = min(len(new), lead + round(clip.duration * rate))
        body = new[lead:word_end]
        head = new[max(0, lead - fade) : lead]
        head = np.pad(head, (fade - len(head), 0))  # the clip had less lead-in than a fade: silence
        tail = new[word_end : word_end + fade]
        tail = np.pad(tail, (0, fade - len(tail)))
        target = surrounding_loudness(mono, rate, s0, s1)
        cuts.append(_Cut(clip, s0, s1, round(s0 * rate), round(s1 * rate), body, head, tail, target))
    # Neighbouring slots (a first and a last name) may meet closer than two crossfades: the
    # recorded gap between them then belongs to the first edit, and its new word crossfades
    # into the next new word — source audio of the second recorded word must not leak between.
    for a, b in itertools.pairwise(cuts):
        if b.i0 - a.i1 < 2 * fade:
            a.joined, a.i1 = True, max(b.i0, a.i0 + fade + 1)
            a.s1 = a.i1 / rate
    for cut in cuts:
        join = fade if cut.joined else 0  # output samples of the join, charged to this edit
        if cut.clip.fitted and len(cut.body) != cut.i1 - cut.i0 - join:  # snapping (or a join) moved the boundaries
            cut.body = wsola(cut.body, rate, max(1, cut.i1 - cut.i0 - join))
    _round_shifts(cuts, rate, fade, shift_multiple)
    for cut in cuts:
        # the gain is measured on the word as it will sound (after any stretching)
        gain = loudness_gain(cut.body, rate, cut.target_lufs)
        cut.body, cut.head, cut.tail = cut.body * gain, cut.head * gain, cut.tail * gain
    return cuts


def _round_shifts(cuts: list[_Cut], rate: int, fade: int, multiple: int) -> None:
    """Stretch each elastic word by the fewest samples (at most multiple / 2, either way) that
    make the total shift after it a multiple of `multiple`."""
    shift = 0
    for cut in cuts:
        join = fade if cut.joined else 0
        change = len(cut.body) + join - (cut.i1 - cut.i0)
        if not cut.clip.fitted and multiple > 1:
            extra = (-(shift + change) + multiple // 2) % multiple - multiple // 2
            if extra and len(cut.body) + extra > 0:
                cut.body = wsola(cut.body, rate, len(cut.body) + extra).astype(np.float32)
                change += extra
        shift += change


def splice(
    source: Audio,
    clips: list[SlotClip],
    replaced: dict[str, str] | None = None,
    context: dict[str, tuple[tuple[Segment, ...], tuple[Segment, ...]]] | None = None,
    shift_multiple: int = 1,
) -> Track:
    """`replaced`: slot → the recorded words; `context`: slot → (words before, words after), in
    source time; both are carried into the edits for QC. `shift_multiple`: the timeline after
    each slot moves by a multiple of this many samples (elastic words stretched a little)."""
    rate = source.rate
    src = source.samples
    channels = src.shape[1]
    fade = max(2, int(FADE * rate))
    fade_out, fade_in = _equal_power(fade)
    cuts = _prepare(source, clips, fade, shift_multiple)
    pieces = _Pieces(src)
    edits: list[TimelineEdit] = []
    cursor = 0  # next source sample to copy
    shift = 0.0
    for k, cut in enumerate(cuts):
        clip, i0, i1 = cut.clip, cut.i0, cut.i1
        join = fade if cut.joined else 0  # output samples of the join, charged to this edit
        body = cut.body
        # untouched source, then the source's tail fading out under the new word's lead-in
        # (nothing when the previous slot already crossfaded into this one: cursor == i0)
        a = max(cursor, i0 - fade)
        pieces.recorded(cursor, a)
        n = i0 - a
        pieces.append(src[a:i0] * fade_out[fade - n :, None] + (cut.head[fade - n :] * fade_in[fade - n :])[:, None])
        pieces.append(np.repeat(body[:, None], channels, axis=1))
        if cut.joined:  # this word's tail into the next word's lead-in
            mixed = cut.tail * fade_out + cuts[k + 1].head * fade_in
            pieces.append(np.repeat(mixed[:, None], channels, axis=1))
            cursor = i1
        else:  # its tail fading out while the source resumes after the recorded word
            src_part = src[i1 : i1 + fade]
            if len(src_part) < fade:
                src_part = np.pad(src_part, ((0, fade - len(src_part)), (0, 0)))
            pieces.append((cut.tail * fade_out)[:, None] + src_part * fade_in[:, None])
            cursor = i1 + fade
        out_start = cut.s0 + shift
        body_len = len(body)
        scale = (body_len / rate) / max(clip.duration, 1e-9)  # snapping may have stretched the word a little
        phones = tuple(Segment(p.label, p.start * scale, p.end * scale) for p in clip.phones)
        before, after = (context or {}).get(clip.name, ((), ()))
        delta = (body_len + join) / rate - (cut.s1 - cut.s0)
        edits.append(
            TimelineEdit(
                clip.name,
                cut.s0,
                cut.s1,
                out_start,
                out_start + (body_len + join) / rate,
                clip.text,
                (replaced or {}).get(clip.name, ""),
                phones,
                tuple(Segment(w.label, w.start + shift, w.end + shift) for w in before),
                tuple(Segment(w.label, w.start + shift + delta, w.end + shift + delta) for w in after),
            )
        )
        shift += delta
    pieces.recorded(cursor, len(src))
    samples = pieces.joined()
    return Track(Audio(samples, rate, source.start), tuple(edits))


class _Pieces:
    """A row's track in pieces: stretches of the recording (views, by their sample range) and
    the new sound between them; joined into one array, or taken from the last join when that
    was made of the same pieces (`_LAST`)."""

    def __init__(self, src: np.ndarray) -> None:
        self.src, self.parts = src, []
        self.key = hashlib.blake2b(f"{src.shape}|{src.dtype.str}".encode(), digest_size=20)

    def append(self, part: np.ndarray) -> None:
        part = np.ascontiguousarray(part, np.float32)
        self.parts.append(part)
        self.key.update(f"|new {part.shape}|".encode())
        self.key.update(part.tobytes())

    def recorded(self, a: int, b: int) -> None:
        self.parts.append(self.src[a:b])
        self.key.update(f"|recorded {a} {b}".encode())

    def joined(self) -> np.ndarray:
        """The pieces joined (float32, contiguous). The voice guard splices the row's track to
        hear it as the row will sound, and the row's audio.splice then splices the very same
        pieces: the second takes the first's array (equal pieces, equal samples) instead of
        copying the whole recording again. Only the last join is kept, and it is dropped
        before a new one is made: never two whole-length tracks alive for this."""
        key = self.key.digest()
        if _LAST and _LAST[0][0] == key and _LAST[0][1] is self.src:
            return _LAST.pop()[2]
        _LAST.clear()
        # the source's untouched stretches are views: joined without a float32 copy of each first
        # (the track is the whole recording: two copies of it at once otherwise)
        samples = np.ascontiguousarray(np.concatenate([p.astype(np.float32, copy=False) for p in self.parts], axis=0))
        _LAST.append((key, self.src, samples))
        return samples


_LAST: list[tuple[bytes, np.ndarray, np.ndarray]] = []  # (the pieces' key, the recording, the join)
