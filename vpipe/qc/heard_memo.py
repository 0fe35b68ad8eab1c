"""Heard checks remembered by the exact audio they listened to.

The same words aligned on the same samples give the same confidences (pocketsphinx is
deterministic, and vpipe.speech.align resets its decoders' feature state before each
utterance), so a heard check is named by a digest of its window's samples (as the aligner
receives them: dtype, length and bytes), the words it aligned and how it pronounced them.
speech.match_voice's heard-word guard listens to the row's sound as QC will decode it from
the written file (a spliced-AAC row: its packets decoded as read_excerpt decodes the file,
vpipe.qc.excerpt_packets), so QC finds the guard's result for the very samples it decodes
(vpipe.qc.audio.heard_again) without aligning again; a row encoded whole is heard on its
track (vpipe.qc.audio.heard_known).

Only within one process and only the last MEMO_SIZE checks: a miss costs the alignment that
would have run anyway, never a different result.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import numpy as np

T = TypeVar("T")

MEMO_SIZE = 64  # a row's guard tries at most a few levels per slot; QC looks up soon after


def heard_key(window: np.ndarray, words: Sequence[str], phonemize: Callable[..., object]) -> bytes:
    """The digest naming one heard check: the window's samples exactly, the word lists it
    aligned (new, old, context; in order) and the pronouncing function."""
    h = hashlib.blake2b(digest_size=20)
    samples = np.ascontiguousarray(window)
    h.update(f"{samples.dtype.str}:{samples.shape}".encode())
    h.update(samples.tobytes())
    for w in words:
        h.update(b"\x00" + w.encode())
    h.update(
        f"\x01{getattr(phonemize, '__module__', '')}.{getattr(phonemize, '__qualname__', repr(phonemize))}".encode()
    )
    return h.digest()


class Memo(Generic[T]):
    """The last `size` values by key (least recently used let go first)."""

    def __init__(self, size: int = MEMO_SIZE) -> None:
        self.size = size
        self._items: OrderedDict[bytes, T] = OrderedDict()

    def get(self, key: bytes) -> T | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: bytes, value: T) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
