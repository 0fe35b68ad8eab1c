"""Draw a graph: Graphviz DOT text, or a self-contained SVG laid out here (layered, with
barycentre ordering) so `vpipe graph` needs no Graphviz install."""

from __future__ import annotations

from html import escape

from vpipe.ir.graph import Graph, Op
from vpipe.ir.types import Scope

_FILL = {Scope.SHARED: "#dbeafe", Scope.PER_ROW: "#ffedd5"}
_STROKE = {Scope.SHARED: "#1d4ed8", Scope.PER_ROW: "#c2410c"}


def _label(op: Op) -> tuple[str, str]:
    results = ", ".join(f"%{r.name}" for r in op.results)
    kernel = f"  [{op.kernel}]" if op.kernel else ""
    return f"{results} = {op.kind}", f"{', '.join(str(r.type) for r in op.results)}{kernel}"


def to_dot(graph: Graph) -> str:
    lines = [
        f'digraph "{graph.name}" {{',
        "  rankdir=TB;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica"];',
    ]
    for scope, title in ((Scope.SHARED, "shared (once)"), (Scope.PER_ROW, "per row")):
        lines.append(f'  subgraph "cluster_{scope.value}" {{ label="{title}"; color="{_STROKE[scope]}";')
        for i, op in enumerate(graph.ops):
            if op.scope is scope:
                top, bottom = _label(op)
                label = f"{top}\\n{bottom}".replace('"', '\\"')
                lines.append(f'    n{i} [label="{label}", fillcolor="{_FILL[scope]}"];')
        lines.append("  }")
    index = {r.name: i for i, op in enumerate(graph.ops) for r in op.results}
    for i, op in enumerate(graph.ops):
        for operand in op.operands:
            if operand in index:
                lines.append(f"  n{index[operand]} -> n{i};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _layers(graph: Graph) -> list[list[int]]:
    index = {r.name: i for i, op in enumerate(graph.ops) for r in op.results}
    depth: list[int] = []
    for op in graph.ops:
        parents = [depth[index[o]] for o in op.operands if o in index]
        depth.append(1 + max(parents) if parents else 0)
    layers: list[list[int]] = [[] for _ in range(max(depth, default=-1) + 1)]
    for i, d in enumerate(depth):
        layers[d].append(i)
    # Barycentre sweeps reduce edge crossings: order each layer by its parents' positions.
    preds = [[index[o] for o in op.operands if o in index] for op in graph.ops]
    succs: list[list[int]] = [[] for _ in graph.ops]
    for i, ps in enumerate(preds):
        for p in ps:
            succs[p].append(i)
    for sweep in range(8):
        down = sweep % 2 == 0
        order = {n: k for layer in layers for k, n in enumerate(layer)}
        rng = range(1, len(layers)) if down else range(len(layers) - 2, -1, -1)
        for li in rng:

            def key(n: int, down: bool = down, order: dict[int, int] = order) -> float:
                nbrs = preds[n] if down else succs[n]
                return sum(order[m] for m in nbrs) / len(nbrs) if nbrs else order[n]

            layers[li].sort(key=key)
    return layers


def to_svg(graph: Graph) -> str:
    char_w, box_h, gap_x, gap_y, pad = 6.6, 40, 28, 46, 20
    layers = _layers(graph)
    widths = [max(len(t) for t in _label(op)) * char_w + 20 for op in graph.ops]
    pos: dict[int, tuple[float, float]] = {}
    row_widths = [sum(widths[n] for n in layer) + gap_x * (len(layer) - 1) for layer in layers]
    canvas_w = max(row_widths, default=200) + 2 * pad
    for li, layer in enumerate(layers):
        x = pad + (canvas_w - 2 * pad - row_widths[li]) / 2
        y = pad + 30 + li * (box_h + gap_y)
        for n in layer:
            pos[n] = (x, y)
            x += widths[n] + gap_x
    canvas_h = pad * 2 + 30 + len(layers) * (box_h + gap_y)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{canvas_w:.0f}" height="{canvas_h:.0f}" '
        f'viewBox="0 0 {canvas_w:.0f} {canvas_h:.0f}" font-family="Helvetica, Arial, sans-serif" font-size="11">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#475569"/></marker></defs>',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="{pad}" y="{pad + 4}" font-size="14" font-weight="bold">{escape(graph.name)}</text>',
        f'<rect x="{canvas_w - 210}" y="{pad - 8}" width="12" height="12" fill="{_FILL[Scope.SHARED]}" stroke="{_STROKE[Scope.SHARED]}"/>'
        f'<text x="{canvas_w - 192}" y="{pad + 2}">shared (once)</text>'
        f'<rect x="{canvas_w - 110}" y="{pad - 8}" width="12" height="12" fill="{_FILL[Scope.PER_ROW]}" stroke="{_STROKE[Scope.PER_ROW]}"/>'
        f'<text x="{canvas_w - 92}" y="{pad + 2}">per row</text>',
    ]
    index = {r.name: i for i, op in enumerate(graph.ops) for r in op.results}
    for i, op in enumerate(graph.ops):
        for operand in op.operands:
            if operand not in index:
                continue
            j = index[operand]
            x1, y1 = pos[j][0] + widths[j] / 2, pos[j][1] + box_h
            x2, y2 = pos[i][0] + widths[i] / 2, pos[i][1]
            my = (y1 + y2) / 2
            out.append(
                f'<path d="M{x1:.1f},{y1:.1f} C{x1:.1f},{my:.1f} {x2:.1f},{my:.1f} {x2:.1f},{y2 - 2:.1f}" '
                f'fill="none" stroke="#475569" stroke-width="1.1" marker-end="url(#arrow)"/>'
            )
    for i, op in enumerate(graph.ops):
        x, y = pos[i]
        top, bottom = _label(op)
        out.append(
            f"<g><title>{escape(op.kind)}</title>"
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{widths[i]:.1f}" height="{box_h}" rx="6" '
            f'fill="{_FILL[op.scope]}" stroke="{_STROKE[op.scope]}"/>'
            f'<text x="{x + 10:.1f}" y="{y + 16:.1f}" font-weight="bold">{escape(top)}</text>'
            f'<text x="{x + 10:.1f}" y="{y + 31:.1f}" fill="#334155">{escape(bottom)}</text></g>'
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"
