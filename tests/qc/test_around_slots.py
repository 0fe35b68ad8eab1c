"""QC reads a spliced output only around its edits, measured on real files: the glasses clip
looped once and twice (ffmpeg concat, stream copy: the copy starts at a non-zero timestamp,
as many recordings do), normalised, and a row spliced with the same painted frames in each.
The frames QC decodes and compares, and the audio it decodes, are the same for both lengths;
each frame around the edit is really compared (the output's own timestamps: a muxer may move
them from the ones the writer asked for), and the audio excerpt equals a decode of the whole
track at the same sample indices (up to the decoder's noise substitution)."""

from __future__ import annotations

import itertools
import math
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.media import shared_media
from vpipe.data.media import Frames, OutputFile, Track, VideoSource
from vpipe.ir.graph import Op, Value
from vpipe.ir.types import Type
from vpipe.kernel_api.context import RunContext
from vpipe.kernels.media import OpenVideo
from vpipe.kernels.media_gops import Normalize
from vpipe.media.decode import iter_frames, read_audio
from vpipe.media.splice import splice
from vpipe.media.write import VideoSettings
from vpipe.qc.excerpt import read_excerpt
from vpipe.qc.pairs import (
    IDR,
    copied_gops,
    luma_of,
    nal_types,
    pairs_spliced,
    recording_pictures,
    same_pictures,
    stream_gops,
)
from vpipe.qc.visual import measured_ranges, visual_metrics

pytestmark = pytest.mark.media
PAINTED = list(range(40, 52))  # source frames 40-51: GOPs 3 and 4 re-encoded


def _looped(times: int, work: Path) -> Path:
    import imageio_ffmpeg

    listing = work / f"loop-{times}.txt"
    listing.write_text(f"file '{shared_media('glasses_woman.mp4')}'\n" * times, encoding="utf-8")
    target = work / f"glasses-{times}x.mp4"
    concat = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "concat", "-safe", "0"]
    subprocess.run(
        [*concat, "-i", str(listing), "-c", "copy", str(target)],
        check=True,
        timeout=60,
    )
    return target


def _row(times: int, work: Path) -> tuple[OutputFile, Frames, Path]:
    """A row spliced from the looped clip: painted frames 40-51, everything else copied."""
    work.mkdir()
    path = _looped(times, work)
    rt = RunContext(work, store_dir=work / "store")
    video = OpenVideo().run(Op("media.open", (), (Value("video", Type("Video")),), {"path": str(path)}), [], rt)
    op = Op(
        "media.normalize", ("video",), (Value("gops", Type("Video")),), {"gop": 12, "crf": 12, "preset": "veryfast"}
    )
    norm: VideoSource = Normalize().run(op, [video], rt)
    assert norm.gops is not None
    painted = {}
    for i, _, image in iter_frames(norm.path, 36, 60, norm.gops.pts):
        if i in PAINTED:
            image = image.copy()
            image[300:360, 220:300] = 128
            painted[i] = image
    window = [[float(norm.times[PAINTED[0]]), float(norm.times[PAINTED[-1]]) + 0.02]]
    frames = Frames(
        norm.path,
        norm.times.copy(),
        np.arange(norm.frames),
        painted,
        norm.time_base,
        524,
        524,
        report={"output_windows": window},
    )
    out = work / "row.mp4"
    report = splice(frames, norm.path, norm.gops, read_audio(path), out, VideoSettings())
    return OutputFile(out, "", 0, report), frames, path


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> dict[int, tuple[OutputFile, Frames, Path]]:
    work = tmp_path_factory.mktemp("around-slots")
    return {times: _row(times, work / f"x{times}") for times in (1, 2)}


def test_the_looped_source_does_not_start_at_zero(rows: dict[int, tuple[OutputFile, Frames, Path]]) -> None:
    import av

    for file, _, _ in rows.values():
        with av.open(str(file.path)) as c:
            assert c.streams.video[0].start_time not in (None, 0)  # the case QC used to miss


