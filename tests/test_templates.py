"""Script templates (vpipe/templates.py): row values are data, never template code; the slot
spans point at exactly the characters of each slot's final value (after the user's filters);
the sandbox refuses Python internals and output bombs; the filters do what the docs say."""

from __future__ import annotations

import unicodedata

import pytest
from jinja2 import TemplateSyntaxError

from vpipe.templates import (
    MAX_RENDERED_CHARS,
    SLUG_MAX_CHARS,
    Rendered,
    SlotSpan,
    TemplateProgram,
    TemplateRenderError,
    filter_default,
    filter_first_word,
    filter_name_title,
    filter_possessive,
    filter_slug,
    path_value_problem,
    scrub,
    syntax_error_position,
)

OPEN, SEP, CLOSE = "\ue000", "\ue001", "\ue002"
SLOTS = frozenset({"first_name", "city"})


def render(source: str, slots: frozenset[str] = SLOTS, **values: object) -> Rendered:
    return TemplateProgram(source, slots).render(values)


def spans(r: Rendered) -> list[tuple[str, str]]:
    return [(s.name, s.text(r.text)) for s in r.spans]


# --- row values are data ---------------------------------------------------------------------
@pytest.mark.parametrize("value", ["{{ 7*7 }}", "{% for x in range(3) %}x{% endfor %}", "{# c #}", "{{ city }}"])
def test_template_syntax_in_a_row_value_is_spoken_literally(value: str) -> None:
    r = render("Hi {{ first_name }}, welcome to {{ city }}!", first_name=value, city="Paris")
    assert r.text == f"Hi {value}, welcome to Paris!"
    assert spans(r) == [("first_name", value), ("city", "Paris")]


def test_marker_characters_in_row_data_are_scrubbed_and_cannot_forge_a_span() -> None:
    forged = f"{OPEN}city{SEP}Berlin{CLOSE}"
    r = render("Hi {{ first_name }} from {{ city }}.", first_name=f"Jo{forged}hn", city=f"Pa{OPEN}ris{CLOSE}")
    assert r.text == "Hi JocityBerlinhn from Paris."
    assert spans(r) == [("first_name", "JocityBerlinhn"), ("city", "Paris")]
    assert not any(ch in r.text for ch in (OPEN, SEP, CLOSE))


def test_slot_name_code_points_in_row_data_are_scrubbed() -> None:
    forged = f"{OPEN}\ue101Berlin{CLOSE}"  # the marking of the second slot (sorted: city, first_name)
    r = render("Hi {{ first_name }} from {{ city }}.", first_name=f"Jo{forged}hn", city="Paris\ue100\ue8ff")
    assert r.text == "Hi JoBerlinhn from Paris." and spans(r) == [("first_name", "JoBerlinhn"), ("city", "Paris")]
    assert scrub("a\ue000\ue123\ue8ffb\ue900") == "ab\ue900"  # the marker block only


def test_marker_characters_in_a_non_slot_value_are_scrubbed_too() -> None:
    r = render("{{ greeting }} {{ first_name }}", greeting=f"{OPEN}city{SEP}X{CLOSE}Hello", first_name="Ana")
    assert r.text == "cityXHello Ana" and spans(r) == [("first_name", "Ana")]


def test_marker_characters_in_the_template_itself_do_not_make_spans() -> None:
    r = render(f"{OPEN}city{SEP}Rome{CLOSE} and {{{{ city }}}}", city="Oslo")
    assert r.text == "cityRome and Oslo"
    assert r.spans == (SlotSpan("city", 13, 17),)


def test_scrub_leaves_non_strings_and_clean_strings_alone() -> None:
    assert scrub(42) == 42 and scrub(None) is None and scrub(["\ue000"]) == ["\ue000"]
    assert scrub(f"a{OPEN}b{SEP}c{CLOSE}d") == "abcd" and scrub("plain é") == "plain é"


# --- slot spans --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("expression", "value", "said"),
    [
        ("{{ first_name | title }}", "mary-jane o'neil", "Mary-Jane O'Neil"),
        ("{{ first_name | upper }}", "ana", "ANA"),
        ("{{ first_name | default('friend') }}", "", "friend"),
        ("{{ first_name | first_word }}", "Ana Maria", "Ana"),
        ("{{ first_name | possessive }}", "James", "James'"),
        ("{{ first_name ~ '!' }}", "Ana", "Ana!"),
        ("{{ first_name | trim | lower }}", "  ZOË ", "zoë"),
        ("{{ first_name if first_name else 'there' }}", "", "there"),
    ],
)
def test_a_span_covers_the_final_value_after_filters(expression: str, value: str, said: str) -> None:
    r = render(f"Hi {expression}, welcome.", first_name=value)
    assert r.text == f"Hi {said}, welcome."
    assert spans(r) == [("first_name", said)]
    assert r.spans[0].start == 3 and r.spans[0].end == 3 + len(said)


