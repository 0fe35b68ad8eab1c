"""A spliced row's re-encoded GOPs are encoded from the recording's own pictures (first
generation), kept once per source beside the normalised file: measured on the written file
against the recording (decoded luma), on the glasses clip."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tests.media import shared_media
from vpipe.data.media import Frames, VideoSource
from vpipe.ir.graph import Op, Value
from vpipe.ir.types import Type
from vpipe.kernel_api.context import RunContext
from vpipe.kernels.media import OpenVideo
from vpipe.kernels.media_gops import Normalize
from vpipe.media.decode import iter_decoded, iter_frames, luma, read_audio
from vpipe.media.first_generation import gop_file, recording_pictures, source_images, store_folder
from vpipe.media.normalize import EncoderSettings
from vpipe.media.splice import lookahead_frames, splice
from vpipe.media.write import VideoSettings, WriteError
from vpipe.qc.pairs import recording_pictures as qc_recording_pictures
from vpipe.qc.visual import psnr

GOP = 12


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> tuple[VideoSource, VideoSource]:
    work = tmp_path_factory.mktemp("gen1")
    rt = RunContext(work / "scratch", store_dir=work / "store")
    (work / "scratch").mkdir()
    path = shared_media("glasses_woman.mp4")
    video = OpenVideo().run(Op("media.open", (), (Value("video", Type("Video")),), {"path": str(path)}), [], rt)
    op = Op("media.normalize", ("video",), (Value("gops", Type("Video")),), {"gop": GOP, "crf": 12, "preset": "veryfast"})
    return video, Normalize().run(op, [video], rt)


def _row(norm: VideoSource, changed: list[int]) -> Frames:
    rendered = {}
    for i, _, image in iter_frames(norm.path, min(changed), max(changed) + 1):
        image = image.copy()
        image[300:360, 220:300] = 128  # a grey mouth: a large change the encoder must code back out of
        rendered[i] = image
    return Frames(norm.path, norm.times.copy(), np.arange(norm.frames), rendered, norm.time_base, norm.width, norm.height)


def _lumas(path: Path, start: int, stop: int) -> dict[int, np.ndarray]:
    return {i: luma(f) for i, _, f in iter_decoded(path) if start <= i < stop}


def test_unchanged_frames_of_re_encoded_gops_are_as_close_to_the_recording_as_copied_ones(
    source: tuple[VideoSource, VideoSource], tmp_path: Path
) -> None:
    video, norm = source
    assert norm.gops is not None
    changed = list(range(40, 52))  # GOPs 3 and 4 (frames 36-59) re-encoded; 36-39 and 52-59 unchanged
    out = tmp_path / "row.mp4"
    report = splice(_row(norm, changed), norm.path, norm.gops, read_audio(video.path), out, VideoSettings())
    assert report["reencoded"] == [[36, 60]]
    got, recording = _lumas(out, 36, 72), _lumas(video.path, 36, 72)
    unchanged = [k for k in range(36, 60) if k not in changed]
    reencoded = [psnr(got[k], recording[k]) for k in unchanged]
    normalised = [float(norm.gops.psnr[k]) for k in unchanged]  # the same frames, copied
    # the worst within 1 dB of the same frames normalised (a second generation, or a stream's
    # last frames right after the grey mouth, lose 2-3 dB there); the segment's first frame, an
    # IDR without the full encode's history, may lose a little more but stays far above 45 dB
    assert min(reencoded) > min(normalised) - 1.0, (reencoded, normalised)
    assert min(reencoded[4:]) > min(normalised) - 1.0  # 52-59, the frames after the grey mouth
    assert min(reencoded) >= 45.0
    # the frames the encoder was shown after the segment are not in the file; the copy after it is
    assert [int(f.pts) for _, _, f in iter_decoded(out)] == [int(p) for p in norm.gops.pts]
    assert lookahead_frames(EncoderSettings.from_json(dict(norm.gops.encoder))) == GOP // 2


def test_the_recordings_pictures_are_stored_once_and_read_back(source: tuple[VideoSource, VideoSource], tmp_path: Path) -> None:
    video, norm = source
    assert norm.gops is not None
    folder = store_folder(norm.path)
    pictures = recording_pictures(norm.gops, norm.path, [3, 4])
    assert sorted(pictures) == list(range(36, 60))
    assert gop_file(folder, 36).is_file() and gop_file(folder, 48).is_file()
    recording = _lumas(video.path, 36, 60)
    for i, picture in pictures.items():  # exactly the pictures normalisation encoded (I420, upright)
        assert picture.shape == (norm.height * 3 // 2, norm.width)
        np.testing.assert_array_equal(picture[: norm.height].astype(np.float32), recording[i])
    # a second row reads them back: the recording itself is not opened again
    gone = replace(norm.gops, original=tmp_path / "moved-away.mp4")
    again = recording_pictures(gone, norm.path, [3, 4])
    np.testing.assert_array_equal(again[40], pictures[40])
    with pytest.raises(Exception, match="moved-away"):
        recording_pictures(gone, norm.path, [8])  # not stored yet: needs the recording


def test_a_damaged_or_linked_store_is_refused_not_used(source: tuple[VideoSource, VideoSource], tmp_path: Path) -> None:
    video, norm = source
    assert norm.gops is not None
    copy = tmp_path / "norm.mp4"
    os.link(norm.path, copy)  # a normalised file of its own, so its store is this test's
    recording_pictures(norm.gops, copy, [0, 1])
    np.save(gop_file(store_folder(copy), 12), np.zeros((3, 4), np.uint8))  # the wrong shape
    # QC reads the same store: a damaged GOP gives no recording pictures (its frames are then
    # compared with the normalised copy), an intact one gives its frames
    stored = {"folder": str(store_folder(copy))}
    assert qc_recording_pictures({"first_generation": {**stored, "gops": [[12, 24]]}}) == {}
    assert sorted(qc_recording_pictures({"first_generation": {**stored, "gops": [[0, 12]]}})) == list(range(12))
    frames = _row(replace(norm, path=copy), list(range(14, 16)))
    with pytest.raises(WriteError, match="recording's own frames"):
        splice(frames, copy, norm.gops, read_audio(video.path), tmp_path / "row.mp4", VideoSettings())
    assert not (tmp_path / "row.mp4").exists()
    linked = tmp_path / "linked.mp4"
    os.link(norm.path, linked)
    (tmp_path / "elsewhere").mkdir()
    store_folder(linked).symlink_to(tmp_path / "elsewhere")
    with pytest.raises(OSError, match="link"):
        recording_pictures(norm.gops, linked, [1])
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_edits_start_from_the_recordings_pictures(source: tuple[VideoSource, VideoSource]) -> None:
    """A normalised source's images for the lip-sync edit are the recording's decoded images,
    pixel for pixel (not the normalised copy's); a source that is not normalised is decoded."""
    video, norm = source
    from_recording = {i: image for i, _, image in source_images(norm, range(70, 80))}
    from_normalised = {i: image for i, _, image in iter_frames(norm.path, 70, 80)}
    recorded = {i: image for i, _, image in iter_frames(video.path, 70, 80)}
    assert sorted(from_recording) == list(range(70, 80))
    for i in range(70, 80):
        np.testing.assert_array_equal(from_recording[i], recorded[i])
        assert not np.array_equal(from_normalised[i], recorded[i])  # the copy is one encode away
    times = [t for _, t, _ in source_images(norm, [71, 70])]
    assert times == [float(norm.times[70]), float(norm.times[71])]  # in order
    plain = [(i, image) for i, _, image in source_images(video, [70, 72])]  # not normalised: decoded
    assert [i for i, _ in plain] == [70, 72]
    np.testing.assert_array_equal(plain[0][1], recorded[70])


def test_only_the_gops_of_the_wanted_frames_are_stored(source: tuple[VideoSource, VideoSource], tmp_path: Path) -> None:
    """Two slots far apart: the minutes between them are neither decoded into the store nor kept."""
    _, norm = source
    assert norm.gops is not None
    copy = tmp_path / "apart.mp4"
    os.link(norm.path, copy)
    apart = replace(norm, path=copy)
    got = [i for i, _, _ in source_images(apart, [3, 4, 100, 101])]
    assert got == [3, 4, 100, 101]
    stored = sorted(p.name for p in store_folder(copy).iterdir())
    assert stored == [gop_file(store_folder(copy), 0).name, gop_file(store_folder(copy), 96).name]
