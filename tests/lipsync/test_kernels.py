"""The lip-sync kernels as the runtime calls them (op attributes, input values, a RunContext)
and the diagnostics they report when the face is missing or turned: VP306 (no face found)
and VP312 (face turned or lost in a slot window), both explained in codes.yaml.

The faceless inputs are real frames with the face removed: interview_man with 4 black frames
inside the slot (the `black_frames` fixture), a clip of black frames, a black image."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.lipsync.conftest import BlackFrames
from tests.lipsync.sources import open_video, source, write_video
from vpipe.data.alignment import Segment
from vpipe.data.audio import Audio
from vpipe.data.media import Frames, ImageSource, TimelineEdit, Track
from vpipe.diagnostics.codes import codes
from vpipe.diagnostics.diagnostic import DiagnosticError, Severity
from vpipe.ir.graph import Op
from vpipe.kernel_api.context import RunContext
from vpipe.kernels.face import Inventory, TrackFace, TrackImage
from vpipe.kernels.lipsync_retrieve import Retime, Retrieve
from vpipe.kernels.lipsync_warp import Animate

# what lowering always sets on these ops (the dialect requires them; the recipe's defaults)
LOWERED = {
    "face.track": {"select": "largest", "index": 0, "max_yaw_deg": 35.0},
    "face.track_image": {"select": "largest", "index": 0},
}


def _op(kind: str, **attrs: object) -> Op:
    return Op(kind, (), (), {**LOWERED.get(kind, {}), **attrs})


def _codes(rt: RunContext) -> list[str]:
    return [d.code for d in rt.diagnostics]


def test_face_codes_are_explained() -> None:
    """Both codes the face and lip-sync kernels warn with are in the table `vpipe explain` reads."""
    table = codes()
    assert "face" in table["VP306"].title and "face" in table["VP312"].title


@pytest.mark.media
@pytest.mark.parametrize("kernel", [Retrieve, Retime])
def test_lipsync_kernel_warns_when_the_face_is_lost_in_a_window(
    black_frames: BlackFrames, tmp_path: Path, kernel: type
) -> None:
    """The retrieve and retime kernels on the clip with black frames 31-34 inside the slot:
    one VP312 warning counting exactly those 4 frames; they pass through (not rendered); the
    frames are the same as a direct `retrieve` with the kernel's offset."""
    clip = black_frames
    rt = RunContext(tmp_path)
    op = _op("lipsync.apply", margin_ms=120.0)
    fr = kernel().run(op, [clip.video, clip.face, clip.track, None, clip.inventory], rt)
    assert isinstance(fr, Frames)
    assert _codes(rt) == ["VP312"] and rt.diagnostics[0].severity is Severity.WARNING
    assert rt.diagnostics[0].message.startswith("4 frames")
    assert fr.report["faces_lost"] == clip.black
    direct = clip.retrieve(kernel.max_offset)
    assert set(fr.rendered) == set(direct.rendered)
    assert all(np.array_equal(fr.rendered[k], direct.rendered[k]) for k in fr.rendered)


@pytest.mark.media
def test_lipsync_kernel_without_lost_faces_is_silent(tmp_path: Path) -> None:
    """On the intact clip the same slot renders without any diagnostic; the windows given by
    segment-lipsync (same number as the slots) are used as they are."""
    from tests.lipsync.sources import edit, track_of

    src = source("interview_man")
    track = track_of(src, edit(src, 1.22, 1.87, ("P", "AA", "M", "AA")))
    rt = RunContext(tmp_path)
    op = _op("lipsync.apply", margin_ms=120.0, windows=[[1.0, 2.1]])
    fr = Retrieve().run(op, [src.video, src.face, track, None, src.inventory], rt)
    assert rt.diagnostics == []
    assert fr.report["windows"] == [[1.0, 2.1]] and fr.rendered


@pytest.mark.media
def test_track_face_reports_missing_and_turned_frames(black_frames: BlackFrames, tmp_path: Path) -> None:
    """face.track on the black-frame clip with max_yaw_deg set to the clip's median |yaw|:
    VP306 names exactly the black frames ("no face in 4 of 60 frames (frames 31–34)"),
    VP312 counts the frames turned beyond that limit — as many as the track says."""
    clip = black_frames
    yaw = np.abs(clip.face.pose[clip.face.present, 0])
    limit = float(np.median(yaw))
    rt = RunContext(tmp_path)
    track = TrackFace().run(_op("face.track", max_yaw_deg=limit), [clip.video], rt)
    assert np.array_equal(np.nonzero(~track.present)[0], clip.black)
    assert _codes(rt) == ["VP306", "VP312"]
    assert "no face in 4 of 60 frames (frames 31–34)" in rt.diagnostics[0].message
    turned = int((track.present & ~track.usable).sum())
    assert turned > 10
    assert rt.diagnostics[1].message.startswith(f"the face is turned too far in {turned} frames (frames ")


