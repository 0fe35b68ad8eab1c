"""Bad input end to end: each problem is a coded diagnostic (never a Python traceback), a bad
row fails alone while the others render, and pictures vpipe cannot re-animate (no face,
face lost, a second face) pass through untouched with a report."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.e2e.helpers import (
    GLASSES,
    INTERVIEW,
    Clip,
    Run,
    changed_pixels,
    derive_clip,
    heard,
    luma_frames,
    psnr,
    run_recipe,
    source_slot,
    vpipe,
    write_recipe,
)
from tests.media import shared_media

pytestmark = pytest.mark.media


def _shared_codes(run: Run) -> list[str]:
    return [d["code"] for d in run.shared["diagnostics"]]


def _mp4s(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.rglob("*.mp4"))


# --- the recipe cannot be run ----------------------------------------------------------------------
def test_video_without_audio_track_is_refused(tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path, INTERVIEW, ["feedback"], source=shared_media("silent_presenter.mp4"))
    cli = vpipe("run", recipe, "--no-progress")
    assert cli.code == 2
    assert f"{recipe}:4:10: VP022 source video 'silent_presenter.mp4' has no audio track" in cli.stderr
    assert "help: record the video with sound, or give source.audio" in cli.stderr
    assert _mp4s(tmp_path) == []


def test_slot_word_missing_from_the_transcript_is_refused(tmp_path: Path) -> None:
    recipe = write_recipe(tmp_path, INTERVIEW, ["feedback"])
    recipe.write_text(recipe.read_text().replace("{say: help}", "{say: pizza}"))
    cli = vpipe("run", recipe, "--no-progress")
    assert cli.code == 2
    assert f"{recipe}:7:16: VP201 slot 'value': 'pizza' is not said in the source" in cli.stderr
    assert f"note: transcript: {INTERVIEW.transcript}" in cli.stderr
    assert _mp4s(tmp_path) == []


def test_still_image_without_a_face_is_refused(tmp_path: Path) -> None:
    yy, xx = np.mgrid[0:256, 0:256]
    image = tmp_path / "wall.png"
    cv2.imwrite(str(image), np.stack([xx, yy, np.full_like(xx, 128)], -1).astype(np.uint8))
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        f"""vpipe: 1
name: still
source:
  image: {image}
