"""Parse the printed IR back into a Graph (used by tests, `--dump-ir` round trips and
hand-written Before/Expected cases of passes)."""

from __future__ import annotations

import json
import re
from typing import Any

from vpipe.diagnostics.diagnostic import Diagnostic, DiagnosticError, Span
from vpipe.ir.graph import Estimate, Graph, Loc, Op, Value
from vpipe.ir.types import Scope, Type

_NAME = re.compile(r"%([A-Za-z_][\w.]*)")
_IDENT = re.compile(r"[A-Za-z_][\w.\-]*")
_HEADER = re.compile(r"^graph\s+@([\w.\-]+)\s*\{\s*$")
_DECODER = json.JSONDecoder()


class _Cursor:
    def __init__(self, text: str, line_no: int, file: str) -> None:
        self.text, self.pos, self.line_no, self.file = text, 0, line_no, file

    def fail(self, message: str) -> DiagnosticError:
        col = self.pos + 1
        return DiagnosticError(
            Diagnostic("VP112", f"IR parse error: {message}", Span(self.file, self.line_no, col, self.line_no, col + 1))
        )

    def ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t":
            self.pos += 1

    def peek(self, s: str) -> bool:
        self.ws()
        return self.text.startswith(s, self.pos)

    def expect(self, s: str) -> None:
        if not self.peek(s):
            raise self.fail(f"expected '{s}'")
        self.pos += len(s)

    def match(self, pattern: re.Pattern[str], what: str) -> re.Match[str]:
        self.ws()
        m = pattern.match(self.text, self.pos)
        if not m:
            raise self.fail(f"expected {what}")
        self.pos = m.end()
        return m

    def json(self) -> Any:
        self.ws()
        try:
            value, end = _DECODER.raw_decode(self.text, self.pos)
        except json.JSONDecodeError as exc:
            self.pos = exc.pos
            raise self.fail(f"bad JSON: {exc.msg}") from None
        self.pos = end
        return value

    def at_end(self) -> bool:
        self.ws()
        return self.pos >= len(self.text) or self.text.startswith("//", self.pos)


def _names(c: _Cursor) -> list[str]:
    out = [c.match(_NAME, "a %value").group(1)]
    while c.peek(","):
        c.expect(",")
        out.append(c.match(_NAME, "a %value").group(1))
    return out


def _type(c: _Cursor) -> Type:
    name = c.match(_IDENT, "a type name").group(0)
    params: dict[str, Any] = {}
    if c.peek("<"):
        c.expect("<")
        while True:
            key = c.match(_IDENT, "a type parameter").group(0)
            c.expect("=")
            params[key] = c.json()
            if c.peek(">"):
                c.expect(">")
                break
            c.expect(",")
    return Type.of(name, **params)


def parse_op(line: str, line_no: int = 1, file: str = "<ir>") -> Op:
    c = _Cursor(line, line_no, file)
    results = _names(c)
    c.expect("=")
    kind = c.match(_IDENT, "an op kind").group(0)
    c.expect("(")
    operands: list[str] = []
    if not c.peek(")"):
        operands = _names(c)
    c.expect(")")
    attrs: dict[str, Any] = {}
    if c.peek("{"):
        attrs = c.json()
        if not isinstance(attrs, dict):
            raise c.fail("attributes must be a JSON object")
    c.expect(":")
    types = [_type(c)]
    while c.peek(","):
        c.expect(",")
        types.append(_type(c))
    if len(types) != len(results):
        raise c.fail(f"{len(results)} result(s) but {len(types)} type(s)")
    scope_name = c.match(_IDENT, "a scope (shared or per_row)").group(0)
    try:
        scope = Scope(scope_name)
    except ValueError:
        raise c.fail(f"unknown scope '{scope_name}'") from None
    kernel: str | None = None
    estimate: Estimate | None = None
    loc: Loc | None = None
    while not c.at_end():
        word = c.match(_IDENT, "kernel(...), est(...) or loc(...)").group(0)
        c.expect("(")
        if word == "kernel":
            kernel = c.match(re.compile(r"[\w.\-]+@[\w.\-]+"), "backend@device").group(0)
        elif word == "est":
            fields: dict[str, float] = {}
            while not c.peek(")"):
                key = c.match(_IDENT, "an estimate field").group(0)
                c.expect("=")
                fields[{"t": "seconds"}.get(key, key)] = float(c.json())
                if c.peek(","):
                    c.expect(",")
            estimate = Estimate(**fields)
        elif word == "loc":
            loc_file = c.json()
            c.expect(":")
            loc_line = int(c.match(re.compile(r"\d+"), "a line").group(0))
            c.expect(":")
            loc_col = int(c.match(re.compile(r"\d+"), "a column").group(0))
            pointer = c.json() if c.peek('"') else ""
            loc = Loc(str(loc_file), loc_line, loc_col, str(pointer))
        else:
            raise c.fail(f"unknown clause '{word}'")
        c.expect(")")
    values = tuple(Value(n, t, scope) for n, t in zip(results, types, strict=True))
    return Op(kind, tuple(operands), values, attrs, loc, kernel, estimate)


def parse_graph(text: str, file: str = "<ir>") -> Graph:
    # lines end at "\n" only: attributes may hold U+2028, NEL or a form feed, which
    # str.splitlines() would also break at (the printer writes them as they are)
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    ops: list[Op] = []
    name: str | None = None
    closed = False
    for i, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("//"):
            continue
        if name is None:
            m = _HEADER.match(line)
            if not m:
                raise DiagnosticError(
                    Diagnostic("VP112", "IR parse error: expected 'graph @name {'", Span(file, i, 1, i, 2))
                )
            name = m.group(1)
            continue
        if line == "}":
            closed = True
            continue
        if closed:
            raise DiagnosticError(
                Diagnostic("VP112", "IR parse error: text after the closing '}'", Span(file, i, 1, i, 2))
            )
        ops.append(parse_op(raw, i, file))
    if name is None or not closed:
        raise DiagnosticError(Diagnostic("VP112", "IR parse error: missing 'graph @name { ... }'", Span(file)))
    return Graph(name, tuple(ops))
