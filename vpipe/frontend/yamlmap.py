"""Load YAML safely while remembering where every key and value came from.

PyYAML's `compose` gives a node tree with marks; we build plain Python values from it
ourselves (scalars through the *safe* constructor only) and record, for each JSON
pointer, the span of the value and of its key. Diagnostics then point at the exact
`line:col` of the offending node.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from vpipe.diagnostics.diagnostic import Diagnostic, DiagnosticError, Span

# A recipe is a small hand-written file; a node budget stops alias bombs ("billion laughs")
# from expanding into gigabytes before validation even starts.
MAX_NODES = 100_000


def escape_pointer_token(token: str | int) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def join_pointer(base: str, token: str | int) -> str:
    return f"{base}/{escape_pointer_token(token)}"


@dataclass
class SourceMap:
    """JSON pointer → span of the value, and → span of the mapping key that holds it."""

    file: str
    values: dict[str, Span] = field(default_factory=dict)
    keys: dict[str, Span] = field(default_factory=dict)

    def value(self, pointer: str) -> Span:
        """Span of the value at `pointer`, or of its nearest existing ancestor."""
        probe = pointer
        while True:
            if probe in self.values:
                return self.values[probe]
            if not probe:
                return Span(self.file, pointer=pointer)
            probe = probe.rsplit("/", 1)[0]

    def key(self, pointer: str) -> Span:
        """Span of the key naming `pointer` (falls back to the value span)."""
        return self.keys.get(pointer) or self.value(pointer)


def _span(file: str, node: yaml.Node, pointer: str) -> Span:
    start, end = node.start_mark, node.end_mark
    # Block scalars and flow collections may end on a later line; keep the span on its
    # first line when it ends at column 0 of the next line (a trailing newline).
    end_line, end_col = end.line + 1, end.column + 1
    if end.column == 0 and end.line > start.line:
        end_line, end_col = end.line, 10_000
    return Span(file, start.line + 1, start.column + 1, end_line, end_col, pointer)


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.smap = SourceMap(file)
        self.constructor = yaml.SafeLoader("")  # used only for its safe scalar constructors
        self.count = 0

    def build(self, node: yaml.Node, pointer: str) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise DiagnosticError(
                Diagnostic(
                    "VP002",
                    f"recipe has more than {MAX_NODES} YAML nodes (alias expansion?)",
                    _span(self.file, node, pointer),
                    help="a recipe should be a small, hand-written file; avoid deep YAML aliases",
                )
            )
        self.smap.values[pointer] = _span(self.file, node, pointer)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, pointer)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, join_pointer(pointer, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            raise DiagnosticError(
                Diagnostic(
                    "VP002",
                    f"unsupported YAML value: {exc.problem}",
                    _span(self.file, node, pointer),
                    help="recipes accept plain YAML scalars only (no custom tags)",
                )
            ) from None

    def _mapping(self, node: yaml.MappingNode, pointer: str) -> dict[str, Any]:
        self.constructor.flatten_mapping(node)  # resolves YAML merge keys (<<) safely
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self.build(key_node, pointer + "/#key")
            if not isinstance(key, str):
                key = str(key)  # e.g. `1: x` — keys are always strings in a recipe
            child = join_pointer(pointer, key)
            key_span = _span(self.file, key_node, child)
            if key in out:
                first = self.smap.keys[child]
                raise DiagnosticError(
                    Diagnostic(
                        "VP003",
                        f"duplicate key '{key}'",
                        key_span,
                        help=f"'{key}' is already set on line {first.line}; remove one of them",
                    )
                )
            self.smap.keys[child] = key_span
            out[key] = self.build(value_node, child)
        self.smap.values.pop(pointer + "/#key", None)
        return out


def load_yaml(text: str, file: str) -> tuple[Any, SourceMap]:
    """Parse one YAML document into plain data plus its source map.

    Raises DiagnosticError(VP002) on syntax errors, with the parser's position.
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.context and "quoted scalar" in exc.context and exc.context_mark is not None:
            mark, problem = exc.context_mark, "this quoted string is never closed"
        span = Span(file, mark.line + 1, mark.column + 1, mark.line + 1, mark.column + 2) if mark else Span(file)
        raise DiagnosticError(
            Diagnostic("VP002", f"YAML syntax error: {problem}", span, help=_yaml_help(problem))
        ) from None
    except yaml.YAMLError as exc:  # e.g. multiple documents
        raise DiagnosticError(Diagnostic("VP002", f"YAML error: {exc}", Span(file))) from None
    if node is None:
        return None, SourceMap(file)
    builder = _Builder(file)
    data = builder.build(node, "")
    return data, builder.smap


def _yaml_help(problem: str) -> str | None:
    if "tab" in problem:
        return "YAML indentation must use spaces, not tabs"
    if "mapping values are not allowed" in problem:
        return "a value containing ': ' must be quoted"
    if "could not find expected ':'" in problem:
        return "check the indentation of the lines above, or quote the value"
    return None
