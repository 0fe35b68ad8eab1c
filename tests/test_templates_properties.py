"""Property tests (hypothesis) of script templates: whatever a row holds (any text, marker
code points, template syntax), it is rendered literally, the slot spans cover exactly each slot's
final value, and no marker survives in the text."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vpipe.templates import TemplateProgram, scrub

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MARKERS = "\ue000\ue001\ue002"
pieces = st.text(st.characters(exclude_categories=("Cs",)), max_size=6) | st.sampled_from([*MARKERS, "{{", "}}", "{%"])
values = st.lists(pieces, max_size=6).map("".join)
PROGRAM = TemplateProgram(
    "Hi {{ first_name }}, {{ greeting }} {{ city | upper }}{{ first_name | trim }}!", frozenset({"first_name", "city"})
)


@SETTINGS
@given(values, values, values)
def test_values_render_literally_with_exact_spans(first_name: str, greeting: str, city: str) -> None:
    r = PROGRAM.render({"first_name": first_name, "greeting": greeting, "city": city})
    name, hello, town = scrub(first_name), scrub(greeting), scrub(city).upper()
    assert r.text == f"Hi {name}, {hello} {town}{name.strip()}!"
    assert not any(m in r.text for m in MARKERS)
    assert [(s.name, s.text(r.text)) for s in r.spans] == [
        ("first_name", name),
        ("city", town),
        ("first_name", name.strip()),
    ]
    assert r.spans[0].start == 3 and all(a.end <= b.start for a, b in zip(r.spans, r.spans[1:], strict=False))
