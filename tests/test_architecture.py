"""The house rules, read from the code's own imports (every `import`, also those inside
functions): each floor imports only floors below it, no two modules import each other
(directly or round a loop), and no module grows past 500 lines.

The floors, bottom up, with the reason each stands where it does, are drawn in
docs/architecture.md; `FLOORS` below is that table. A new top-level package or module must
be given a floor here (the test says so).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "vpipe"

# Bottom up. A unit is a package under vpipe/ or a top-level module; a unit may import its own
# modules and any unit on a lower floor, never one on its own floor or above.
FLOORS: tuple[tuple[str, ...], ...] = (
    ("version",),  # vpipe/version.py: the version
    (
        "diagnostics",
        "data",
        "text",
        "lexicon",
        "templates",
        "probe",
        "outputs",
        "atomic",
        "faults",
        "phases",
        "catalog",
        "schemas",
    ),
    ("ir", "speech", "media", "weights", "neural", "provenance"),  # libraries: the IR, the signal work, provenance
    ("kernel_api",),  # RunContext, Target, Kernel, the kernel and backend registries
    ("face",),  # tracks faces in decoded video
    ("lipsync",),  # renders mouths on tracked faces; its sync score is below QC
    ("qc",),  # measures what lip-sync and speech made
    ("kernels", "frontend", "passes"),  # the three users of the kernel API, independent of each other
    ("build",),  # a compiled recipe and its folders
    ("runtime",),  # executes a build
    ("driver",),  # recipe → IR → passes (asks the runtime for shared facts)
    ("plan", "sample", "preview"),
    ("report",),  # the HTML review of a run: reads manifests, draws from outputs, prints the plan
    ("api",),  # vpipe.compile / Build.run: what the command line does, as calls
    ("cli",),
    ("reference", "__main__", "vpipe"),  # vpipe/__init__.py: the API at `import vpipe`
)
FLOOR = {unit: i for i, units in enumerate(FLOORS) for unit in units}
MAX_LINES = 500
MAX_FUNCTION_LINES = 80


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(path: Path) -> Iterator[tuple[str, int]]:
    """(imported vpipe module, line) for every import in the file, resolved to a module of
    this tree (`from vpipe.passes import hoist_shared` names the module hoist_shared)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [
                f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES else node.module for a in node.names
            ]
        else:
            continue
        for target in targets:
            while target not in MODULES and "." in target:
                target = target.rsplit(".", 1)[0]
            if target in MODULES and target.startswith("vpipe"):
                yield target, node.lineno


EDGES = {name: sorted(set(_imports(path))) for name, path in MODULES.items()}


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def test_every_unit_has_a_floor() -> None:
    missing = sorted({_unit(m) for m in MODULES} - set(FLOOR))
    assert not missing, f"give these a floor in FLOORS (and in docs/architecture.md): {missing}"


def test_no_import_runs_back_up_or_sideways() -> None:
    wrong = []
    for module, targets in EDGES.items():
        here = _unit(module)
        for target, line in targets:
            there = _unit(target)
            if there != here and FLOOR.get(there, -1) >= FLOOR.get(here, -1):
                wrong.append(
                    f"{MODULES[module].relative_to(ROOT)}:{line}: {here} (floor {FLOOR.get(here)}) imports "
                    f"{target} ({there}, floor {FLOOR.get(there)})"
                )
    assert not wrong, "imports that do not go down a floor:\n" + "\n".join(wrong)


def _circles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), or a module importing itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w, _ in EDGES[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or any(t == v for t, _ in EDGES[v]):
                found.append(sorted(component))

    for v in MODULES:
        if v not in index:
            visit(v)
    return found


def test_no_import_circles() -> None:
    assert _circles() == []


def test_the_circle_finder_finds_a_circle() -> None:
    """The check above can fail: a loop put into the graph is found."""
    a, b = "vpipe.text", "vpipe.lexicon"
    EDGES[a].append((b, 0))
    EDGES[b].append((a, 0))
    try:
        assert sorted([a, b]) in _circles()
    finally:
        EDGES[a].remove((b, 0))
        EDGES[b].remove((a, 0))


def test_modules_stay_small() -> None:
    big = {
        str(p.relative_to(ROOT)): n
        for p in MODULES.values()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) >= MAX_LINES
    }
    assert not big, f"split these modules (one concept per module, < {MAX_LINES} lines): {big}"


def test_functions_stay_short_or_say_why() -> None:
    """No function over MAX_FUNCTION_LINES lines unless its docstring says why it is long
    ("Long on purpose: ...")."""
    long = {}
    for path in MODULES.values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES and "long on purpose" not in (ast.get_docstring(node) or "").lower():
                    long[f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"] = lines
    assert not long, f"split these functions, or say in the docstring why one is long on purpose: {long}"
