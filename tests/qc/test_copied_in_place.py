"""The copied-GOP packet check read in place (qc/copied_in_place.py) gives what demuxing every
packet gives, on real spliced rows (the glasses clip looped once and twice, normalised, GOPs 3-4
re-encoded; the looped copy starts at a non-zero timestamp, so the MP4 carries an edit list):
the same samples byte for byte, timestamps and key flags as libavformat's demuxer, the same
figures, and a damaged copied packet is still found; and such a file, opened without probing
its streams, decodes to the same frames."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.media import shared_media
from tests.qc.test_around_slots import _row
from vpipe.data.media import Frames, OutputFile
from vpipe.qc.copied_in_place import hashed_source, read_in_place
from vpipe.qc.pairs import CopiedGops, _copied_demuxed, copied_gops

pytestmark = pytest.mark.media


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[OutputFile, Frames]]:
    work = tmp_path_factory.mktemp("copied-in-place")
    return [_row(times, work / f"x{times}")[:2] for times in (1, 2)]


def _expected(file: OutputFile) -> dict[int, tuple[int, str]]:
    assert file.splice is not None
    return {int(k0): (int(g), str(d)) for g, k0, d in file.splice["copied"]}


def _same(a: CopiedGops, b: CopiedGops) -> None:
    assert (a.copied, a.identical, a.intact, a.extradata) == (b.copied, b.identical, b.intact, b.extradata)
    assert a.out_pts.dtype == b.out_pts.dtype and np.array_equal(a.out_pts, b.out_pts)


def test_the_index_is_what_demuxing_gives(rows: list[tuple[OutputFile, Frames]]) -> None:
    import av

    for path in {p for file, frames in rows for p in (file.path, frames.source)}:
        samples = read_in_place(path)
        assert samples is not None, path
        with av.open(str(path)) as c:
            stream = c.streams.video[0]
            packets = [(bytes(p), int(p.pts), int(p.dts), p.is_keyframe) for p in c.demux(stream) if p.size]
        fd = path.open("rb")
        try:
            got = [samples.read(fd.fileno(), i, i + 1) for i in range(samples.pos.shape[0])]
        finally:
            fd.close()
        assert got == [p[0] for p in packets]
        assert samples.pts.tolist() == [p[1] for p in packets] == [p[2] for p in packets]
        assert samples.starts[:-1].tolist() == [i for i, p in enumerate(packets) if p[3]]


def test_the_figures_are_the_demuxed_ones(rows: list[tuple[OutputFile, Frames]]) -> None:
    for file, frames in rows:
        assert file.splice is not None
        demuxed = _copied_demuxed(file.path, _expected(file))
        assert demuxed.copied == demuxed.identical == len(demuxed.intact) > 0
        source = hashed_source(frames.source)
        assert source is not None
        _same(copied_gops(file.path, file.splice, source), demuxed)  # compared with the source's bytes
        _same(copied_gops(file.path, file.splice), demuxed)  # hashed
        other = dataclasses.replace(source, digests=tuple("0" * 64 for _ in source.digests))
        _same(copied_gops(file.path, file.splice, other), demuxed)  # the source's GOPs not the recorded ones


def test_a_damaged_copied_packet_is_flagged(rows: list[tuple[OutputFile, Frames]], tmp_path: Path) -> None:
    file, frames = rows[1]
    assert file.splice is not None
    samples = read_in_place(file.path)
    assert samples is not None
    k0 = int(file.splice["copied"][3][1])  # a copied GOP; flip one byte inside its third packet
    at = int(samples.pos[k0 + 2] + samples.size[k0 + 2] // 2)
    damaged = tmp_path / "damaged.mp4"
    shutil.copyfile(file.path, damaged)
    data = bytearray(damaged.read_bytes())
    data[at] ^= 0x01
    damaged.write_bytes(bytes(data))
    source = hashed_source(frames.source)
    found = copied_gops(damaged, file.splice, source)
    assert found.identical == found.copied - 1
    assert k0 not in {k for _, k, _ in found.intact}
    _same(found, _copied_demuxed(damaged, _expected(file)))


def test_a_file_the_index_may_not_stand_for_is_demuxed(tmp_path: Path) -> None:
    glasses = shared_media("glasses_woman.mp4")
    assert read_in_place(glasses) is None  # B-frames: composition offsets (pts ≠ dts)
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(glasses.read_bytes()[:-1000])
    assert read_in_place(truncated) is None
    # still measured, by demuxing
    _same(copied_gops(glasses, {"copied": []}), _copied_demuxed(glasses, {}))


def _decoded(path: Path, probe: bool, start: int = 0, pts: np.ndarray | None = None) -> list[tuple[Any, ...]]:
    from vpipe.media.decode import iter_decoded

    out = []
    for k, t, frame in iter_decoded(path, start, pts, threads=False, probe=probe):
        f: Any = frame
        planes = tuple(bytes(p) for p in f.planes)
        out.append((k, t, f.pts, f.time_base, f.format.name, f.width, f.height, f.color_range, f.rotation, planes))
    return out


def test_a_plain_mp4_opened_unprobed_decodes_the_same_frames(rows: list[tuple[OutputFile, Frames]]) -> None:
    """What QC opens unprobed (the outputs and sources read_in_place takes): every frame from
    the start and from a seek into the middle, with its index, time, timestamp, format, range,
    rotation and every plane's bytes, as opened with the streams probed."""
    from vpipe.media.decode import frame_timing

    for path in {p for file, frames in rows for p in (file.path, frames.source)}:
        assert read_in_place(path) is not None
        pts = frame_timing(path).pts
        for start in (0, 40):
            probed = _decoded(path, True, start, pts)
            assert len(probed) == pts.shape[0] - (start // 12) * 12
            assert _decoded(path, False, start, pts) == probed
