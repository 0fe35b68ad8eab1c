"""Property tests (hypothesis): any graph the IR can hold prints to text that parses back into
an equal graph, and printing is stable; arbitrary text never crashes the parser with anything
but a coded diagnostic."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from vpipe.diagnostics.diagnostic import DiagnosticError
from vpipe.ir.graph import Estimate, Graph, Loc, Op, Value
from vpipe.ir.parser import parse_graph, parse_op
from vpipe.ir.printer import print_graph, print_op
from vpipe.ir.types import Scope, Type

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.]{0,8}", fullmatch=True)
idents = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.\-]{0,10}", fullmatch=True)
# any text, including the characters str.splitlines() treats as line breaks (U+2028, NEL, FF, ...)
texts = st.text(max_size=20)
scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    scalars | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)
types = st.builds(
    lambda name, params: Type.of(name, **params),
    idents,
    st.dictionaries(
        idents, st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | texts, max_size=3
    ),
)
locs = st.builds(Loc, texts, st.integers(0, 10**6), st.integers(0, 10**4), texts)
estimates = st.builds(
    Estimate,
    st.floats(0, 1e6, allow_nan=False),
    st.floats(0, 1e7, allow_nan=False),
    st.floats(0, 1e6, allow_nan=False),
)
kernels = st.builds(
    lambda b, d: f"{b}@{d}", st.from_regex(r"[\w.\-]+", fullmatch=True), st.from_regex(r"[\w.\-]+", fullmatch=True)
)


@st.composite
def ops(draw: st.DrawFn, defined: tuple[str, ...] = ()) -> Op:
    results = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    scope = draw(st.sampled_from(list(Scope)))
    return Op(
        draw(idents),
        tuple(draw(st.lists(st.sampled_from(defined), max_size=3))) if defined else (),
        tuple(Value(n, draw(types), scope) for n in results),
        draw(st.dictionaries(texts, json_values, max_size=4)),
        draw(st.none() | locs),
        draw(st.none() | kernels),
        draw(st.none() | estimates),
    )


@st.composite
def graphs(draw: st.DrawFn) -> Graph:
    out: list[Op] = []
    defined: list[str] = []
    for _ in range(draw(st.integers(0, 5))):
        op = draw(ops(tuple(defined)))
        out.append(op)
        defined.extend(v.name for v in op.results)
    return Graph(draw(st.from_regex(r"[\w.\-]+", fullmatch=True)), tuple(out))


@SETTINGS
@given(ops())
def test_an_op_prints_and_parses_back(op: Op) -> None:
    line = print_op(op)
    assert "\n" not in line
    assert parse_op(line) == op


NEL_ATTR = Graph("g", (Op("k", (), (Value("a", Type("T"), Scope.SHARED),), {"\x85": "\u2028"}),))


@SETTINGS
@given(graphs())
@example(NEL_ATTR)  # found by this test: str.splitlines() broke the line at NEL / U+2028
def test_a_graph_prints_and_parses_back_and_printing_is_stable(graph: Graph) -> None:
    text = print_graph(graph)
    again = parse_graph(text)
    assert again == graph
    assert print_graph(again) == text


def test_windows_line_ends_parse() -> None:
    assert parse_graph(print_graph(NEL_ATTR).replace("\n", "\r\n")) == NEL_ATTR


@SETTINGS
@given(graphs())
def test_printing_with_hashes_only_adds_comments(graph: Graph) -> None:
    assert parse_graph(print_graph(graph, hashes=True)) == graph


@SETTINGS
@given(st.text(max_size=80))
def test_any_text_is_an_op_or_a_coded_error(text: str) -> None:
    try:
        op = parse_op(text, 3, "f.ir")
    except DiagnosticError as exc:
        (d,) = exc.diagnostics
        assert d.code == "VP112" and d.span is not None and d.span.line == 3
    else:
        assert parse_op(print_op(op)) == op


@SETTINGS
@given(st.floats(0, 1e9, allow_nan=False))
def test_estimates_keep_their_printed_precision(x: float) -> None:
    e = Estimate(x, x, x)
    assert math.isfinite(e.seconds)
    assert parse_op(print_op(Op("k", (), (Value("a", Type("T")),), estimate=e))).estimate == e