template: "Hi {{{{ name }}}}, welcome!"
rows: [{{name: Ana}}, {{name: Ben}}]
output: {{path: "out/{{{{ row_id }}}}.mp4"}}
""",
        encoding="utf-8",
    )
    cli = vpipe("run", recipe, "--no-progress")
    assert cli.code == 2
    assert "VP306 no face was found in the source image wall.png" in cli.stderr
    assert _mp4s(tmp_path) == []


# --- a slot word the recording does not say ----------------------------------------------------------
@pytest.fixture(scope="module")
def unsaid_run(tmp_path_factory: pytest.TempPathFactory, e2e_cache: Path) -> Run:
    """The transcript claims 'pizza' where the speaker says 'help', and the slot is 'pizza'."""
    recipe = write_recipe(tmp_path_factory.mktemp("unsaid"), INTERVIEW, ["feedback"])
    recipe.write_text(recipe.read_text().replace("help", "pizza"))
    return run_recipe(recipe, cache=e2e_cache)


def test_slot_word_not_in_the_audio_is_flagged_in_the_manifest(unsaid_run: Run) -> None:
    assert unsaid_run.cli.code == 0, unsaid_run.cli.text
    assert "VP206" in _shared_codes(unsaid_run)
    (d,) = [d for d in unsaid_run.shared["diagnostics"] if d["code"] == "VP206"]
    assert d["severity"] == "warning" and "'pizza'" in d["message"] and d["line"] == 7


def test_slot_word_not_in_the_audio_is_flagged_on_the_console(unsaid_run: Run) -> None:
    """The user who runs `vpipe run` must see the warning, not only the manifest."""
    assert "VP206" in unsaid_run.cli.stderr, unsaid_run.cli.text


# --- bad rows fail alone -----------------------------------------------------------------------------
ROW_VALUES = ("Zoë", "", "x" * 200, "Дмитрий", "José", "Łukasz")
GOOD_ROWS = {"r1": "Zoë", "r5": "José", "r6": "Łukasz"}


@pytest.fixture(scope="module")
def rows_run(tmp_path_factory: pytest.TempPathFactory, e2e_cache: Path) -> Run:
    return run_recipe(write_recipe(tmp_path_factory.mktemp("rows"), INTERVIEW, ROW_VALUES), cache=e2e_cache)


def test_bad_rows_fail_and_the_others_render(rows_run: Run) -> None:
    assert rows_run.cli.code == 1
    assert "rendered 3 row(s), 0 up to date, 3 failed" in rows_run.cli.stdout
    statuses = {row_id: row["status"] for row_id, row in rows_run.rows.items()}
    assert statuses == {"r1": "ok", "r2": "failed", "r3": "failed", "r4": "failed", "r5": "ok", "r6": "ok"}
    assert _mp4s(rows_run.recipe.parent) == ["r1.mp4", "r5.mp4", "r6.mp4"]


@pytest.mark.parametrize(
    ("row_id", "code", "message"),
    [
        ("r2", "VP047", "row 2: 'value' is empty"),
        ("r3", "VP048", "row 3: 'value' has 200 characters; at most 60 fit a slot"),
        ("r4", "VP305", "row 4: 'value' cannot be spoken: Cyrillic letters ('Дмитрий')"),
    ],
)
def test_bad_row_has_a_coded_diagnostic(rows_run: Run, row_id: str, code: str, message: str) -> None:
    assert rows_run.codes(row_id) == [code]
    assert message in rows_run.rows[row_id]["diagnostics"][0]["message"]
    line = int(row_id[1:]) + 1  # the header is line 1
    assert f"{rows_run.recipe.with_suffix('.csv')}:{line}:1: {code} {message}" in rows_run.cli.stderr
    assert "output" not in rows_run.rows[row_id]


def test_unicode_latin_names_are_spoken(rows_run: Run) -> None:
    for row_id, value in GOOD_ROWS.items():
        result = heard(rows_run.output(row_id), INTERVIEW, value)
        assert result.new_wins, f"'{value}': {result}"
        assert rows_run.rows[row_id]["qc"]["failures"] == []


# --- pictures without a usable face ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def no_face_run(tmp_path_factory: pytest.TempPathFactory, e2e_cache: Path) -> tuple[Path, Run]:
    """The interview's speech under a plain grey picture."""
    work = tmp_path_factory.mktemp("no-face")
    source = derive_clip(INTERVIEW.source, work / "grey.mp4", lambda i, t, img: np.full_like(img, 90))
    return source, run_recipe(
        write_recipe(work, INTERVIEW, ["feedback"], lipsync="retrieve", source=source), cache=e2e_cache
    )


def test_video_without_a_face_passes_through_with_lip_sync_skipped(no_face_run: tuple[Path, Run]) -> None:
    source, run = no_face_run
    assert run.cli.code == 0, run.cli.text
    assert run.rows["r1"]["status"] == "ok"
    assert "VP306" in _shared_codes(run)
    assert any("no face was found in the source" in d["message"] for d in run.shared["diagnostics"])
    src, out = luma_frames(source), luma_frames(run.output("r1"))
    assert len(out) == len(src)
    assert min(psnr(a, b) for (_, a), (_, b) in zip(src, out, strict=True)) > 45
    assert heard(run.output("r1"), INTERVIEW, "feedback").new_wins  # the sound is still personalized


def test_video_without_a_face_is_reported_on_the_console(no_face_run: tuple[Path, Run]) -> None:
    _, run = no_face_run
    assert "VP306" in run.cli.stderr, run.cli.text


