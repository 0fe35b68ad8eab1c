"""The sound a row's waveform figure draws, without decoding the row's whole output.

A row's sound is the recording's outside its slots, shifted by each elastic slot before
(speech/splice.py keeps the source's samples there; the AAC encode aside), so only the
slots need reading from the output. `row_sound` decodes the output over each slot (±
MARGIN: the crossfades and boundary snapping lie within 30 ms of it) and over its last
second (where the track ends), and fills the rest from the recording's samples, decoded
once for every row of the report (`Recording`). Decoding the whole output per row cost
0.38 s CPU at 122 s against 0.04 s at 6 s: the report grew with the recording's length.

Everything the row changed is drawn from the output itself, read as QC reads a file's sound
around its edits (qc/excerpt.py `read_excerpt`: each window decoded from a seek point before
it and placed by its timestamps; the whole decode's samples up to the AAC decoder's noise
substitution: tests/e2e/test_review.py). Where the output does not follow the
recording (another rate or channel count, a narration over a still, a length that does
not add up) the whole output is decoded, as before.

Samples are the channels' mean at the track's own rate (no resampling: a restarted
resampler would not give the whole decode's samples)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MARGIN = 0.1  # seconds of output decoded on each side of a slot (fades 12 ms, snapping 15 ms)
TAIL = 1.0  # seconds decoded at the output's end: where its track ends, whatever the recording's length


@dataclass(frozen=True)
class Recording:
    """The source's sound as the figure draws it (mono, its own rate), decoded once per report."""

    samples: np.ndarray  # float32 (n,)
    rate: int
    channels: int


def mono(planar: np.ndarray) -> np.ndarray:
    """The channels' mean of planar float samples (channels, n), float32 (n,)."""
    planar = np.asarray(planar, np.float32)
    return planar[0].copy() if planar.shape[0] == 1 else planar.mean(axis=0, dtype=np.float32)


def _whole(path: Path) -> tuple[np.ndarray, int, int]:
    """The whole first audio track, mono (channels' mean) at its rate, and its channel count."""
    from vpipe.media.decode import DecodeError, iter_audio

    blocks, rate, channels = [], 0, 0
    for block, block_rate, _ in iter_audio(path):
        blocks.append(mono(block))
        rate, channels = block_rate, block.shape[0]
    if not blocks:
        raise DecodeError(f"the audio track of {path.name} is empty")
    return np.concatenate(blocks), rate, channels


def read_recording(path: Path | None) -> Recording | None:
    """The source's sound, or None when it has none (a still image, no audio track)."""
    from vpipe.media.decode import DecodeError

    if path is None:
        return None
    try:
        samples, rate, channels = _whole(path)
    except DecodeError:
        return None
    return Recording(samples, rate, channels)


def whole_sound(output: Path) -> tuple[np.ndarray, int]:
    """The output's whole track, decoded: what `row_sound` equals in the slots (and the
    figure's sound where the fast path does not apply)."""
    samples, rate, _ = _whole(output)
    return samples, rate


def _shifts(slots: Sequence[dict[str, Any]]) -> list[int] | None:
    """The recording's shift in output samples after each slot (0 before the first), as the
    row's QC recorded it from its track (kernels/qc.py); None for a record without it."""
    if not all(isinstance(s.get("shift_samples"), int) for s in slots):
        return None
    return [0] + [int(s["shift_samples"]) for s in slots]


def _follows_recording(slots: Sequence[dict[str, Any]]) -> bool:
    """Whether the row's sound is the recording's outside its slots: every slot replaces
    recorded words (a narration's one 'slot' is the whole track, from no recording)."""
    return bool(slots) and all(
        s.get("slot") and float(s["source_end"]) > float(s["source_start"]) and float(s["end"]) > float(s["start"])
        for s in slots
    )


def row_sound(output: Path, recording: Recording | None, slots: Sequence[dict[str, Any]]) -> tuple[np.ndarray, int]:
    """The output's mono samples and rate as the figure draws them: decoded from the output over
    the slots and its end, the recording's (shifted) elsewhere; the whole decode where that
    does not apply."""
    sound = None
    if recording is not None and _follows_recording(slots):
        sound = _spliced(output, recording, slots)
    return sound if sound is not None else whole_sound(output)


def _spliced(output: Path, recording: Recording, slots: Sequence[dict[str, Any]]) -> tuple[np.ndarray, int] | None:
    """`row_sound`'s fast path: the output over the slots and its end as QC reads a file's sound
    around its edits (qc/excerpt.py read_excerpt: seeks, placed by timestamps, the whole track
    decoded where they do not count samples), the recording elsewhere; None where the output
    does not follow the recording."""
    from vpipe.media.decode import DecodeError
    from vpipe.qc.excerpt import merged, read_excerpt

    rate = recording.rate
    shifts = _shifts(slots)
    if shifts is None:
        return None
    expected = len(recording.samples) + shifts[-1]  # the end, from the recording and the shifts
    end = expected / rate
    spans = [(float(s["start"]) - MARGIN, float(s["end"]) + MARGIN) for s in slots]
    spans.append((max(0.0, end - TAIL), end + TAIL))
    try:
        excerpt = read_excerpt(output, spans)
    except DecodeError:
        return None
    # a piece runs on to its last frame's end: keep only its span, the recording's samples follow
    stops = {int(a * rate): math.ceil(b * rate) for a, b in merged(spans)}
    if excerpt.rate != rate or any(p.shape[1] != recording.channels for _, p in excerpt.pieces):
        return None
    n = excerpt.total
    if n is None or abs(n - expected) > round(TAIL * rate) // 2:
        return None  # the output's length does not add up: not the recording's sound
    out = np.empty(n, np.float32)
    filled = 0
    for a, samples in excerpt.mono().pieces:
        if a not in stops or not _fill(out, filled, a, recording.samples, slots, shifts, rate):
            return None
        kept = samples[: min(stops[a], n) - a]
        out[a : a + len(kept)] = kept
        filled = a + len(kept)
    return (out, rate) if filled >= n else None


def _fill(
    out: np.ndarray, a: int, b: int, source: np.ndarray, slots: Sequence[dict[str, Any]], shifts: list[int], rate: int
) -> bool:
    """out[a:b] (between two decoded windows, so between two slots) from the recording, shifted
    by the slots before it; False when the recording does not cover it."""
    if b <= a:
        return True
    before = sum(1 for s in slots if round(float(s["end"]) * rate) <= a)
    shift = shifts[before]
    if a - shift < 0 or b - shift > len(source):
        return False
    out[a:b] = source[a - shift : b - shift]
    return True
