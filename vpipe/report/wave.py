"""The sound a row's waveform figure draws, without decoding the row's whole output.

A row's sound is the recording's outside its slots, shifted by each elastic slot before
(speech/splice.py keeps the source's samples there; the AAC encode aside), so only the
slots need reading from the output. `row_sound` decodes the output over each slot (±
MARGIN: the crossfades and boundary snapping lie within 30 ms of it) and over its last
second (where the track ends), and fills the rest from the recording's samples, decoded
once for every row of the report (`Recording`). Decoding the whole output per row cost
0.38 s CPU at 122 s against 0.04 s at 6 s: the report grew with the recording's length.

Everything the row changed is drawn from the output itself: a window is decoded by a
decoder restarted PREROLL frames before it (its first frame lacks the previous frame's
overlap; every later one is the whole decode's, bit for bit: tests/e2e/test_review.py),
and samples are placed by their timestamps. Where the output does not follow the
recording (another rate or channel count, a narration over a still, a length that does
not add up) the whole output is decoded, as before.

Samples are the channels' mean at the track's own rate (no resampling: a restarted
resampler would not give the whole decode's samples)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MARGIN = 0.1  # seconds of output decoded on each side of a slot (fades 12 ms, snapping 15 ms)
TAIL = 1.0  # seconds decoded at the output's end: where its track ends, whatever the recording's length
PREROLL = 3  # frames a restarted decoder decodes before a window, and drops


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


def _windows(starts_ends: list[tuple[int, int]]) -> list[list[int]]:
    """Sorted, merged sample windows."""
    merged: list[list[int]] = []
    for a, b in sorted(starts_ends):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return merged


def _decode_from(container: Any, stream: Any, a: int, b: int | None, rate: int) -> tuple[np.ndarray, int] | None:
    """Samples [a, b) of the stream (to its end when b is None) decoded after a seek, and where
    they start; None when the seek did not land early enough for them to be exact."""
    import av

    start = stream.start_time or 0
    tb = stream.time_base
    target = max(0, a - PREROLL * 1024)
    container.seek(start + int(target / rate / tb), stream=stream, backward=True, any_frame=False)
    resampler = av.AudioResampler(format="fltp", layout=stream.codec_context.layout.name, rate=rate)
    parts: list[np.ndarray] = []
    first, exact_from = None, None
    for frame in container.decode(stream):
        if frame.pts is None:
            return None
        at = round((frame.pts - start) * tb * rate)
        if first is None:  # the restarted decoder's first frame is exact only at the track's start
            first, exact_from = at, at if at == 0 else at + frame.samples
            if exact_from > a:
                return None
        for out in resampler.resample(frame):  # planar float at the same rate: per sample, no state
            parts.append(mono(out.to_ndarray()))
        if b is not None and at + frame.samples >= b:
            break
    else:
        parts += [mono(out.to_ndarray()) for out in resampler.resample(None)]
    if first is None:
        return None
    got = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    lo = a - first
    hi = len(got) if b is None else b - first
    if lo < 0 or hi > len(got):
        return None
    return got[lo:hi], a


def row_sound(output: Path, recording: Recording | None, slots: Sequence[dict[str, Any]]) -> tuple[np.ndarray, int]:
    """The output's mono samples and rate as the figure draws them: decoded from the output over
    the slots and its end, the recording's (shifted) elsewhere; the whole decode where that
    does not apply."""
    sound = None
    if recording is not None and _follows_recording(slots):
        sound = _spliced(output, recording, slots)
    return sound if sound is not None else whole_sound(output)


def _spliced(output: Path, recording: Recording, slots: Sequence[dict[str, Any]]) -> tuple[np.ndarray, int] | None:
    """`row_sound`'s fast path; None where the output does not follow the recording."""
    from vpipe.media.decode import _open

    rate = recording.rate
    shifts = _shifts(slots)
    if shifts is None:
        return None
    margin = round(MARGIN * rate)
    with _open(output) as container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        ctx = stream.codec_context
        if ctx.sample_rate != rate or ctx.channels != recording.channels or stream.time_base is None:
            return None
        # the end: from the recording's length and the slots' shifts, checked against the output's own
        expected = len(recording.samples) + shifts[-1]
        tail = _decode_from(container, stream, max(0, expected - round(TAIL * rate)), None, rate)
        if tail is None:
            return None
        n = tail[1] + len(tail[0])
        if abs(n - expected) > round(TAIL * rate) // 2:
            return None  # the output's length does not add up: not the recording's sound
        spans = [
            (max(0, round(float(s["start"]) * rate) - margin), round(float(s["end"]) * rate) + margin) for s in slots
        ]
        windows = _windows([(a, min(b, tail[1])) for a, b in spans if a < tail[1]])
        decoded = [_decode_from(container, stream, a, b, rate) for a, b in windows]
    if any(d is None for d in decoded):
        return None
    out = np.empty(n, np.float32)
    filled = 0
    for part in [*decoded, tail]:
        assert part is not None
        samples, a = part
        if not _fill(out, filled, a, recording.samples, slots, shifts, rate):
            return None
        out[a : a + len(samples)] = samples
        filled = a + len(samples)
    return out, rate


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
