"""Print a graph one op per line; `vpipe.ir.parser` reads the same text back.

    graph @quickstart {
      %video = media.open() {"kind": "video", "path": "presenter.mp4"} : Video<fps=25, h=512, w=512> shared loc("recipe.yaml":3:10 "/source/video")
      %row = rows.row() {"file": "rows.csv"} : Row per_row
    }

After the scope come, when known: `kernel(backend@device)`, `est(t=…, ram_mb=…, vram_mb=…)`
and `loc(...)`. `//` starts a comment (hashes are printed as one with `hashes=True`).
"""

from __future__ import annotations

import json

from vpipe.ir.graph import Graph, Op, thaw
from vpipe.ir.hashing import graph_hashes


def _num(x: float) -> str:
    return repr(int(x)) if float(x).is_integer() else repr(float(x))


def print_op(op: Op, value_hash: str | None = None) -> str:
    results = ", ".join(f"%{r.name}" for r in op.results)
    operands = ", ".join(f"%{o}" for o in op.operands)
    text = f"{results} = {op.kind}({operands})"
    if op.attrs:
        text += " " + json.dumps(thaw(op.attrs), sort_keys=True, ensure_ascii=False)
    text += " : " + ", ".join(str(r.type) for r in op.results)
    text += f" {op.scope.value}"
    if op.kernel:
        text += f" kernel({op.kernel})"
    if op.estimate is not None:
        text += " est(" + ", ".join(f"{k}={_num(v)}" for k, v in op.estimate.items()) + ")"
    if op.loc is not None:
        pointer = f" {json.dumps(op.loc.pointer)}" if op.loc.pointer else ""
        text += f" loc({json.dumps(op.loc.file)}:{op.loc.line}:{op.loc.col}{pointer})"
    if value_hash:
        text += f"  // #{value_hash[:12]}"
    return text


def print_graph(graph: Graph, hashes: bool = False) -> str:
    value_hashes = graph_hashes(graph) if hashes else {}
    lines = [f"graph @{graph.name} {{"]
    for op in graph.ops:
        first = op.results[0].name if op.results else ""
        lines.append("  " + print_op(op, value_hashes.get(first)))
    lines.append("}")
    return "\n".join(lines) + "\n"
