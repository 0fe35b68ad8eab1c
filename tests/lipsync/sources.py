"""Real sources for the lip-sync tests, each prepared once per session (functools.cache):
the opened video, its audio, the tracked face (default smoothing, as `face.track` runs it),
the forced alignment of its transcript and the mouth inventory built from them.

Also small synthetic videos made from real frames (black frames spliced in), written with
the source's own timestamps so the source's alignment still fits them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from benchmarks.common import CLIPS
from tests import media
from tests.media import shared_media
from vpipe.data.alignment import Alignment, Segment
from vpipe.data.audio import Audio
from vpipe.data.face import FaceTrack
from vpipe.data.media import TimelineEdit, Track, VideoSource
from vpipe.lipsync.inventory import MouthInventory

TRANSCRIPTS = {c.file.removesuffix(".mp4"): c.transcript for c in CLIPS}


@dataclass(frozen=True)
class Source:
    name: str
    path: Path
    video: VideoSource
    audio: Audio
    face: FaceTrack
    alignment: Alignment
    inventory: MouthInventory

    def word(self, label: str) -> Segment:
        """The first aligned word with this label."""
        return next(w for w in self.alignment.words if w.label == label)


def open_video(path: Path) -> VideoSource:
    """The source as the product's own `media.open` kernel opens it."""
    from vpipe.ir.graph import Op
    from vpipe.kernel_api.context import RunContext
    from vpipe.kernels.media import OpenVideo

    return OpenVideo().run(Op("media.open", (), (), {"path": str(path)}), [], RunContext(path.parent))


@cache
def alignment(name: str) -> Alignment:
    from vpipe.lexicon import Lexicon
    from vpipe.media.decode import read_audio
    from vpipe.speech.align import align
    from vpipe.speech.tts import phonemize

    audio = read_audio(shared_media(f"{name}.mp4"))
    return align(audio.mono(), audio.rate, TRANSCRIPTS[name], Lexicon(), phonemize, with_confidence=False)


@cache
def face(path: Path) -> FaceTrack:
    from vpipe.face.tracker import track_video

    return track_video(path)


@cache
def source(name: str) -> Source:
    from vpipe.lipsync.inventory import build_inventory
    from vpipe.media.decode import read_audio

    path = shared_media(f"{name}.mp4")
    track = face(path)
    al = alignment(name)
    return Source(name, path, open_video(path), read_audio(path), track, al, build_inventory(path, track, al))


@cache
def frames(path: Path) -> tuple[np.ndarray, ...]:
    """Every decoded frame (BGR) of a clip, in presentation order."""
    from vpipe.media.decode import iter_frames

    return tuple(img for _, _, img in iter_frames(path))


def write_video(path: Path, images: Sequence[np.ndarray], times: Sequence[float]) -> Path:
    """Near-lossless H.264 with the given presentation times (variable frame rate kept)."""
    return media.write_video(path, images, times)


def edit(
    src: Source, start: float, end: float, labels: Sequence[str], stretch: float = 0.0, slot: str = "value"
) -> TimelineEdit:
    """A slot replacing source [start, end) by `labels` spoken evenly over the output span
    [start, end + stretch): stretch 0 is a fitted slot, anything else an elastic one."""
    length = end - start + stretch
    step = length / len(labels)
    phones = tuple(Segment(p, k * step, (k + 1) * step) for k, p in enumerate(labels))
    return TimelineEdit(slot, start, end, start, end + stretch, " ".join(labels), "", phones)


def shifted(edits: Sequence[TimelineEdit]) -> tuple[TimelineEdit, ...]:
    """Edits in time order, each later one moved by the stretch of those before it."""
    out: list[TimelineEdit] = []
    shift = 0.0
    for e in sorted(edits, key=lambda e: e.source_start):
        out.append(
            TimelineEdit(
                e.slot, e.source_start, e.source_end, e.output_start + shift, e.output_end + shift, e.said, "", e.phones
            )
        )
        shift += e.shift
    return tuple(out)


def track_of(src: Source, *edits: TimelineEdit) -> Track:
    return Track(src.audio, shifted(edits))


def build_mapped(src: Source, folder: Path) -> MouthInventory:
    """`src`'s inventory built again with its crops written to a file in `folder` and mapped."""
    from vpipe.lipsync.inventory import build_inventory

    return build_inventory(src.path, src.face, src.alignment, crops_dir=folder)