def test_qc_decodes_and_compares_the_same_frames_whatever_the_length(
    rows: dict[int, tuple[OutputFile, Frames, Path]],
) -> None:
    measured = {}
    for times, (file, frames, _) in rows.items():
        metrics: dict[str, float] = {}
        failures: list[str] = []
        visual_metrics(
            file, Track(read_audio(file.path), ()), frames, {}, RunContext(file.path.parent), metrics, failures
        )
        assert failures == [], failures
        ranges = measured_ranges(file.splice or {}, len(frames.times))
        assert ranges == [(24, 72)]  # the re-encoded GOPs 3-4 and one GOP either side
        assert metrics["qc_frames_decoded"] == 48  # every frame there was decoded and compared
        assert metrics["copied_gops"] == metrics["copied_gops_identical"] == math.ceil(len(frames.times) / 12) - 2
        assert 45 <= metrics["untouched_psnr_min_db"] < 99  # measured on decoded frames, not only the copies
        assert 0 < metrics["seam_ratio"] < 2  # the painted square's edges were measured
        # (the untouched minimum is not compared: it includes the copied frames' normalisation
        # PSNR, and the two loops are normalised apart, the shorter one's last GOPs ending its stream)
        measured[times] = (metrics["qc_frames_decoded"], metrics["seam_ratio"])
    assert rows[2][1].times.shape[0] > 1.9 * rows[1][1].times.shape[0]
    assert measured[1] == measured[2]


def test_the_audio_excerpt_is_the_whole_decode_at_the_same_indices(
    rows: dict[int, tuple[OutputFile, Frames, Path]],
) -> None:
    spans = [(1.2, 3.4)]
    decoded = {}
    for times, (file, _, _) in rows.items():
        whole = read_audio(file.path)
        excerpt = read_excerpt(file.path, spans)
        i0, i1 = int(1.2 * whole.rate), int(3.4 * whole.rate)
        np.testing.assert_allclose(excerpt[i0:i1], whole.samples[i0:i1], atol=2e-3)
        assert float(np.abs(excerpt[i0:i1] - whole.samples[i0:i1]).mean()) < 1e-5
        np.testing.assert_array_equal(excerpt.mono()[i0:i1], excerpt[i0:i1].mean(axis=1).astype(np.float32))
        with pytest.raises(IndexError):
            excerpt[int(4.0 * whole.rate) : int(4.5 * whole.rate)]  # never decoded: refused, not silence
        decoded[times] = excerpt.decoded
        assert excerpt.decoded < 0.6 * whole.samples.shape[0] / times
    assert decoded[1] == decoded[2]  # the same samples decoded for a source twice as long
    end = read_excerpt(rows[1][0].path, [(4.0, 60.0)])  # a span past the end: cut at the track's end
    assert len(end) == read_audio(rows[1][0].path).samples.shape[0]


def test_a_track_whose_timestamps_do_not_count_its_samples_is_read_from_the_start(tmp_path: Path) -> None:
    """Opus in WebM: the first frame loses the pre-skip but the next one's timestamp does not
    say so; the excerpt is then cut from a decode from the start, sample for sample."""
    import imageio_ffmpeg

    webm = tmp_path / "a.webm"
    source = str(shared_media("glasses_woman.mp4"))
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", source, "-vn", "-c:a", "libopus", str(webm)],
        check=True,
        timeout=60,
    )
    whole = read_audio(webm)
    excerpt = read_excerpt(webm, [(1.0, 2.0)])
    i0, i1 = int(1.0 * whole.rate), int(2.0 * whole.rate)
    np.testing.assert_array_equal(excerpt[i0:i1], whole.samples[i0:i1])
    assert len(excerpt) == whole.samples.shape[0]


def _counting_decodes(monkeypatch: pytest.MonkeyPatch) -> dict[Path, int]:
    """Frames each file's decoder yields from now on (vpipe.media.decode.iter_decoded)."""
    import vpipe.media.decode as decode

    counts: dict[Path, int] = {}
    real = decode.iter_decoded

    def counted(path: Path, *args: object, **kwargs: object) -> Iterator[tuple[int, float, object]]:
        for item in real(path, *args, **kwargs):  # type: ignore[arg-type]
            counts[path] = counts.get(path, 0) + 1
            yield item

    monkeypatch.setattr(decode, "iter_decoded", counted)
    return counts


