"""Pass options: parsed by the type each option declares, refused when unknown or ill-typed,
and printed back so a pipeline's text round-trips."""

from __future__ import annotations

import pytest

from vpipe.passes.catalog import all_passes, create
from vpipe.passes.options import BadPassOption, format_pass, split_spec
from vpipe.passes.pipelines import pipeline


def test_an_option_is_parsed_by_its_type_and_printed_back() -> None:
    p = create("segment-lipsync{margin_ms=80}")
    assert p.margin_ms == 80.0 and isinstance(p.margin_ms, float)
    assert format_pass(p) == "segment-lipsync{margin_ms=80.0}"
    assert format_pass(create(format_pass(p))) == format_pass(p)
    assert format_pass(create("segment-lipsync")) == "segment-lipsync"  # defaults are not printed


def test_every_pass_round_trips_through_its_text() -> None:
    for name in all_passes():
        assert format_pass(create(name)) == name
    text = "resolve-slots, segment-lipsync{margin_ms=40.5}, select-kernels"
    assert ", ".join(format_pass(p) for p in pipeline(text)) == text


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("segment-lipsync{margin=80}", "unknown option 'margin' (options: margin_ms)"),
        ("segment-lipsync{margin_ms=wide}", "option 'margin_ms' must be float or NoneType, not 'wide'"),
        ("segment-lipsync{margin_ms}", "option 'margin_ms' needs a value"),
        ("hoist-shared{x=1}", "unknown option 'x' (options: none)"),
    ],
)
def test_bad_options_are_refused_with_the_reason(spec: str, message: str) -> None:
    with pytest.raises(BadPassOption) as info:
        create(spec)
    assert message in str(info.value.args[0])


def test_split_spec() -> None:
    assert split_spec(" segment-lipsync { margin_ms = 80 } ") == ("segment-lipsync", {"margin_ms": "80"})
    assert split_spec("hoist-shared") == ("hoist-shared", {})
