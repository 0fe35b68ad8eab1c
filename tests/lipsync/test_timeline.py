"""The output frame timeline of a row, on the real variable-frame-rate clip interview_man.mp4
(frame intervals of 1/30 and 1/15 s; only its frame times are read).

Fitted slots keep the source's frames at their own times; an elastic slot changes the
length of its window, frames after it move by exactly the change, and inside it each new
frame shows the source moment it maps to linearly."""

from __future__ import annotations

import numpy as np
import pytest

from tests.lipsync.sources import open_video
from tests.media import shared_media
from vpipe.data.audio import Audio
from vpipe.data.media import TimelineEdit, Track, VideoSource
from vpipe.lipsync.timeline import merge_windows, output_timeline, slot_windows, within

SILENT = Audio(np.zeros((16000, 1), np.float32), 16000)
MARGIN = 0.12


@pytest.fixture(scope="module")
def video() -> VideoSource:
    v = open_video(shared_media("interview_man.mp4"))
    steps = np.round(np.diff(v.times), 4)
    assert set(steps) == {0.0333, 0.0667}  # the clip really is variable frame rate
    return v


def _track(*edits: tuple[float, float, float]) -> Track:
    """Edits from (source_start, source_end, output length), output times shifted by the
    edits before each one."""
    out, shift = [], 0.0
    for a, b, length in edits:
        out.append(TimelineEdit("s", a, b, a + shift, a + shift + length))
        shift += length - (b - a)
    return Track(SILENT, tuple(out))


def _source_time(track: Track, t: float) -> float:
    """Source time shown at output time t, from the edits' definition (piecewise linear)."""
    shift = 0.0
    for e in track.edits:
        if t < e.output_start:
            break
        if t < e.output_end:
            return e.source_start + (t - e.output_start) * (e.source_end - e.source_start) / (
                e.output_end - e.output_start
            )
        shift += (e.output_end - e.output_start) - (e.source_end - e.source_start)
    return t - shift


@pytest.mark.media
@pytest.mark.parametrize("edits", [(), ((1.66, 1.87, 0.21),), ((0.47, 0.84, 0.37), (3.99, 4.23, 0.24))])
def test_fitted_edits_keep_the_source_timeline(video: VideoSource, edits: tuple) -> None:
    """No edit changes length: the source's own frames at their own (VFR) times."""
    track = _track(*edits)
    assert not track.retimed
    tl = output_timeline(video, track, slot_windows(track, MARGIN, video.duration))
    assert tl.identity
    assert np.array_equal(tl.times, video.times)
    assert np.array_equal(tl.pose_frame, np.arange(video.frames))
    assert np.array_equal(tl.position, np.arange(video.frames))


@pytest.mark.media
@pytest.mark.parametrize("delta", [0.3, -0.08])
def test_elastic_edit_shifts_later_frames_and_maps_the_window(video: VideoSource, delta: float) -> None:
    """'help' (1.66-1.87 s) said 0.3 s longer (or 0.08 s shorter): frames before the window
    are untouched, every frame after it plays exactly `delta` later showing the same source
    frame, and inside the window the frames are laid at the window's frame rate, each showing
    the source frame at the linearly mapped source time (the head pose is interpolated)."""
    a, b = 1.66, 1.87
    track = _track((a, b, b - a + delta))
    windows = slot_windows(track, MARGIN, video.duration)
    (wa, wb) = windows[0]
    assert (wa, wb) == pytest.approx((a - MARGIN, b + MARGIN))
    tl = output_timeline(video, track, windows)
    assert not tl.identity
    assert np.all(np.diff(tl.times) > 1e-6)  # strictly increasing: no duplicate output times

    before = video.times < wa
    after = video.times >= wb
    n_before = int(before.sum())
    assert np.array_equal(tl.times[:n_before], video.times[before])
    assert np.array_equal(tl.pose_frame[:n_before], np.nonzero(before)[0])
    n_after = int(after.sum())
    assert np.allclose(tl.times[-n_after:], video.times[after] + delta, atol=1e-9)
    assert np.array_equal(tl.pose_frame[-n_after:], np.nonzero(after)[0])

    inside = slice(n_before, len(tl.times) - n_after)
    t_in, f_in = tl.times[inside], tl.pose_frame[inside]
    assert np.all((t_in >= wa) & (t_in < wb + delta))
    # the window's frame rate: its median source interval (1/30 s here)
    src_in = video.times[(video.times >= wa) & (video.times < wb)]
    step = float(np.median(np.diff(src_in)))
    assert np.allclose(np.diff(t_in), step, atol=1e-9)
    assert len(t_in) == pytest.approx((wb - wa + delta) / step, abs=1.5)
    for t, f in zip(t_in, f_in, strict=True):
        s = _source_time(track, float(t))
        want = int(np.searchsorted(video.times, s + 1e-9, side="right")) - 1
        assert f == want
    # where between its pose frame and the next each frame's source moment lies
    for k in range(inside.start, inside.stop):
        s, f = _source_time(track, float(tl.times[k])), int(tl.pose_frame[k])
        expected = (s - video.times[f]) / (video.times[f + 1] - video.times[f])
        assert tl.position[k] - f == pytest.approx(min(expected, 0.999), abs=1e-6)
    assert np.array_equal(tl.position[:n_before], np.nonzero(before)[0])
    assert np.array_equal(tl.position[-n_after:], np.nonzero(after)[0])
    assert np.all(np.diff(tl.position) > 0)  # the head moves forward, never stands still
    assert np.all(np.diff(tl.pose_frame) >= 0)  # the head never jumps back in time
    if delta > 0:  # stretched: every source frame of the window is still shown
        window_frames = set(np.nonzero((video.times >= wa) & (video.times < wb))[0])
        assert window_frames <= set(f_in.tolist())