def test_the_copied_frames_around_the_edit_are_the_source_pictures_and_decoded_once(
    rows: dict[int, tuple[OutputFile, Frames, Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Proof on the real files: every output frame QC takes as its source frame's picture
    decodes (from the output) to exactly that picture; the pairs cover the measured ranges
    once, and only the re-encoded frames are decoded from the output."""
    from vpipe.media.decode import frame_timing, iter_decoded, luma

    for file, frames, _ in rows.values():
        assert file.splice is not None
        found = copied_gops(file.path, file.splice)
        same = same_pictures(frames, found, stream_gops(frames.source))
        copied = {k for _, k0, _ in file.splice["copied"] for k in range(int(k0), min(int(k0) + 12, len(frames.times)))}
        assert same == copied  # every copied GOP is intact
        measured = {k for a, b in measured_ranges(file.splice, len(frames.times)) for k in range(a, b)}
        assert measured & same == {*range(24, 36), *range(60, 72)}  # the GOP either side of the edit
        wanted = {int(frames.source_index[k]) for k in measured}
        out = {k: luma(f) for k, _, f in iter_decoded(file.path) if k in measured}
        src = {i: luma(f) for i, _, f in iter_decoded(frames.source) if i in wanted}
        source_gops = stream_gops(frames.source)
        decoded = _counting_decodes(monkeypatch)
        src_pts = frame_timing(frames.source).pts
        pairs = list(pairs_spliced(file, frames, found.out_pts, src_pts, same, source_gops.starts))
        monkeypatch.undo()
        assert [k for k, _, _ in pairs] == sorted(measured)
        # decoded: the copied GOPs from the source only (the decoder seeks over the re-encoded
        # GOPs, compared with the recording's pictures), the re-encoded GOPs from the output only
        assert decoded == {frames.source: 24, file.path: 24}
        # a re-encoded frame's source is the recording's own picture it was encoded from
        reencoded = {k for a, b in file.splice["reencoded"] for k in range(int(a), int(b))}
        recorded = recording_pictures(file.splice)
        assert {int(frames.source_index[k]) for k in reencoded} <= set(recorded)
        for k, picture, source in pairs:
            assert (picture is source) == (k in same)
            np.testing.assert_array_equal(luma(picture), out[k])  # the output's own decode
            i = int(frames.source_index[k])
            expected = recorded[i][: frames.height].astype(np.float32) if k in reencoded else src[i]
            np.testing.assert_array_equal(luma_of(source), expected)


def test_a_copied_gop_is_taken_as_the_source_only_when_every_check_holds(
    rows: dict[int, tuple[OutputFile, Frames, Path]],
) -> None:
    import dataclasses

    file, frames, _ = rows[1]
    assert file.splice is not None
    found = copied_gops(file.path, file.splice)
    source = stream_gops(frames.source)
    assert same_pictures(frames, found, source)
    assert not same_pictures(frames, dataclasses.replace(found, extradata=found.extradata + b"\0"), source)
    assert not same_pictures(frames, found, dataclasses.replace(source, closed=False))
    shifted = dataclasses.replace(frames, source_index=np.maximum(frames.source_index - 1, 0))
    assert not same_pictures(shifted, found, source)  # paired with other source frames: decoded
    tampered = {**file.splice, "copied": [[g, k0, "0" * 64] for g, k0, _ in file.splice["copied"]]}
    bad = copied_gops(file.path, tampered)
    assert bad.identical == 0 and not same_pictures(frames, bad, source)


def test_nal_types_find_the_idr_of_a_gop_start_only() -> None:
    import av

    with av.open(str(shared_media("glasses_woman.mp4"))) as c:
        stream = c.streams.video[0]
        size = (bytes(stream.codec_context.extradata)[4] & 3) + 1
        packets = [bytes(p) for p in itertools.islice(c.demux(stream), 3) if p.size]
    assert IDR in nal_types(packets[0], size)
    assert all(IDR not in nal_types(p, size) for p in packets[1:])
    assert nal_types(b"\0\0\0\x09\x65", size) == []  # a length past the end: no claim


def test_qc_figures_are_the_same_with_every_frame_decoded_from_the_output(
    rows: dict[int, tuple[OutputFile, Frames, Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    import vpipe.qc.visual as qv

    file, frames, _ = rows[2]
    measured = []
    for shortcut in (True, False):
        if not shortcut:
            monkeypatch.setattr(qv, "same_pictures", lambda *_: set())
        metrics: dict[str, float] = {}
        failures: list[str] = []
        qv.visual_metrics(
            file, Track(read_audio(file.path), ()), frames, {}, RunContext(file.path.parent), metrics, failures
        )
        measured.append((metrics, failures))
    assert measured[0] == measured[1]