@pytest.fixture(scope="module")
def faceless(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 black frames at 25 fps."""
    path = tmp_path_factory.mktemp("faceless") / "black.mp4"
    return write_video(path, [np.zeros((240, 320, 3), np.uint8)] * 12, [i / 25 for i in range(12)])


@pytest.mark.media
def test_no_face_anywhere(faceless: Path, tmp_path: Path) -> None:
    """A clip without any face: face.track warns VP306 (lip-sync will be skipped), the
    inventory kernel warns VP306 and returns an empty inventory, and lipsync.apply passes
    every window frame through with one VP312."""
    video = open_video(faceless)
    rt = RunContext(tmp_path)
    track = TrackFace().run(_op("face.track"), [video], rt)
    assert not track.present.any()
    assert _codes(rt) == ["VP306"] and "no face was found" in rt.diagnostics[0].message
    inv = Inventory().run(_op("face.inventory"), [video, track, source("interview_man").alignment], rt)
    assert inv.size == 0 and _codes(rt) == ["VP306", "VP306"]
    assert "no mouth inventory" in rt.diagnostics[1].message
    audio = Audio(np.zeros((8000, 1), np.float32), 16000)
    edit = TimelineEdit("s", 0.1, 0.3, 0.1, 0.3, "ah", "", (Segment("AA", 0.0, 0.2),))
    fr = Retrieve().run(_op("lipsync.apply", margin_ms=40.0), [video, track, Track(audio, (edit,)), None, inv], rt)
    assert fr.rendered == {}
    window = [k for k, t in enumerate(fr.times) if 0.06 <= t < 0.34]
    assert fr.report["faces_lost"] == window
    assert _codes(rt)[-1] == "VP312" and rt.diagnostics[-1].message.startswith(f"{len(window)} frames")


def test_track_image_without_a_face_is_an_error(tmp_path: Path) -> None:
    """face.track_image on a black picture raises VP306 (a still without a face cannot be
    animated at all)."""
    import cv2

    path = tmp_path / "black.png"
    cv2.imwrite(str(path), np.zeros((300, 240, 3), np.uint8))
    with pytest.raises(DiagnosticError) as err:
        TrackImage().run(_op("face.track_image"), [ImageSource(path, "", 240, 300)], RunContext(tmp_path))
    assert [d.code for d in err.value.diagnostics] == ["VP306"]


def test_animate_kernel_renders_every_frame_of_the_narration(tmp_path: Path) -> None:
    """lipsync.animate on grace_hopper.jpg with a 0.6 s narration (a 0.2 s lead, then "P AA"):
    one still-sourced frame per 1/25 s, all rendered; the mouth closed in the lead and open
    on the vowel when the frames are tracked again."""
    import cv2

    from vpipe.face.landmarks import mouth_aperture
    from vpipe.face.tracker import track_frames
    from vpipe.sample import portrait

    image_path = portrait()
    img = cv2.imread(str(image_path))
    image = ImageSource(image_path, "", img.shape[1], img.shape[0])
    rt = RunContext(tmp_path)
    track = TrackImage().run(_op("face.track_image"), [image], rt)
    narration = TimelineEdit("", 0.0, 0.0, 0.2, 0.6, "pa", "", (Segment("P", 0.0, 0.1), Segment("AA", 0.1, 0.4)))
    audio = Track(Audio(np.zeros((9600, 1), np.float32), 16000), (narration,))
    fr = Animate().run(_op("lipsync.animate", fps=25.0), [image, track, audio], rt)
    assert fr.still and len(fr.times) == 15 and np.allclose(np.diff(fr.times), 0.04)
    assert sorted(fr.rendered) == list(range(15)) and (fr.source_index == 0).all()
    assert fr.report == {"identity_timeline": False, "animated": 15}
    ap = np.asarray(mouth_aperture(track_frames([fr.rendered[k] for k in range(15)], fr.times).landmarks))
    assert ap[:4].max() < 0.02  # 0-0.12 s: the lead, mouth as in the portrait
    assert ap[10:13].max() > 0.15  # 0.40-0.48 s: the middle of AA
    assert fr.source == image_path  # the still itself is the source of every frame
