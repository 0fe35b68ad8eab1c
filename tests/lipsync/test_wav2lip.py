"""Wav2Lip rendering of slot windows on interview_man.mp4 with tiny random weights of the
published architecture (width 1/8, saved as the authors save: {"state_dict": module.*}).

Random weights draw no mouth, so these tests check everything around the model on real
frames: which frames are rendered (only window frames with a usable face, at their output
times and mel windows), how many frames there are (fitted and elastic slots), that the new
pixels land only in the feathered lower-face region (not the square crop, nothing above the
eyes), and that frames without a face pass through instead of aborting."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from tests.lipsync.conftest import BlackFrames  # noqa: E402
from tests.lipsync.sources import Source, edit, frames, source, track_of  # noqa: E402
from tests.neural.published import random_checkpoint  # noqa: E402
from vpipe.data.media import Frames, Track  # noqa: E402
from vpipe.face import landmarks as L  # noqa: E402
from vpipe.kernels.lipsync_wav2lip import CROP, load_generator, predictor  # noqa: E402
from vpipe.lipsync.facecrop import face_boxes, int_box  # noqa: E402
from vpipe.lipsync.neural import render_neural  # noqa: E402
from vpipe.lipsync.timeline import slot_windows  # noqa: E402
from vpipe.neural.features import resample, wav2lip_mel  # noqa: E402

SLOT = (1.22, 1.87)  # "asking for help"
NEW = ("P", "AA", "M", "AA", "P", "AA", "M", "AA")
BATCH = 8


@cache
def _generator(folder: Path) -> torch.nn.Module:
    path = folder / "wav2lip_gan.pth"
    torch.save({"state_dict": {"module." + k: v for k, v in random_checkpoint(1 / 8, seed=3).items()}}, path)
    return load_generator(path)


@pytest.fixture(scope="module")
def generator(tmp_path_factory: pytest.TempPathFactory) -> torch.nn.Module:
    return _generator(tmp_path_factory.mktemp("w2l"))


class Recorder:
    """The kernel's predict, recording the batches it was called with."""

    def __init__(self, model: torch.nn.Module, track: Track) -> None:
        audio = track.audio
        self.inner = predictor(model, wav2lip_mel(resample(audio.mono(), audio.rate)), audio.start, "cpu")
        self.calls: list[np.ndarray] = []

    def __call__(self, crops: list[np.ndarray], times: np.ndarray) -> list[np.ndarray]:
        assert all(c.shape == (CROP, CROP, 3) and c.dtype == np.uint8 for c in crops)
        self.calls.append(np.asarray(times))
        return self.inner(crops, times)


def _render(src: Source, track: Track, model: torch.nn.Module) -> tuple[Frames, Recorder]:
    rec = Recorder(model, track)
    windows = slot_windows(track, 0.12, src.video.duration)
    return render_neural(src.video, src.face, src.inventory, track, windows, rec, CROP, BATCH), rec


def _in_windows(fr: Frames) -> np.ndarray:
    return np.array([any(a <= t < b for a, b in fr.report["output_windows"]) for t in fr.times])


@pytest.mark.parametrize("stretch", [0.0, 0.3], ids=["fit", "elastic"])
def test_only_window_frames_are_rendered_at_their_times(generator: torch.nn.Module, stretch: float) -> None:
    src = source("interview_man")
    fr, rec = _render(src, track_of(src, edit(src, *SLOT, NEW, stretch)), generator)
    window = _in_windows(fr)
    assert abs(fr.times[-1] - (src.video.times[-1] + stretch)) < 1e-3  # the clip plays longer by the stretch
    assert (len(fr.times) == src.video.frames) if not stretch else (len(fr.times) > src.video.frames)
    assert sorted(fr.rendered) == list(np.nonzero(window)[0])  # every window frame (faces are usable), nothing else
    assert fr.report["faces_lost"] == []
    outside = ~window & (fr.times < SLOT[0])
    assert np.array_equal(fr.source_index[outside], np.nonzero(outside)[0])  # before the slot: the source's frames
    if stretch:
        after = fr.times >= fr.report["output_windows"][-1][1]
        assert np.all(fr.source_index[after] < np.nonzero(after)[0])  # after it: the same frames, later
    times = np.concatenate(rec.calls)
    assert np.allclose(times, fr.times[sorted(fr.rendered)])  # mel windows at the output times
    assert max(len(c) for c in rec.calls) == BATCH and len(rec.calls) == -(-len(times) // BATCH)


def test_new_pixels_only_in_the_feathered_lower_face(generator: torch.nn.Module) -> None:
    src = source("interview_man")
    fr, _ = _render(src, track_of(src, edit(src, *SLOT, NEW)), generator)
    boxes = face_boxes(src.face.landmarks, src.face.usable)
    checked = 0
    for k in sorted(fr.rendered)[3:-3]:  # full strength (past the ease-in/out)
        own = frames(src.path)[k]
        diff = np.abs(fr.rendered[k].astype(np.int16) - own.astype(np.int16)).max(axis=2)
        lm = src.face.landmarks[k]
        eyes = int(lm[list(L.EYE_OUTER), 1].max())
        assert diff[:eyes].max() == 0  # forehead, eyes and everything above: the source's pixels
        x0, _y0, x1, y1 = int_box(boxes[k])
        assert diff[:, : max(0, x0)].max() == 0 and diff[:, x1:].max() == 0  # outside the crop box
        corner = max(2, (x1 - x0) // 20)
        assert diff[y1 - 3 * corner : y1 - corner, x0 + corner : x0 + 3 * corner].max() == 0  # not the square box
        mx, my = L.mouth_center(lm).astype(int)
        assert diff[my - 5 : my + 6, mx - 5 : mx + 6].mean() > 8  # the model's mouth is there
        checked += 1
    assert checked >= 8


def test_face_less_frames_pass_through(generator: torch.nn.Module, black_frames: BlackFrames) -> None:
    bf = black_frames
    src = Source(bf.src.name, bf.path, bf.video, bf.src.audio, bf.face, bf.src.alignment, bf.inventory)
    fr, _ = _render(src, bf.track, generator)
    window = set(np.nonzero(_in_windows(fr))[0].tolist())
    assert set(bf.black) <= window and fr.report["faces_lost"] == bf.black
    assert not set(fr.rendered) & set(bf.black)  # passed through: written from the source (black)
    assert set(fr.rendered) == window - set(bf.black)  # the rest of the window is rendered
