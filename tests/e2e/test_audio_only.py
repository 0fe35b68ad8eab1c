"""Audio-only personalization (`lipsync: {model: none}`) of the three real clips, judged on
the written files: the picture is the source's own bitstream, only the slot's sound
changed, the new word is what an aligner hears there; and `duration: elastic` retimes the
picture with the sound so the two stay in step after the slot."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tests.e2e.helpers import (
    CLIPS,
    INTERVIEW,
    Clip,
    Run,
    decode_audio,
    frame_interval,
    heard,
    luma_frames,
    psnr,
    run_recipe,
    slot_timing,
    source_slot,
    stream_durations,
    video_packets,
    write_recipe,
)
from vpipe.speech.splice import SNAP
from vpipe.text import words_of

pytestmark = pytest.mark.media

ROWS = {"r1": 0, "r2": 1}  # row id → index into the clip's values


@pytest.fixture(scope="module", params=CLIPS, ids=lambda c: c.name)
def audio_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, e2e_cache: Path):
    """One `vpipe run` per clip: 2 rows, audio only, each new word fitted into the old one's time."""
    clip: Clip = request.param
    work = tmp_path_factory.mktemp(f"audio-{clip.name}")
    recipe = write_recipe(work, clip, clip.values[:2], lipsync="none", duration="fit")
    return clip, run_recipe(recipe, cache=e2e_cache)


def _value(clip: Clip, row_id: str) -> str:
    return clip.values[ROWS[row_id]]


def test_every_row_renders(audio_run: tuple[Clip, Run]) -> None:
    _, run = audio_run
    assert run.cli.code == 0, run.cli.text
    assert "rendered 2 row(s), 0 up to date, 0 failed" in run.cli.stdout
    assert set(run.rows) == set(ROWS)
    for row_id, row in run.rows.items():
        assert row["status"] == "ok", row
        assert run.output(row_id).is_file() and run.output(row_id).stat().st_size > 10_000


def test_video_stream_is_the_source_bitstream(audio_run: tuple[Clip, Run]) -> None:
    """Not a single picture is re-encoded: every video packet has the source's bytes and time."""
    clip, run = audio_run
    source = video_packets(clip.source)
    for row_id in ROWS:
        out = video_packets(run.output(row_id))
        assert len(out) == len(source)
        assert [t for t, _ in out] == [t for t, _ in source]
        mismatched = [i for i, (a, b) in enumerate(zip(out, source, strict=True)) if a[1] != b[1]]
        assert not mismatched, f"{row_id}: packets {mismatched[:5]} differ from the source"


def test_audio_format_and_length_match_the_source(audio_run: tuple[Clip, Run]) -> None:
    clip, run = audio_run
    src = decode_audio(clip.source)
    for row_id in ROWS:
        out = decode_audio(run.output(row_id))
        assert (out.rate, out.channels) == (src.rate, src.channels)
        assert abs(out.duration - src.duration) <= 1024 / src.rate  # one AAC frame
        video_end, audio_end = stream_durations(run.output(row_id))
        src_video_end, src_audio_end = stream_durations(clip.source)
        assert video_end == pytest.approx(src_video_end, abs=1e-3)
        assert audio_end == pytest.approx(src_audio_end, abs=1024 / src.rate)


def test_only_the_slot_is_resynthesized(audio_run: tuple[Clip, Run]) -> None:
    """Outside the slot (±0.1 s for the crossfades) the sound is the source's, up to AAC
    re-encoding; inside it, it is something else."""
    clip, run = audio_run
    src = decode_audio(clip.source)
    slot = source_slot(clip)
    for row_id in ROWS:
        out = decode_audio(run.output(row_id))
        n = min(len(out.samples), len(src.samples))
        a, b = src.samples[:n], out.samples[:n]
        outside = np.ones(n, bool)
        outside[int((slot.start - 0.1) * src.rate) : int((slot.end + 0.1) * src.rate)] = False
        inside = np.zeros(n, bool)
        inside[int(slot.start * src.rate) : int(slot.end * src.rate)] = True

        def snr(mask: np.ndarray, a: np.ndarray = a, b: np.ndarray = b) -> float:
            return 10 * math.log10(float(np.sum(a[mask] ** 2)) / max(float(np.sum((b[mask] - a[mask]) ** 2)), 1e-12))

        assert snr(outside) > 25, f"{row_id}: the speech around the slot changed (SNR {snr(outside):.1f} dB)"
        assert snr(inside) < 10, f"{row_id}: the slot still sounds like the source (SNR {snr(inside):.1f} dB)"


def test_the_new_word_is_heard_over_the_recorded_one(audio_run: tuple[Clip, Run]) -> None:
    """Forced alignment of the whole output: at the slot, the new words fit the audio better
    than the recorded ones did (and on the source itself, the other way round)."""
    clip, run = audio_run
    for row_id in ROWS:
        value = _value(clip, row_id)
        out = heard(run.output(row_id), clip, value)
        print(f"{clip.name} {row_id} '{value}': aligner confidence new {out.new:.1f}, recorded {out.old:.1f}")
        assert out.new_wins, f"{row_id}: '{value}' scores {out.new:.1f}, '{clip.slot_word}' {out.old:.1f}"
        src = heard(clip.source, clip, value)
        assert not src.new_wins, f"the check cannot tell: on the source '{value}' scores {src.new:.1f}"