def test_span_offsets_count_characters_of_the_rendered_text() -> None:
    r = render("Ça va, {{ first_name }}? 🎉 {{ city }} {{ first_name }}.", first_name="Zoë", city="Köln")
    assert r.text == "Ça va, Zoë? 🎉 Köln Zoë."
    assert r.spans == (SlotSpan("first_name", 7, 10), SlotSpan("city", 14, 18), SlotSpan("first_name", 19, 22))


def test_an_expression_of_two_slots_or_none_is_not_a_span() -> None:
    r = render("{{ first_name ~ city }} and {{ other }} and {{ city }}", first_name="A", city="B", other="C")
    assert r.text == "AB and C and B" and spans(r) == [("city", "B")]


def test_only_declared_slots_that_the_template_reads_are_slots() -> None:
    program = TemplateProgram("Hi {{ first_name }} {{ last }}", frozenset({"first_name", "city"}))
    assert program.variables == frozenset({"first_name", "last"})
    assert program.slots == frozenset({"first_name"})
    assert TemplateProgram("Hi {{ first_name }}").render({"first_name": "Ana"}).spans == ()


def test_slots_inside_blocks_are_spans_too() -> None:
    r = render(
        "{% if city %}In {{ city }}{% endif %}{% for _ in [1, 2] %} {{ first_name }}{% endfor %}",
        city="Rome",
        first_name="Ana",
    )
    assert r.text == "In Rome Ana Ana"
    assert spans(r) == [("city", "Rome"), ("first_name", "Ana"), ("first_name", "Ana")]


def test_an_empty_value_is_an_empty_span() -> None:
    r = render("Hi {{ first_name }}!", first_name="")
    assert r.text == "Hi !" and r.spans == (SlotSpan("first_name", 3, 3),)


# --- errors and the sandbox ----------------------------------------------------------------------
def test_an_undefined_variable_names_itself() -> None:
    with pytest.raises(TemplateRenderError) as info:
        render("Hi {{ first_name }} {{ missing }}", first_name="Ana")
    assert info.value.kind == "undefined" and info.value.variable == "missing"
    assert str(info.value) == "'missing' is undefined"


def test_a_missing_attribute_is_undefined_without_a_variable_name() -> None:
    with pytest.raises(TemplateRenderError) as info:
        render("Hi {{ row.nickname }}", row={})
    assert info.value.kind == "undefined" and info.value.variable is None
    assert str(info.value) == "'dict object' has no attribute 'nickname'"


@pytest.mark.parametrize("block", ["truncate(9, True, '', 0)", "reverse"])
def test_a_filter_block_that_cuts_a_slot_is_a_row_error(block: str) -> None:
    """A block filter that cuts or reorders a slot's marked value loses where the slot is
    spoken (before the fix the slot's name was left in the script: "Hi first"). Refused, with
    a hint; a block filter that keeps the value whole (upper) keeps the span and its name."""
    with pytest.raises(TemplateRenderError) as info:
        render("{% filter " + block + " %}Hi {{ first_name }} there{% endfilter %}", first_name="Annabelle")
    assert info.value.kind == "error" and str(info.value) == (
        "a {% filter %} block around a slot cut or reordered the slot's value, so where it is spoken is lost; "
        "apply the filter inside the slot's {{ }} instead"
    )
    r = render("{% filter upper %}Hi {{ first_name }} there{% endfilter %}", first_name="Ana")
    assert r.text == "HI ANA THERE" and spans(r) == [("first_name", "ANA")]


