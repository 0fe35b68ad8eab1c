from __future__ import annotations

import pytest

from tests.passes.helpers import normalized, run_pass
from vpipe.data.alignment import Alignment, Segment
from vpipe.diagnostics.diagnostic import Severity
from vpipe.ir.graph import Graph
from vpipe.passes.base import PassContext

BEFORE = """
graph @g {
  %video = media.open() {"kind": "video", "path": "a.mp4"} : Video shared
  %audio = media.audio(%video) : Audio shared
  %transcript = text.const() {"text": "my biggest weakness is asking for help when needed"} : Text shared
  %lexicon = speech.lexicon() {"entries": {}} : Lexicon shared
  %alignment = speech.align(%audio, %transcript, %lexicon) {"backend": "pocketsphinx"} : Alignment shared
  %spans = slots.locate(%alignment) {"slots": {"skill": {"say": "help", "words": ["help"]}}} : Spans shared
}
"""

EXPECTED_STATIC = BEFORE.replace(
    '{"say": "help", "words": ["help"]}', '{"say": "help", "word_index": 6, "words": ["help"]}'
)

EXPECTED_TIMED = BEFORE.replace(
    '{"say": "help", "words": ["help"]}',
    '{"end": 1.87, "say": "help", "start": 1.66, "word_index": 6, "words": ["help"]}',
)


def test_binds_slot_to_word_index_from_the_transcript() -> None:
    ctx = PassContext()
    assert run_pass("resolve-slots", BEFORE, ctx) == normalized(EXPECTED_STATIC)
    assert ctx.facts["transcript"].startswith("my biggest")


def aligned(words: list[tuple[str, float, float]]) -> Alignment:
    segs = tuple(Segment(w, a, b) for w, a, b in words)
    phones = tuple(Segment("AH", a, b) for _, a, b in words)
    return Alignment(
        " ".join(w for w, _, _ in words),
        segs,
        phones,
        tuple((i, i + 1) for i in range(len(words))),
        words[-1][2],
        "test",
    )


WORDS = [
    ("my", 0.0, 0.13),
    ("biggest", 0.13, 0.47),
    ("weakness", 0.47, 0.84),
    ("is", 0.84, 1.22),
    ("asking", 1.22, 1.51),
    ("for", 1.51, 1.66),
    ("help", 1.66, 1.87),
    ("when", 1.87, 2.11),
    ("needed", 2.11, 2.38),
]


def test_adds_times_when_the_alignment_is_available() -> None:
    alignment = aligned(WORDS)

    def evaluator(graph: Graph, value: str) -> Alignment | None:
        return alignment if value == "alignment" else None

    ctx = PassContext(evaluator=evaluator)
    assert run_pass("resolve-slots", BEFORE, ctx) == normalized(EXPECTED_TIMED)


def test_unplaced_word_is_an_error() -> None:
    words = [(w, a, a if w == "help" else b) for w, a, b in WORDS]  # zero-length "help"
    ctx = PassContext(evaluator=lambda g, v: aligned(words) if v == "alignment" else None)
    run_pass("resolve-slots", BEFORE, ctx)
    assert [d.code for d in ctx.diagnostics if d.severity is Severity.ERROR] == ["VP204"]


@pytest.mark.parametrize(
    ("slots", "code"),
    [
        ('{"skill": {"say": "hepl", "words": ["hepl"]}}', "VP201"),
        ('{"skill": {"say": "help", "words": ["help"], "occurrence": 2}}', "VP203"),
        (
            '{"a": {"say": "asking for", "words": ["asking", "for"]}, "b": {"say": "for help", "words": ["for", "help"]}}',
            "VP205",
        ),
    ],
)
def test_errors(slots: str, code: str) -> None:
    before = BEFORE.replace('{"skill": {"say": "help", "words": ["help"]}}', slots)
    ctx = PassContext()
    run_pass("resolve-slots", before, ctx)
    assert code in [d.code for d in ctx.diagnostics]


def test_repeated_word_needs_an_occurrence() -> None:
    before = BEFORE.replace("asking for help when needed", "asking for help when help is needed")
    ctx = PassContext()
    run_pass("resolve-slots", before, ctx)
    (d,) = ctx.diagnostics
    assert d.code == "VP202" and "said 2 times" in d.message
    assert "HELP" in d.notes[0]
    fixed = before.replace('"words": ["help"]}', '"words": ["help"], "occurrence": 2}')
    ctx = PassContext()
    out = run_pass("resolve-slots", fixed, ctx)
    assert '"word_index": 8' in out and not ctx.diagnostics.has_errors


def test_recognised_transcript_without_analysis_is_left_for_run_time() -> None:
    before = BEFORE.replace(
        '%transcript = text.const() {"text": "my biggest weakness is asking for help when needed"} : Text shared',
        '%transcript = speech.recognize(%audio) {"backend": "pocketsphinx"} : Text shared',
    )
    ctx = PassContext()
    assert run_pass("resolve-slots", before, ctx) == normalized(before)
    assert [d.code for d in ctx.diagnostics] == ["VP221"]
