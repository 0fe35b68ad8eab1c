"""Lip-sync judged by an independent oracle (slow): dlib's 68-point landmarks (tests/e2e/oracle.py),
not vpipe's tracker, viseme table or sync metric.

1. The same word again: a row whose value is the recorded word itself (re-animated: the
   keep-recorded pass, which would keep the recording, is disabled; duration `fit`, so every
   output frame shows the moment of the source frame at the same time) re-animates the mouth from
   the synthetic voice's phones. The recording is the ground truth for that mouth: the opening
   measured on the output must follow the real one at least as closely as the real mouth itself
   does three frames (120 ms, beyond the accepted audio-video lag) later, and the mouth region
   must look like the real one (PSNR).
2. Visemes: where the output's audio has a bilabial (m, b, p: found by aligning the output's own
   sound), the lips must close as this speaker closes them: the smallest opening around the phone
   may exceed the least-closed of the speaker's own bilabials (dlib, on the source) by at most a
   quarter of the way to their median opening.

The figures measured when this was written are in the per-clip tables; each floor sits close to
them, so a regression of lip-sync quality fails here even when vpipe's own QC still passes.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tests.e2e.helpers import CLIPS, Clip, Run, align, run_recipe, source_slot, transcript_with, write_recipe
from tests.e2e.oracle import BILABIALS, bgr_frames, mouth, mouth_psnr

pytestmark = [pytest.mark.media, pytest.mark.slow]

# A value with a bilabial per clip (the first of its values that has one)
BILABIAL_VALUE = {"interview": "feedback", "glasses": "market", "studio": "bank of england"}
# Measured on the first run of this suite (dlib): mean |opening error| of the same-word row, the
# truth itself three frames late, and the mean mouth PSNR (dB). Ceilings and floors sit ~15 % and
# ~1.5 dB from them. Interview re-measured (session 3) when the frames around the edit began to be
# encoded from the recording's own pictures: the mouths chosen are the same, the mouth region is
# closer to the recording (40.8 -> 41.5 dB), and dlib's per-frame errors moved by <= 0.004 either
# way (0.0136 -> 0.0142 mean; 0.0147 with the encoder's look-ahead off): encoding alone moves this
# figure by ~5 %, which the old ceiling (0.014, set from 0.0119) no longer left room for.
MEASURED = {
    "interview": {"error": 0.0142, "late3": 0.0536, "psnr": 41.5},
    "glasses": {"error": 0.0133, "late3": 0.0280, "psnr": 27.9},
    "studio": {"error": 0.0195, "late3": 0.0347, "psnr": 30.9},
}
CEILING = {"interview": 0.0163, "glasses": 0.016, "studio": 0.023}
PSNR_FLOOR = {"interview": 39.5, "glasses": 26.5, "studio": 29.5}


@pytest.fixture(scope="module", params=CLIPS, ids=lambda c: c.name)
def oracle_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, e2e_cache: Path):
    """Per clip: row r1 says the recorded word, row r2 a word with a bilabial (duration fit)."""
    clip: Clip = request.param
    values = [clip.slot_word, BILABIAL_VALUE[clip.name]]
    recipe = write_recipe(tmp_path_factory.mktemp(f"oracle-{clip.name}"), clip, values, lipsync="retrieve")
    # by default a row saying the recorded word keeps the recording (keep-recorded): here its mouth
    # is re-animated on purpose, the recording being the ground truth to measure it against
    run = run_recipe(recipe, "--disable-pass", "keep-recorded", cache=e2e_cache)
    assert run.cli.code == 0, run.cli.text
    return clip, run


def _openings(path: Path, first: float, last: float) -> list[tuple[float, float]]:
    out = []
    for t, image in bgr_frames(path, lambda t: first <= t <= last):
        m = mouth(image)
        assert m is not None, f"dlib finds no face in {path.name} at {t:.2f} s"
        out.append((t, m.opening))
    return out


def test_rows_pass_their_own_qc(oracle_run: tuple[Clip, Run]) -> None:
    clip, run = oracle_run
    for row_id in ("r1", "r2"):
        row = run.rows[row_id]
        assert row["status"] == "ok" and row["qc"]["failures"] == [], (clip.name, row_id, row["qc"])


def test_the_same_word_re_animated_follows_the_real_mouth(oracle_run: tuple[Clip, Run]) -> None:
    clip, run = oracle_run
    slot = source_slot(clip)
    first, last = slot.start - 0.1, slot.end + 0.1
    truth = [(t, img) for t, img in bgr_frames(clip.source, lambda t: first <= t <= last)]
    output = bgr_frames(run.output("r1"), lambda t: first <= t <= last)
    assert len(truth) == len(output) >= 5
    errors, psnrs, real = [], [], []
    for (ts, a), (to, b) in zip(truth, output, strict=True):
        assert abs(ts - to) < 1e-3, f"frame times differ: {ts:.3f} / {to:.3f} (duration fit keeps them)"
        ma, mb = mouth(a), mouth(b)
        assert ma is not None and mb is not None, f"dlib finds no face at {ts:.2f} s"
        real.append(ma.opening)
        errors.append(abs(ma.opening - mb.opening))
        psnrs.append(min(mouth_psnr(a, b, ma.box), 99.0))
    late3 = float(np.mean([abs(x - y) for x, y in zip(real[3:], real[:-3], strict=True)]))
    error, psnr = float(np.mean(errors)), float(np.mean(psnrs))
    summary = f"{clip.name}: opening error {error:.4f} (truth 3 frames late {late3:.4f}), mouth PSNR {psnr:.1f} dB"
    print(summary, f"measured {MEASURED[clip.name]}")
    assert error <= late3, summary
    assert error <= CEILING[clip.name], summary
    assert psnr >= PSNR_FLOOR[clip.name], summary
    assert math.isfinite(late3) and late3 > 0.01, f"{clip.name}: the slot's mouth does not move ({late3:.4f})"


def _natural_closure(clip: Clip) -> tuple[float, float]:
    """(the least-closed of the speaker's bilabials, their median opening) on the source."""
    al = align(clip.source, clip.transcript)
    openings = _openings(clip.source, 0.0, math.inf)
    closures = [
        min(o for t, o in openings if p.start - 0.04 <= t <= p.end + 0.04)
        for p in al.phones
        if p.label in BILABIALS and any(p.start - 0.04 <= t <= p.end + 0.04 for t, _ in openings)
    ]
    assert len(closures) >= 2, f"{clip.name}: too few bilabials in the transcript"
    return max(closures), float(np.median([o for _, o in openings]))


def test_bilabials_close_the_lips(oracle_run: tuple[Clip, Run]) -> None:
    """Was a known failure (strict xfail) on interview ('b' of 'feedback': dlib 0.029-0.047
    against closures of 0.009-0.018) and glasses ('m' of 'market': 0.028 against 0.007-0.009)
    until retrieve cut onto one of the speaker's closures for every new p, b or m. Measured
    after: interview 0.018 (limit 0.025), glasses 0.002 (limit 0.019), studio 0.005 (was 0.008)."""
    clip, run = oracle_run
    closed, median = _natural_closure(clip)
    limit = closed + (median - closed) / 4
    word = BILABIAL_VALUE[clip.name]
    path = run.output("r2")
    slot = source_slot(clip)
    al = align(path, transcript_with(clip, word))
    phones = al.phones_of(slot.index, len(word.split()))
    openings = _openings(path, phones[0].start - 0.1, phones[-1].end + 0.1)
    found = []
    for p in phones:
        if p.label in BILABIALS:
            near = [o for t, o in openings if p.start - 0.04 <= t <= p.end + 0.04]
            assert near, f"no frame during {p.label} at {p.start:.2f} s"
            found.append((p.label, round(p.start, 2), round(min(near), 3)))
    summary = (
        f"{clip.name} '{word}': bilabials {found}, limit {limit:.3f} (natural ≤ {closed:.3f}, median {median:.3f})"
    )
    print(summary)
    assert found, summary
    assert all(o <= limit for _, _, o in found), summary