# --- output-path templates: every expression must give a file-name-safe value ----------------
def test_a_path_template_refuses_a_value_that_is_not_a_file_name() -> None:
    program = TemplateProgram("out/{{ row_id }}-{{ name | slug }}-{{ n }}.mp4", path=True)
    assert program.source == "out/{{ row_id }}-{{ name | slug }}-{{ n }}.mp4"
    assert program.render({"row_id": "r1", "name": "Zoë Dupont", "n": 7}).text == "out/r1-zoe-dupont-7.mp4"
    for bad, why in [("a/b", "contains a path separator"), ("..", "names a folder"), ("x\x1b", "U+001B")]:
        with pytest.raises(TemplateRenderError) as info:
            program.render({"row_id": bad, "name": "x", "n": 1})
        assert info.value.kind == "path"
        assert str(info.value) == f"value {bad!r} cannot be part of a file name: it " + (
            why if why != "U+001B" else "contains the control character U+001B"
        )
    # the script template takes the same values as they are
    assert render("{{ first_name }}", first_name="a/b").text == "a/b"
    assert TemplateProgram("{{ x }}").render({"x": ".."}).text == ".."


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ first_name.__class__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ 'x' * 100000 }}",
        "{{ 100000 * 'x' }}",
        "{{ [1, 2] * 20000 }}",
        "{{ 20000 * [1, 2] }}",
        "{{ 2 ** 100000 }}",
        "{{ 2 ** -65 }}",
        "{{ '{0.__class__}'.format(first_name) }}",
    ],
)
def test_the_sandbox_refuses_internals_and_bombs(source: str) -> None:
    """Refused by the sandbox itself, before the result is built (not by the length check after)."""
    with pytest.raises(TemplateRenderError) as info:
        render(source, first_name="Ana")
    assert info.value.kind == "security", info.value
    assert str(info.value).startswith("unsafe template operation: ")
    if "**" in source:
        assert str(info.value).endswith("exponent too large")
    elif "*" in source:
        assert str(info.value).endswith("the result of '*' is too large")


@pytest.mark.parametrize(
    ("source", "text"),
    [
        ("{{ 'ab' * 3 }}", "ababab"),
        ("{{ 3 * 'ab' }}", "ababab"),
        ("{{ 'x' * " + str(MAX_RENDERED_CHARS) + " }}", "x" * MAX_RENDERED_CHARS),
        ("{{ " + str(MAX_RENDERED_CHARS) + " * 'x' }}", "x" * MAX_RENDERED_CHARS),
        ("{{ [0] * 3 }}", "[0, 0, 0]"),
        ("{{ 2 * 3 ** 2 }}", "18"),
        ("{{ 2 ** 64 }}", str(2**64)),
        ("{{ 2 ** -64 }}", str(2**-64)),
        ("{{ 6 * 7 }}", "42"),
    ],
)
def test_arithmetic_below_the_limits_works(source: str, text: str) -> None:
    assert render(source).text == text


