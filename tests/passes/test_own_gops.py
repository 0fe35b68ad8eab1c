"""own-gops: a source with short closed GOPs is spliced on its own GOPs (no normalisation);
any other keeps its normalisation, with a remark naming the rule it broke (Before/Expected IR).
The layouts are real: the pass's evaluator inspects real files (a source re-encoded in the
test with closed 25-frame GOPs, and the shared recording, whose one GOP is 122 frames)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.gop_sources import reencode
from tests.media import shared_media
from tests.passes.helpers import normalized, run_pass
from tests.passes.test_splice_gops import EXPECTED as SPLICED
from tests.passes.test_splice_gops import _complete
from vpipe.ir.graph import Graph
from vpipe.media.source_gops import inspect
from vpipe.passes.base import PassContext

EXPECTED = SPLICED.replace(
    '  %gops = media.normalize(%video) {"crf": 12, "gop": 12, "preset": "veryfast"} : Video<fps=25.0, frames=150, w=524, h=524> shared\n',
    '  %layout = media.gop_layout(%video) {"max_gop": 25} : GopLayout shared\n'
    '  %gops = media.own_gops(%video, %layout) {"crf": 12, "preset": "veryfast"} : Video<fps=25.0, frames=150, w=524, h=524> shared\n',
)


def _inspecting(path: Path) -> Any:
    """An evaluator that answers the pass's question about `path` as the kernel would."""

    def evaluate(graph: Graph, value: str) -> Any:
        op = graph.producer(value)
        assert op.kind == "media.gop_layout" and graph.producer(op.operands[0]).kind == "media.open"
        return inspect(path, int(op.attr("max_gop")))

    return evaluate


@pytest.fixture(scope="module")
def closed_gops(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return reencode(shared_media("glasses_woman.mp4"), tmp_path_factory.mktemp("src") / "closed.mp4", frames=50)


def test_a_source_with_short_closed_gops_is_spliced_on_them(closed_gops: Path) -> None:
    assert "media.normalize" not in EXPECTED
    ctx = PassContext(evaluator=_inspecting(closed_gops))
    assert run_pass("own-gops", _complete(SPLICED), ctx) == normalized(_complete(EXPECTED))
    assert ctx.facts["gops_source"] == {"own": True, "gops": 2, "longest_gop": 25}
    assert ctx.facts["gop"] == 25
    assert not ctx.diagnostics.items


def test_a_source_with_long_gops_stays_normalised_and_says_why() -> None:
    ctx = PassContext(evaluator=_inspecting(shared_media("glasses_woman.mp4")))
    before = _complete(SPLICED)
    assert run_pass("own-gops", before, ctx) == normalized(before)
    (remark,) = ctx.diagnostics.items
    assert remark.code == "VP232" and "its longest GOP is 122 frames (more than 25)" in remark.message
    assert ctx.facts["gops_source"]["own"] is False


def test_the_longest_gop_is_an_option(closed_gops: Path) -> None:
    ctx = PassContext(evaluator=_inspecting(closed_gops))
    before = _complete(SPLICED)
    assert run_pass("own-gops{max_gop=24}", before, ctx) == normalized(before)
    assert "25 frames (more than 24)" in ctx.diagnostics.items[0].message


def test_without_analysis_the_source_stays_normalised() -> None:
    ctx = PassContext()
    before = _complete(SPLICED)
    assert run_pass("own-gops", before, ctx) == normalized(before)
    assert [d.code for d in ctx.diagnostics.items] == ["VP232"]


def test_a_graph_without_normalisation_is_left_alone() -> None:
    from tests.passes.test_splice_gops import BEFORE

    before = _complete(BEFORE)
    assert run_pass("own-gops", before, PassContext(evaluator=_inspecting(Path("unused")))) == normalized(before)
