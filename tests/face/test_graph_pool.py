"""The tracker keeps its mediapipe graphs for the next video of the process (face/tracker.py
`_pooled`): the landmarks must be the ones a new graph per video gives, to the bit, whatever
video came before (a face left in the tracking state, no face, another clip, two faces)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.face.conftest import frames_of

# (clip, first frame, end): windows of the length QC tracks and shorter, each starting where
# the window before it left a tracked face (or none: the black frames)
WINDOWS = (
    ("glasses_woman", 0, 20),
    ("glasses_woman", 20, 45),
    ("interview_man", 10, 40),
    ("black", 0, 3),
    ("studio_woman", 30, 31),
    ("studio_woman", 5, 44),
    ("two_faces", 0, 12),
    ("glasses_woman", 30, 60),
)


@pytest.fixture(scope="module")
def clips() -> dict[str, list[np.ndarray]]:
    out = {name: frames_of(name, 60) for name in ("glasses_woman", "interview_man", "studio_woman")}
    out["black"] = [np.zeros((524, 524, 3), np.uint8)] * 3
    # two people side by side: the detector sees both, so the multi-face graph is pooled too
    out["two_faces"] = [np.hstack([a, b]) for a, b in zip(out["interview_man"], out["studio_woman"], strict=True)]
    return out


def _track(images: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    from vpipe.face.tracker import track_frames

    track = track_frames(images, [i / 25 for i in range(len(images))], smooth_hz=0.0)
    return track.landmarks, track.faces


def test_pooled_graphs_track_like_new_ones(clips: dict[str, list[np.ndarray]]) -> None:
    from vpipe.face import tracker

    fresh = []
    for name, a, b in WINDOWS:  # a new graph for each window: the reference
        tracker.close_idle_graphs()
        fresh.append(_track(clips[name][a:b]))
    tracker.close_idle_graphs()
    for (name, a, b), (landmarks, faces) in zip(WINDOWS, fresh, strict=True):  # one graph reused
        got, got_faces = _track(clips[name][a:b])
        assert np.array_equal(got, landmarks, equal_nan=True), f"{name} {a}-{b}"
        assert np.array_equal(got_faces, faces)
    assert fresh[6][1].max() == 2, "the two-face window must have been tracked with two faces"
    idle = {(kind, faces): len(graphs) for (_, kind, faces), graphs in tracker._POOL.items()}
    assert idle == {("mesh", 1): 1, ("detector", 0): 1, ("mesh", 2): 1}, idle  # one per kind, not per video


def test_a_graph_is_reused_and_not_kept_after_an_error(clips: dict[str, list[np.ndarray]]) -> None:
    from vpipe.face import tracker

    tracker.close_idle_graphs()
    _track(clips["glasses_woman"][:5])
    key = next(k for k in tracker._POOL if k[1] == "mesh" and k[2] == 1)
    graph = tracker._POOL[key][0]
    _track(clips["studio_woman"][:5])
    assert tracker._POOL[key] == [graph]  # the same graph served the second video
    with pytest.raises(ValueError), tracker._pooled("mesh", 1, lambda: None) as taken:
        assert taken is graph
        raise ValueError("a failure while tracking")
    assert tracker._POOL[key] == []  # closed, never handed out again with unknown state


def test_tracking_state_would_leak_without_the_blank_frame(clips: dict[str, list[np.ndarray]]) -> None:
    """The control: the same graph run on without the blank frame gives other landmarks, so the
    equality above is the blank frame's doing and this test can tell."""
    from vpipe.face import tracker

    def run(mesh: object, images: list[np.ndarray]) -> np.ndarray:
        out = []
        for im in images:
            faces = tracker._faces(mesh.process(tracker._rgb(im)), im.shape[1], im.shape[0])  # type: ignore[attr-defined]
            out.append(faces[0])
        return np.stack(out)

    first, second = clips["glasses_woman"][:20], clips["glasses_woman"][20:45]
    with tracker._face_mesh(static=False, max_faces=1) as new:
        reference = run(new, second)
    with tracker._face_mesh(static=False, max_faces=1) as mesh:
        run(mesh, first)
        carried = run(mesh, second)
        run(mesh, first)
        tracker._warmed(mesh)
        cleared = run(mesh, second)
    assert np.array_equal(cleared, reference)
    assert not np.array_equal(carried, reference)