def test_manifest_reports_audio_qc(audio_run: tuple[Clip, Run]) -> None:
    _, run = audio_run
    header = run.records[0]
    assert header["type"] == "run" and header["rows"] == 2
    assert run.records[-1]["type"] == "summary" and run.records[-1]["ok"] == 2
    for row_id, row in run.rows.items():
        m = row["qc"]["metrics"]
        print(f"{row_id}: loudness {m['value.loudness_delta_db']:+.2f} dB, click ratio {m['value.click_ratio']:.2f}")
        assert row["qc"]["failures"] == [], row["qc"]
        assert abs(m["value.loudness_delta_db"]) <= 0.5  # measured ≤ 0.07 dB; vpipe's own QC allows 2
        assert m["value.click_ratio"] < 1.0
        # null: the recorded words could not be aligned to the output at all (strict JSON has no -Infinity)
        assert m["value.heard_old"] is None or m["value.heard_new"] > m["value.heard_old"]
        assert row["timings"] and row["output"].endswith(f"{row_id}.mp4")


# --- elastic: the new word keeps its natural length ---------------------------------------------
ELASTIC_VALUES = ("it", "mentoring")  # shorter and longer than the recorded "help"


@pytest.fixture(scope="module")
def elastic_run(tmp_path_factory: pytest.TempPathFactory, e2e_cache: Path) -> Run:
    recipe = write_recipe(
        tmp_path_factory.mktemp("elastic"), INTERVIEW, ELASTIC_VALUES, lipsync="none", duration="elastic"
    )
    return run_recipe(recipe, cache=e2e_cache)


def _elastic_rows(run: Run) -> list[tuple[str, Path]]:
    assert run.cli.code == 0, run.cli.text
    rows = [(value, run.output(f"r{i + 1}")) for i, value in enumerate(ELASTIC_VALUES)]
    assert all(run.rows[f"r{i + 1}"]["status"] == "ok" for i in range(len(rows)))
    return rows


def test_elastic_length_changes_by_the_word_difference(elastic_run: Run) -> None:
    clip = INTERVIEW
    frame = frame_interval(clip.source)
    src_audio = decode_audio(clip.source)
    src_video_end, _ = stream_durations(clip.source)
    old = source_slot(clip)
    for value, path in _elastic_rows(elastic_run):
        out_audio = decode_audio(path)
        new = slot_timing(out_audio, clip, value)
        delta = out_audio.duration - src_audio.duration
        word_delta = (new.end - new.start) - (old.end - old.start)
        assert abs(delta) > 0.05, f"'{value}': the output is as long as the source ({delta:+.3f} s)"
        # each cut may move by up to SNAP to the quietest point near the aligned word boundary, so
        # the replaced span differs from the aligned word by up to 2·SNAP (measured 47 ms for 'it')
        slack = frame + 2 * SNAP
        assert delta == pytest.approx(word_delta, abs=slack), f"'{value}': {delta:+.3f} s vs words {word_delta:+.3f}"
        video_end, audio_end = stream_durations(path)
        assert video_end - src_video_end == pytest.approx(delta, abs=frame), f"'{value}': picture vs sound"
        assert video_end == pytest.approx(audio_end, abs=max(frame, abs(src_video_end - src_audio.duration)) + 0.01)
        # the recorded words after the slot are heard `delta` later (the median over them:
        # single word boundaries move by an aligner frame or two)
        shifts = [
            w_out.start - w_src.start
            for w_out, w_src in zip(
                new.words[new.index + len(words_of(value)) :],
                old.words[old.index + len(words_of(clip.slot_word)) :],
                strict=True,
            )
        ]
        assert len(shifts) >= 4
        assert float(np.median(shifts)) == pytest.approx(delta, abs=0.03), shifts


def test_elastic_picture_stays_in_step_after_the_slot(elastic_run: Run) -> None:
    """A frame after the slot shows the source frame from `delta` earlier (the best match by
    decoded PSNR among all source frames), not the one at the same time."""
    clip = INTERVIEW
    frame = frame_interval(clip.source)
    src_audio = decode_audio(clip.source)
    src_frames = luma_frames(clip.source)
    old = source_slot(clip)
    for value, path in _elastic_rows(elastic_run):
        delta = decode_audio(path).duration - src_audio.duration
        out_frames = luma_frames(path)
        first, last = old.end + delta + 0.3, out_frames[-1][0] - 0.2
        for target in np.linspace(first, last, 4):
            t_out, image = min(out_frames, key=lambda f, target=target: abs(f[0] - target))
            best_t, best_image = max(src_frames, key=lambda f, image=image: psnr(f[1], image))
            assert best_t == pytest.approx(t_out - delta, abs=frame), f"'{value}' at {t_out:.3f} s shows {best_t:.3f}"
            assert psnr(best_image, image) > 40