def test_the_rendered_text_is_capped() -> None:
    render("{% for _ in range(10) %}" + "x" * (MAX_RENDERED_CHARS // 10) + "{% endfor %}")  # at the cap
    with pytest.raises(TemplateRenderError) as info:
        render("{% for _ in range(11) %}" + "x" * (MAX_RENDERED_CHARS // 10) + "{% endfor %}")
    assert info.value.kind == "error" and str(MAX_RENDERED_CHARS) in str(info.value)
    with pytest.raises(TemplateRenderError):
        render("{% for _ in range(100000000) %}x{% endfor %}")  # the sandbox's range limit


def test_a_failing_filter_is_a_row_error() -> None:
    with pytest.raises(TemplateRenderError) as info:
        render("{{ first_name | round }}", first_name="12")
    assert info.value.kind == "error"
    with pytest.raises(TemplateRenderError) as info:
        render("{{ first_name / 0 }}", first_name=1)
    assert info.value.kind == "error" and "ZeroDivisionError" in str(info.value)


def test_syntax_errors_say_where() -> None:
    with pytest.raises(TemplateSyntaxError) as info:
        TemplateProgram("line one\nline two {{ oops")
    assert syntax_error_position(info.value) == 2
    info.value.lineno = None  # type: ignore[assignment]
    assert syntax_error_position(info.value) == 1


def test_the_template_is_not_autoescaped_and_keeps_no_trailing_newline() -> None:
    assert render("{{ first_name }} & co\n", first_name="<b>A&B</b>").text == "<b>A&B</b> & co"


# --- filters -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [("", "x"), ("   ", "x"), (None, "x"), ([], "x"), ("Ana", "Ana"), (0, 0), (0.0, 0.0), (False, False), ("0", "0")],
)
def test_default_falls_back_on_absent_or_empty(value: object, expected: object) -> None:
    assert filter_default(value, "x") == expected


def test_default_without_boolean_keeps_falsy_values() -> None:
    assert filter_default([], "x", boolean=False) == [] and filter_default("", "x", boolean=False) == "x"
    assert filter_default(False, "x", boolean=False) is False
    assert render("Hi {{ missing | default('you') }}", frozenset()).text == "Hi you"
    assert render("Hi{{ missing | default }}!", frozenset()).text == "Hi!"  # the fallback's default is ""
    assert render("Hi {{ first_name | d('you') }}{{ city | fallback('!') }}", first_name="", city=" ").text == "Hi you!"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Zoë Dupont", "zoe-dupont"),
        ("../../etc/passwd", "etc-passwd"),
        ("  --Ana__María--  ", "ana-maria"),
        ("", "row"),
        ("   ", "row"),
        ("A/B\\C", "a-b-c"),
        (42, "42"),
        # other scripts are transliterated, not dropped
        ("Дмитрий Иванов", "dmitriy-ivanov"),
        ("東京", "dongjing"),
        ("محمد", "mhmd"),
        ("Ελένη", "eleni"),
        ("김민준", "gimminjun"),
        # controls, bidi overrides, zero-width characters and dots never reach the name
        ("\u202eevil\u200b.exe", "evil-exe"),
        ("line\nbreak\x00nul", "line-break-nul"),
        ("..hidden", "hidden"),
        ("ＦＵＬＬ", "full"),
    ],
)
def test_slug(value: object, expected: str) -> None:
    assert filter_slug(value) == expected


def test_slug_separator() -> None:
    assert filter_slug("Zoë Dupont", "_") == "zoe_dupont"
    assert filter_slug("Zoë Dupont", "") == "zoedupont"
    with pytest.raises(ValueError, match="separator"):
        filter_slug("Zoë", "/")


def test_slug_keeps_unicode_letters_when_asked() -> None:
    assert filter_slug("Дмитрий Иванов", keep_unicode=True) == "дмитрий-иванов"
    assert filter_slug("東京 タワー", keep_unicode=True) == "東京-タワー"
    # NFC: a decomposed é comes out composed; a Devanagari vowel sign stays on its letter
    assert filter_slug("Zoe\u0301", keep_unicode=True) == "zoé"
    assert filter_slug("नमस्ते", keep_unicode=True) == "नमस्ते"
    # a combining mark on its own (after a separator) is dropped, as are controls and bidi overrides
    assert filter_slug("a \u0301b\u202e/..", keep_unicode=True) == "a-b"
    for value in ("Дмитрий", "東京 タワー", "\u202e..\x00/x", "ab" * 200):
        name = filter_slug(value, keep_unicode=True)
        assert path_value_problem(name) is None and not name.startswith(".")
        assert unicodedata.is_normalized("NFC", name)


@pytest.mark.parametrize("keep_unicode", [False, True])
def test_slug_is_bounded_and_cut_between_words(keep_unicode: bool) -> None:
    name = filter_slug(" ".join(["word"] * 40), keep_unicode=keep_unicode)
    assert len(name) <= SLUG_MAX_CHARS and name.endswith("word") and "--" not in name
    wide = filter_slug("漢" * 200, keep_unicode=True)
    assert len(wide.encode("utf-8")) <= 2 * SLUG_MAX_CHARS


def test_slug_of_a_value_with_nothing_nameable_is_distinct_per_value() -> None:
    a, b = filter_slug("★★★"), filter_slug("☆☆☆")
    assert a != b and a.startswith("x") and len(a) == 9
    assert filter_slug("★★★") == a  # stable across runs


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("mary-jane o'neil", "Mary-Jane O'Neil"),
        ("JOHN SMITH", "John Smith"),
        ("McDonald", "McDonald"),
        ("DeShawn", "DeShawn"),
        ("zoë", "Zoë"),
        ("ana 2nd", "Ana 2Nd"),
        ("d'angelo", "D'Angelo"),
        ("ana's", "Ana's"),
        ("o'", "O'"),
        ("o'n", "O'N"),
        ("jo e ana", "Jo E Ana"),
        ("", ""),
    ],
)
def test_title_respects_names(value: str, expected: str) -> None:
    assert filter_name_title(value) == expected


def test_first_word_and_possessive() -> None:
    assert filter_first_word("  Ana Maria ") == "Ana" and filter_first_word("   ") == "" and filter_first_word(7) == "7"
    assert filter_possessive("Ana") == "Ana's" and filter_possessive("James") == "James'"
    assert filter_possessive("JAMES") == "JAMES'" and filter_possessive("") == "'s"


