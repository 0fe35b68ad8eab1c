"""QC's audio excerpt is read from a file opened with decode.NO_PICTURES (the streams' probe
decodes no video picture): the same excerpt, sample for sample, as from a file opened with its
pictures probed, on real files of every kind read_excerpt meets: the shared clips (H.264 + AAC
MP4s, stereo and mono), a WebM with VP8 video and Opus sound (read from the start: its
timestamps do not count its samples), and a WAV without video."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import vpipe.qc.excerpt as excerpt_module
from tests.media import shared_media
from vpipe.media.decode import NO_PICTURES
from vpipe.qc.excerpt import Excerpt, read_excerpt

pytestmark = pytest.mark.media

# at the start, in the middle, two overlapping, one past the end of the shortest file
SPANS = ([(0.0, 0.4)], [(1.2, 2.7)], [(0.9, 1.6), (1.5, 2.2), (3.0, 3.3)], [(2.5, 90.0)])


def _read(
    path: Path, spans: list[tuple[float, float]], options: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Excerpt:
    monkeypatch.setattr(excerpt_module, "NO_PICTURES", options)
    return read_excerpt(path, spans)


def _same(a: Excerpt, b: Excerpt) -> None:
    assert (a.rate, a.total, a.decoded, len(a.pieces)) == (b.rate, b.total, b.decoded, len(b.pieces))
    for (i, x), (j, y) in zip(a.pieces, b.pieces, strict=True):
        assert i == j and x.dtype == y.dtype and x.shape == y.shape
        assert x.tobytes() == y.tobytes()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    import imageio_ffmpeg

    work = tmp_path_factory.mktemp("no-pictures")
    webm = work / "vp8-opus.webm"
    source = str(shared_media("glasses_woman.mp4"))
    encode = ["-t", "4", "-c:v", "libvpx", "-deadline", "realtime", "-b:v", "300k", "-c:a", "libopus", str(webm)]
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", source, *encode], check=True, timeout=120)
    clips = ("glasses_woman.mp4", "interview_man.mp4", "studio_woman.mp4", "speech_a.wav")
    return [shared_media(name) for name in clips] + [webm]


def test_the_excerpt_is_the_same_without_the_probe_pictures(files: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    for path in files:
        for spans in SPANS:
            probed = _read(path, spans, {}, monkeypatch)
            assert probed.decoded > 0
            _same(_read(path, spans, NO_PICTURES, monkeypatch), probed)


def test_the_probe_decodes_no_picture() -> None:
    """What NO_PICTURES leaves out: the probe's decode of the first key frame, which is how it
    learns the pixel format (probed: yuv420p; without the pictures: not known until the frames
    QC reads are decoded, which do not ask for it)."""
    import av

    path = shared_media("studio_woman.mp4")
    with av.open(str(path)) as probed, av.open(str(path), options=NO_PICTURES) as unprobed:
        assert probed.streams.video[0].codec_context.pix_fmt == "yuv420p"
        assert unprobed.streams.video[0].codec_context.pix_fmt is None
        frame = next(unprobed.decode(video=0))
        assert frame.format.name == "yuv420p"