@pytest.fixture(scope="module")
def face_lost_run(tmp_path_factory: pytest.TempPathFactory, e2e_cache: Path) -> tuple[list[int], Path, Run]:
    """Black frames spliced over the middle of the slot word (the sound is kept)."""
    work = tmp_path_factory.mktemp("face-lost")
    slot = source_slot(INTERVIEW)
    times = [t for t, _ in luma_frames(INTERVIEW.source)]
    inside = [i for i, t in enumerate(times) if slot.start <= t < slot.end]
    black = inside[len(inside) // 2 : len(inside) // 2 + 2]  # slot frames stay on both sides
    assert len(black) == 2 and black[0] > inside[0] and black[-1] < inside[-1]
    source = derive_clip(INTERVIEW.source, work / "lost.mp4", lambda i, t, img: img * 0 if i in black else img)
    run = run_recipe(write_recipe(work, INTERVIEW, ["feedback"], lipsync="retrieve", source=source), cache=e2e_cache)
    return black, source, run


def test_face_lost_in_a_slot_passes_those_frames_through(face_lost_run: tuple[list[int], Path, Run]) -> None:
    black, source, run = face_lost_run
    assert run.cli.code == 0, run.cli.text
    assert run.rows["r1"]["status"] == "ok"
    assert "VP312" in run.codes("r1")
    assert f"VP312 warning: {len(black)} frames of the slot windows have no usable face" in run.cli.stderr
    src, out = luma_frames(source), luma_frames(run.output("r1"))
    assert len(out) == len(src)
    for i in black:
        assert out[i][1].max() < 20, f"frame {i} was painted over"
    # the slot's other frames were re-animated; frames away from the slot are the source's
    near = [i for i in range(black[0] - 3, black[-1] + 4) if i not in black]
    assert max(changed_pixels(src[i][1], out[i][1], 10) for i in near) > 300
    far = [i for i in range(len(src)) if abs(i - black[0]) > 15]
    assert max(changed_pixels(src[i][1], out[i][1]) for i in far) == 0
    assert heard(run.output("r1"), INTERVIEW, "feedback").new_wins


def _side_by_side(i: int, t: float, img: np.ndarray) -> np.ndarray:
    """The frame at full size on the left, a half-size copy on the right: two faces."""
    h, w = img.shape[:2]
    canvas = np.full((h, w + w // 2, 3), 128, np.uint8)
    canvas[:, :w] = img
    canvas[h // 4 : h // 4 + h // 2, w:] = cv2.resize(img, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    return canvas


@pytest.fixture(scope="module")
def two_faces_run(tmp_path_factory: pytest.TempPathFactory, e2e_cache: Path) -> tuple[Clip, Path, Run]:
    work = tmp_path_factory.mktemp("two-faces")
    source = derive_clip(GLASSES.source, work / "two.mp4", _side_by_side)
    run = run_recipe(write_recipe(work, GLASSES, ["legislation"], lipsync="retrieve", source=source), cache=e2e_cache)
    return GLASSES, source, run


def test_two_faces_only_the_largest_is_edited(two_faces_run: tuple[Clip, Path, Run]) -> None:
    clip, source, run = two_faces_run
    assert run.cli.code == 0, run.cli.text
    assert run.rows["r1"]["status"] == "ok"
    assert any("more than one face" in d["message"] for d in run.shared["diagnostics"] if d["code"] == "VP306")
    src, out = luma_frames(source), luma_frames(run.output("r1"))
    assert len(out) == len(src)
    w = src[0][1].shape[1] * 2 // 3  # the left (large) face's width
    pairs = list(zip(src, out, strict=True))
    assert min(psnr(a[:, w:], b[:, w:]) for (_, a), (_, b) in pairs) > 45, "the second face was edited"
    assert max(changed_pixels(a[:, w:], b[:, w:]) for (_, a), (_, b) in pairs) == 0
    assert max(changed_pixels(a[:, :w], b[:, :w]) for (_, a), (_, b) in pairs) > 100, "nothing was re-animated"
    assert heard(run.output("r1"), clip, "legislation").new_wins


def test_two_faces_are_reported_on_the_console(two_faces_run: tuple[Clip, Path, Run]) -> None:
    _, _, run = two_faces_run
    assert "VP306" in run.cli.stderr, run.cli.text
