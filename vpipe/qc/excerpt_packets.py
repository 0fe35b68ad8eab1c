"""The sound QC will read from a row's file, made from the row's AAC packets before the file exists.

QC decodes the written file's sound only around the edits (`vpipe.qc.excerpt.read_excerpt`,
seeking): it decodes the first PROBE frames to check the timestamps, then each merged span
from the packet at or before PREROLL ahead of it, on one decoder. The decoded samples depend
on the packets and on that order, nothing else: the AAC decoder's perceptual-noise bands draw
from a random state that a seek does not reset (measured: a fresh decoder started at the seek
point is up to 5e-4 off where the file's decode went through the probe first). `excerpt_of`
replays exactly that sequence on the row's packets in memory (MP4: block j's packet at
(j - 1)·1024 samples, block 0 the priming one the edit list hides), so the voice guard can hear
what QC will hear. Equality with read_excerpt on written files is tested bit for bit; where it
did not hold, nothing would be wrong, only a heard check keyed by those samples not found
(vpipe.qc.heard_memo).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from vpipe.qc.excerpt import PREROLL, Excerpt, merged

BLOCK = 1024  # samples per AAC frame
PROBE = 3  # frames read_excerpt decodes from the start before seeking


def excerpt_of(
    payloads: Sequence[bytes], rate: int, layout: str, extradata: bytes, spans: Iterable[tuple[float, float]]
) -> Excerpt:
    """What `read_excerpt(file, spans)` returns for an MP4 whose audio track is `payloads`
    (one AAC packet per block, the priming block first) at `rate`, in `layout`, with the
    stream's `extradata`."""
    import av

    decoder = av.CodecContext.create("aac", "r")
    decoder.extradata, decoder.sample_rate, decoder.layout = extradata, rate, layout
    tb = Fraction(1, rate)

    def frames(j: int) -> list[Any]:
        packet = av.Packet(payloads[j])
        packet.pts = packet.dts = (j - 1) * BLOCK
        packet.time_base = tb
        return list(decoder.decode(packet))

    decoded, j = 0, 0
    while decoded < PROBE and j < len(payloads):  # the probe: the priming block's output is skipped
        out = [f for f in frames(j) if j > 0]
        decoded += len(out)
        j += 1
    pieces: list[tuple[int, np.ndarray]] = []
    total: int | None = None
    for a, b in merged(spans):
        i0, i1 = int(a * rate), int(np.ceil(b * rate)) + 1
        target = max(0, int((a - PREROLL) * rate))
        decoder.flush_buffers()  # as the container's seek does
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
        chunks: list[np.ndarray] = []
        start = None
        at_end = True
        for k in range(target // BLOCK + 1, len(payloads)):  # the packet whose pts is at or before the target
            first = (k - 1) * BLOCK
            produced = frames(k)
            if first >= i1:
                at_end = False
                break
            for frame in produced:
                for out in resampler.resample(frame):
                    start = first if start is None else start
                    chunks.append(out.to_ndarray().T)
        if start is None:
            raise ValueError("no packets over the span")
        samples = np.concatenate(chunks).astype(np.float32, copy=False)
        keep = max(0, i0 - start)
        pieces.append((start + keep, np.ascontiguousarray(samples[keep:])))
        if at_end:
            total = start + len(samples)
        decoded += len(samples)
    return Excerpt(tuple(pieces), rate, total, decoded)
