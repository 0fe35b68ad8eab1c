"""Script and path templates: Jinja2 in a sandbox, with strict undefined variables.

Row values are *data*: they are passed as variables and never compiled as templates,
so a CSV cell holding `{{ 7 * 7 }}` is spoken literally. Slot variables are tracked
through rendering (the TTS needs to know which characters of the sentence are the
variable) by wrapping each slot expression's final value in invisible markers.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, Undefined, meta, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

# Private-use code points: they never occur in real text, and row values (and the template
# source) are scrubbed of them, so they can delimit slot values in the rendered script
# unambiguously. A marked value is OPEN, one code point naming the slot (its index from
# U+E100: a filter block around the slot, e.g. `upper` or `truncate`, cannot turn it into
# spoken text), the value, CLOSE.
_OPEN, _SEP, _CLOSE = "\ue000", "\ue001", "\ue002"
_NAME0, _NAME_END = 0xE100, 0xE900  # slot indexes 0 .. 2047
_MARKERS = re.compile(f"[{_OPEN}-{chr(_NAME_END - 1)}]")
_MARKED = re.compile(f"{_OPEN}([{chr(_NAME0)}-{chr(_NAME_END - 1)}])([^{_OPEN}-{chr(_NAME_END - 1)}]*){_CLOSE}")

MAX_RENDERED_CHARS = 20_000  # a script is a few sentences; bigger output is a template bug


class TemplateRenderError(Exception):
    """Rendering failed for a reason the user can fix; `kind` picks the diagnostic."""

    def __init__(self, kind: str, message: str, variable: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind  # "undefined" | "security" | "path" | "error"
        self.variable = variable


def _is_blank(value: Any) -> bool:
    return isinstance(value, Undefined) or value is None or (isinstance(value, str) and not value.strip())


def filter_default(value: Any, fallback: Any = "", boolean: bool = True) -> Any:
    """Like merge tags: an absent *or empty* value falls back (Jinja's own only handles absent)."""
    if _is_blank(value) or (boolean and not value and value != 0):
        return fallback
    return value


SLUG_MAX_CHARS = 64  # a file name holds a few values and an id; every file system takes 255 bytes
SLUG_SEPARATORS = ("-", "_", "")


def filter_slug(value: Any, separator: str = "-", keep_unicode: bool = False) -> str:
    """A value as a safe, readable part of a file name.

    'Zoë Dupont' → 'zoe-dupont'; other scripts are transliterated (anyascii): 'Дмитрий' →
    'dmitriy', '東京' → 'dongjing', 'محمد' → 'mhmd'. `keep_unicode=true` keeps letters and
    digits of every script instead (NFKC, so also NFC; lower case): 'Дмитрий' → 'дмитрий'.
    Anything else — path separators, dots, spaces, controls, invisible formatting, symbols —
    becomes `separator` ('-', '_' or ''), never at either end, so the name never starts with
    a dot; at most 64 characters (and 128 bytes of UTF-8), cut at a separator where one is
    near the end. A value with nothing left gives 'row' when empty, else 'x' and 8 hex digits
    of its hash, so distinct values keep distinct names.
    """
    if separator not in SLUG_SEPARATORS:
        raise ValueError(f"slug: the separator must be one of '-', '_' or '' (not {separator!r})")
    text = unicodedata.normalize("NFKC", str(value))
    if keep_unicode:
        kept = _unicode_words(text)
    else:
        from anyascii import anyascii

        kept = re.sub(r"[^a-z0-9]+", " ", anyascii(text).lower())
    slug = separator.join(kept.split())
    if len(slug) > SLUG_MAX_CHARS or len(slug.encode("utf-8")) > 2 * SLUG_MAX_CHARS:
        slug = slug[:SLUG_MAX_CHARS]
        while len(slug.encode("utf-8")) > 2 * SLUG_MAX_CHARS:
            slug = slug[:-1]
        cut = slug.rfind(separator) if separator else -1
        slug = slug[:cut] if cut >= len(slug) // 2 else slug
    if slug:
        return slug
    if not text.strip():
        return "row"
    return "x" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def _unicode_words(text: str) -> str:
    """Letters and digits of any script, lower case, the rest spaces; a combining mark stays
    only on a letter it follows (Devanagari vowel signs), never on its own."""
    out: list[str] = []
    for ch in text.lower():
        category = unicodedata.category(ch)
        if category[0] in "LN" or (category[0] == "M" and out and out[-1] != " "):
            out.append(ch)
        else:
            out.append(" ")
    return unicodedata.normalize("NFC", "".join(out))


def filter_first_word(value: Any) -> str:
    parts = str(value).split()
    return parts[0] if parts else ""


def filter_possessive(value: Any) -> str:
    text = str(value)
    return text + "'" if text.endswith(("s", "S")) else text + "'s"


def filter_name_title(value: Any) -> str:
    """Title case that respects names: 'mary-jane o'neil' → 'Mary-Jane O'Neil', and keeps
    already mixed-case values ('McDonald', 'DeShawn') as written."""
    text = str(value)
    if text != text.lower() and text != text.upper():
        return text
    return re.sub(r"[^\W\d_]+('[^\W\d_]+)?", _title_word, text)


def _title_word(match: re.Match[str]) -> str:
    """'o'neil' → 'O'Neil', 'd'angelo' → 'D'Angelo' (a one-letter prefix); 'ana's' → 'Ana's'."""
    word = match.group(0)
    head, apostrophe, tail = word.partition("'")
    if apostrophe and len(head) == 1:  # the pattern gives a tail of one letter or more
        return head.upper() + "'" + tail[:1].upper() + tail[1:].lower()
    return word[:1].upper() + word[1:].lower()


class _Environment(ImmutableSandboxedEnvironment):
    # Cap arithmetic on strings/lists so `'x' * 10**9` cannot exhaust memory.
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if (
            operator == "*"
            and isinstance(left, (str, list))
            and isinstance(right, int)
            and len(left) * right > MAX_RENDERED_CHARS
        ):
            raise SecurityError("the result of '*' is too large")
        if (
            operator == "*"
            and isinstance(right, (str, list))
            and isinstance(left, int)
            and len(right) * left > MAX_RENDERED_CHARS
        ):
            raise SecurityError("the result of '*' is too large")
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > 64:
            raise SecurityError("exponent too large")
        return super().call_binop(context, operator, left, right)


class PathValueError(Exception):
    """A value placed into an output path cannot be part of a file name."""


def path_value_problem(text: str) -> str | None:
    """Why `text` cannot stand in a file name (None: it can): a value may name a file, never
    a folder, a parent, or something invisible or terminal-controlling."""
    if "/" in text or "\\" in text:
        return "contains a path separator"
    if text in (".", ".."):
        return "names a folder"
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Cc":
            return f"contains the control character U+{ord(ch):04X}"
        if category in ("Cf", "Zl", "Zp"):  # bidi overrides (U+202E), zero-width characters
            return f"contains the invisible formatting character U+{ord(ch):04X}"
    return None


def _path_value(value: Any) -> Any:
    if isinstance(value, str):
        problem = path_value_problem(value)
        if problem is not None:
            raise PathValueError(f"value {value!r} cannot be part of a file name: it {problem}")
    return value


def make_environment(path: bool = False) -> _Environment:
    """The sandboxed environment; `path`: every `{{ expression }}` must give a file-name-safe value."""
    env = _Environment(
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
        finalize=_path_value if path else None,
    )
    env.filters.update(
        default=filter_default,
        d=filter_default,
        fallback=filter_default,
        slug=filter_slug,
        first_word=filter_first_word,
        possessive=filter_possessive,
        title=filter_name_title,
    )
    env.filters["_vpipe_mark"] = lambda value, index: f"{_OPEN}{chr(_NAME0 + index)}{value}{_CLOSE}"
    return env


def scrub(value: Any) -> Any:
    """Remove our marker code points (U+E000..U+E8FF, private use) from a row value (they must
    never come from data)."""
    if isinstance(value, str):
        return _MARKERS.sub("", value)
    return value


@dataclass(frozen=True)
class SlotSpan:
    name: str
    start: int  # character offsets in the rendered text
    end: int

    def text(self, rendered: str) -> str:
        return rendered[self.start : self.end]


@dataclass(frozen=True)
class Rendered:
    text: str
    spans: tuple[SlotSpan, ...]


class _MarkSlots(NodeTransformer):
    """Wrap every `{{ expr }}` that reads a slot variable in `_vpipe_mark(name)`, applied
    after the user's own filters, so its final value is what gets marked."""

    def __init__(self, slots: tuple[str, ...]) -> None:
        self.index = {name: i for i, name in enumerate(slots)}

    def visit_Output(self, node: nodes.Output) -> nodes.Output:
        new_items = []
        for item in node.nodes:
            if isinstance(item, nodes.TemplateData):
                new_items.append(item)
                continue
            found = [item] if isinstance(item, nodes.Name) else list(item.find_all(nodes.Name))
            names = {n.name for n in found if n.ctx == "load"} & self.index.keys()
            if len(names) == 1:
                (name,) = names
                item = nodes.Filter(
                    item, "_vpipe_mark", [nodes.Const(self.index[name])], [], None, None, lineno=item.lineno
                )
            new_items.append(self.generic_visit(item))
        node.nodes = new_items
        return node


class TemplateProgram:
    """A compiled template plus what we know about it statically."""

    def __init__(self, source: str, slots: frozenset[str] = frozenset(), path: bool = False) -> None:
        """Raises jinja2.TemplateSyntaxError on bad syntax (callers turn it into VP030).
        `path`: an output-path template, whose expressions must give file-name-safe values."""
        self.source = source
        self.env = make_environment(path)
        ast = self.env.parse(scrub(source))  # marker code points in the template cannot forge a span
        self.variables: frozenset[str] = frozenset(meta.find_undeclared_variables(ast))
        self.slots = slots & self.variables
        self._names = tuple(sorted(self.slots))
        if len(self._names) > _NAME_END - _NAME0:
            raise TemplateSyntaxError(f"more than {_NAME_END - _NAME0} slots in one template", 1)
        marked = _MarkSlots(self._names).visit(ast) if self.slots else ast
        self._template = self.env.from_string(marked)

    def render(self, values: Mapping[str, Any]) -> Rendered:
        clean = {k: scrub(v) for k, v in values.items()}
        try:
            raw = self._template.render(clean)
        except UndefinedError as exc:
            match = re.search(r"'([^']+)' is undefined", str(exc))
            raise TemplateRenderError("undefined", str(exc), match.group(1) if match else None) from None
        except SecurityError as exc:
            raise TemplateRenderError("security", f"unsafe template operation: {exc}") from None
        except PathValueError as exc:
            raise TemplateRenderError("path", str(exc)) from None
        except Exception as exc:  # a filter or expression failed on this row's data
            raise TemplateRenderError("error", f"{type(exc).__name__}: {exc}") from None
        if len(raw) > MAX_RENDERED_CHARS:
            raise TemplateRenderError("error", f"rendered text is longer than {MAX_RENDERED_CHARS} characters")
        return _unmark(raw, self._names)


def _unmark(raw: str, names: tuple[str, ...]) -> Rendered:
    out: list[str] = []
    spans: list[SlotSpan] = []
    pos = 0
    length = 0
    for m in _MARKED.finditer(raw):
        before = raw[pos : m.start()]
        out.append(before)
        length += len(before)
        value = m.group(2)
        spans.append(SlotSpan(names[ord(m.group(1)) - _NAME0], length, length + len(value)))
        out.append(value)
        length += len(value)
        pos = m.end()
    out.append(raw[pos:])
    text = "".join(out)
    if _MARKERS.search(text):  # a filter block around a slot cut or reordered its marked value
        raise TemplateRenderError(
            "error",
            "a {% filter %} block around a slot cut or reordered the slot's value, so where it is spoken is lost; "
            "apply the filter inside the slot's {{ }} instead",
        )
    return Rendered(text, tuple(spans))


def syntax_error_position(exc: TemplateSyntaxError) -> int:
    """1-based line inside the template where Jinja found the problem."""
    return int(exc.lineno or 1)
