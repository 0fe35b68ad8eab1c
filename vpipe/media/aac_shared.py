"""The recording's AAC encodes that rows copy packets from, one per phase, made once.

A row whose sound is the recording's moved by `shift` samples (an elastic slot before it)
copies packets from the recording encoded with `shift mod 1024` samples of silence in
front, so that its blocks fall on the row's (`aac_splice`). Each phase is encoded the first
time a row needs it and kept: in memory for the process, and as a file in the run's store
(beside the cache, like the normalised video), named by the recording's samples, the
encoder settings and the phase. A file that cannot be read is made again.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np

from vpipe.atomic import atomic_path
from vpipe.media.aac_splice import AacSettings, encode_all

VERSION = "1"  # of the files' content: change it when the encoder's settings or feeding change
_MEMORY: dict[str, list[tuple[bytes, int]]] = {}  # file name → packets, this process
_MEMORY_LIMIT = 16  # phases kept in memory (about 2 MB each for two minutes at 128 kb/s)


class SharedEncodes:
    """Callable: phase → the recording's packets (payload, duration) at that phase.
    `recording`: its (n, channels) samples."""

    def __init__(self, recording: np.ndarray, settings: AacSettings, store: Path | None) -> None:
        self.recording, self.settings, self.store = recording, settings, store
        self.made: list[int] = []  # phases this object had to encode (not found anywhere)
        s = settings
        self.key = _fingerprint(recording) + f"-{s.rate}-{s.channels}-{s.bitrate_kbps}-v{VERSION}"

    def __call__(self, phase: int) -> list[tuple[bytes, int]]:
        name = f"{self.key}-p{phase}"
        packets = _MEMORY.get(name)
        if packets is None:
            packets = self._load(name)
        if packets is None:
            silence = np.zeros((phase, self.recording.shape[1]), self.recording.dtype)
            packets = encode_all(self.settings, np.concatenate([silence, self.recording]))
            self.made.append(phase)
            self._save(name, packets)
        if len(_MEMORY) >= _MEMORY_LIMIT:
            _MEMORY.pop(next(iter(_MEMORY)))
        _MEMORY[name] = packets
        return packets

    def _path(self, name: str) -> Path | None:
        return None if self.store is None else self.store / "aac" / f"{name}.npz"

    def _load(self, name: str) -> list[tuple[bytes, int]] | None:
        path = self._path(name)
        if path is None or not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                payload, ends, durations = data["payload"], data["ends"], data["durations"]
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):  # truncated or foreign: encode again
            return None
        if ends.shape != durations.shape or (ends.size and int(ends[-1]) != payload.size):
            return None
        starts = np.concatenate([[0], ends[:-1]]).astype(np.int64)
        raw = payload.tobytes()
        return [(raw[a:b], int(d)) for a, b, d in zip(starts.tolist(), ends.tolist(), durations.tolist(), strict=True)]

    def _save(self, name: str, packets: list[tuple[bytes, int]]) -> None:
        path = self._path(name)
        if path is None:
            return
        payload = np.frombuffer(b"".join(p for p, _ in packets), np.uint8)
        ends = np.cumsum([len(p) for p, _ in packets], dtype=np.int64)
        durations = np.asarray([d for _, d in packets], np.int64)
        try:
            with atomic_path(path) as tmp, open(tmp, "wb") as f:
                np.savez(f, payload=payload, ends=ends, durations=durations)
        except OSError:
            pass  # a store that cannot be written costs the next process one encode, nothing else


_FINGERPRINTS: dict[int, tuple[np.ndarray, str]] = {}  # id → (the array itself, its digest)


def _fingerprint(pcm: np.ndarray) -> str:
    """A digest of the samples, computed once per array per process (rows share the array)."""
    known = _FINGERPRINTS.get(id(pcm))
    if known is not None and known[0] is pcm:
        return known[1]
    h = hashlib.sha256(f"{pcm.shape}{pcm.dtype}".encode())
    h.update(np.ascontiguousarray(pcm).data)
    value = h.hexdigest()[:24]
    if len(_FINGERPRINTS) > 8:
        _FINGERPRINTS.clear()
    _FINGERPRINTS[id(pcm)] = (pcm, value)
    return value