# --- values placed in output paths -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("a/b", "contains a path separator"),
        ("a\\b", "contains a path separator"),
        ("/", "contains a path separator"),
        (".", "names a folder"),
        ("..", "names a folder"),
        ("a\x00b", "contains the control character U+0000"),
        ("a\nb", "contains the control character U+000A"),
        ("\x1b[31m", "contains the control character U+001B"),
        ("evil\u202egnp.mp4", "contains the invisible formatting character U+202E"),
        ("a\u200bb", "contains the invisible formatting character U+200B"),
        ("a\u2028b", "contains the invisible formatting character U+2028"),
        ("a\u2029b", "contains the invisible formatting character U+2029"),
        ("Ana", None),
        ("...", None),
        (".hidden", None),
        ("Zoë Dupont-Smith", None),
        ("", None),
    ],
)
def test_path_value_problems(value: str, problem: str | None) -> None:
    from vpipe.templates import path_value_problem

    assert path_value_problem(value) == problem


def test_slug_in_an_output_path_names_non_latin_rows() -> None:
    from vpipe.templates import make_environment

    path = make_environment(path=True).from_string("out/{{ row_id }}-{{ name | slug }}.mp4")
    assert path.render(row_id="r3", name="Дмитрий") == "out/r3-dmitriy.mp4"
    unicode_path = make_environment(path=True).from_string("out/{{ row_id }}-{{ name | slug(keep_unicode=true) }}.mp4")
    assert unicode_path.render(row_id="r3", name="Дмитрий/../x") == "out/r3-дмитрий-x.mp4"


def test_a_template_holds_as_many_slots_as_there_are_name_code_points(monkeypatch: pytest.MonkeyPatch) -> None:
    from vpipe import templates

    assert templates._NAME_END - templates._NAME0 == 2048  # U+E100..U+E8FF
    monkeypatch.setattr(templates, "_NAME_END", templates._NAME0 + 4)  # the same rule, 4 slots
    names = [f"s{i}" for i in range(5)]
    source = " ".join("{{ " + n + " }}" for n in names)
    r = TemplateProgram(source[: -len(" {{ s4 }}")], frozenset(names)).render({n: n[1:] * 2 for n in names})
    assert r.text == "00 11 22 33" and [(s.name, s.text(r.text)) for s in r.spans] == [
        ("s0", "00"), ("s1", "11"), ("s2", "22"), ("s3", "33")
    ]
    with pytest.raises(TemplateSyntaxError) as info:
        TemplateProgram(source, frozenset(names))
    assert info.value.message == "more than 4 slots in one template" and info.value.lineno == 1


def test_the_environment_is_for_scripts_unless_asked_for_paths() -> None:
    from vpipe.templates import make_environment

    assert make_environment().from_string("{{ x }}").render(x="a/b") == "a/b"
    with pytest.raises(Exception, match="path separator"):
        make_environment(path=True).from_string("{{ x }}").render(x="a/b")


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        ("a" * 64, {}, "a" * 64),  # exactly the limit: kept
        ("a" * 40 + " " + "b" * 23, {}, "a" * 40 + "-" + "b" * 23),  # the limit with a separator: kept whole
        ("東" * 32 + " " + "a" * 31, {"keep_unicode": True}, "東" * 32 + "-" + "a" * 31),  # exactly 128 bytes: kept
        ("a" * 65, {}, "a" * 64),  # one more: cut (no separator to cut at)
        ("a" * 40 + " " + "b" * 30, {}, "a" * 40),  # cut at the separator in the second half
        ("a" * 32 + " " + "b" * 40, {}, "a" * 32),  # ... at exactly half
        ("a" * 25 + " " + "b" * 50, {}, "a" * 25 + "-" + "b" * 38),  # a separator in the first half: not cut there
        ("a" * 20 + " " + "b" * 20 + " " + "c" * 30, {}, "a" * 20 + "-" + "b" * 20),  # at the last separator
        ("д" * 64, {"keep_unicode": True}, "д" * 64),  # 64 characters, 128 bytes: kept
        ("д" * 65, {"keep_unicode": True}, "д" * 64),
        ("東" * 50, {"keep_unicode": True}, "東" * 42),  # 150 bytes: cut to 126, under 128
        ("東" * 51, {"keep_unicode": True}, "東" * 42),
        ("ab \u0301x", {"keep_unicode": True}, "ab-x"),  # a combining mark after a space goes
    ],
)
def test_slug_length_limits(value: str, kwargs: dict[str, bool], expected: str) -> None:
    slug = filter_slug(value, **kwargs)
    assert slug == expected
    assert len(slug) <= 64 and len(slug.encode("utf-8")) <= 128