@pytest.mark.media
def test_elastic_edit_after_a_fitted_one(video: VideoSource) -> None:
    """A fitted slot before an elastic one keeps its own frames; only the elastic window is
    re-laid and only what follows it moves."""
    track = _track((0.47, 0.84, 0.37), (3.99, 4.23, 0.5))
    windows = slot_windows(track, MARGIN, video.duration)
    assert len(windows) == 2
    tl = output_timeline(video, track, windows)
    second = windows[1]
    upto = video.times < second[0]
    k = int(upto.sum())
    assert np.array_equal(tl.times[:k], video.times[upto])
    after = video.times >= second[1]
    assert np.allclose(tl.times[-int(after.sum()) :], video.times[after] + 0.26, atol=1e-9)


@pytest.mark.media
def test_to_output_and_to_source_are_inverse(video: VideoSource) -> None:
    """Source → output → source is the identity, within and around two elastic edits."""
    track = _track((0.47, 0.84, 0.6), (3.99, 4.23, 0.1))
    for s in np.linspace(0.0, video.duration, 301):
        o = track.to_output(float(s))
        assert track.to_source(o) == pytest.approx(s, abs=1e-9)
        if not any(e.source_start <= s < e.source_end for e in track.edits):
            assert o == pytest.approx(s + sum(e.shift for e in track.edits if e.source_end <= s), abs=1e-9)
    outs = [track.to_output(float(s)) for s in np.linspace(0.0, video.duration, 301)]
    assert np.all(np.diff(outs) > 0)


@pytest.mark.media
@pytest.mark.parametrize("edits", [(), ((1.66, 1.87, 0.21),), ((0.47, 0.84, 0.6), (3.99, 4.23, 0.1), (4.3, 4.5, 0.25))])
def test_every_time_mapped_at_once_is_to_output_of_each(video: VideoSource, edits: tuple) -> None:
    """Track.to_outputs is to_output per time, bit for bit: the clip's frame times, times
    inside, at and between the edits' ends, before 0 and after the end, and NaN."""
    track = _track(*edits)
    ends = [x for e in track.edits for x in (e.source_start, e.source_end)]
    times = np.concatenate(
        [video.times, np.linspace(-1.0, video.duration + 1.0, 997), ends, np.nextafter(ends, -np.inf), [np.nan]]
    )
    got = track.to_outputs(times)
    want = np.array([track.to_output(float(t)) for t in times])
    assert got.dtype == np.float64 and np.array_equal(got, want, equal_nan=True)


def test_within_is_any_window_per_time() -> None:
    """Half-open windows, overlapping or not, none; edges exactly on a time."""
    times = np.round(np.arange(-0.5, 3.0, 0.05), 2)
    for windows in ([], [(0.0, 1.0)], [(0.2, 0.4), (0.3, 0.9), (2.0, 2.05)], [(1.0, 1.0)]):
        want = np.array([any(a <= t < b for a, b in windows) for t in times], bool)
        assert np.array_equal(within(times, windows), want), windows
    assert within(times, [(0.2, 0.4)]).sum() == 4  # 0.2, 0.25, 0.3, 0.35


def test_merge_windows() -> None:
    """Margins are added and clipped to [0, duration]; overlapping windows merge, others stay."""
    assert merge_windows([(0.05, 0.3)], 0.1, 5.0) == [(0.0, pytest.approx(0.4))]
    assert merge_windows([(4.8, 4.95)], 0.1, 5.0) == [(pytest.approx(4.7), 5.0)]
    got = merge_windows([(2.0, 2.2), (1.0, 1.2), (1.35, 1.5)], 0.1, None)
    assert got == [(pytest.approx(0.9), pytest.approx(1.6)), (pytest.approx(1.9), pytest.approx(2.3))]
    assert merge_windows([], 0.1, 5.0) == []
