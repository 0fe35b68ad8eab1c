"""Output paths: rendered per row, always confined to the output directory.

The frontend checks every row's path before anything runs; the writer checks again at
write time, so a path can never leave the output directory whatever a row contains.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

OUTPUT_EXTENSIONS = (".mp4", ".mov", ".mkv", ".webm")
# The video codecs each container can carry (FFmpeg's muxers, checked with PyAV): the recipe's
# output.codec is checked against it, and a copied source stream too.
CONTAINER_CODECS = {
    ".mp4": ("h264", "hevc", "av1", "vp9"),
    ".mov": ("h264", "hevc"),
    ".mkv": ("h264", "hevc", "av1", "vp9"),
    ".webm": ("vp9", "av1"),
}
# codecs whose 4:2:0 needs an even width and height: an odd-sized picture is written 4:4:4
ODD_SIZE_444_CODECS = frozenset({"h264", "hevc"})


def output_root(path_template: str) -> str:
    """'out/{{ row_id }}.mp4' → 'out': the static directory part before any expression."""
    static = path_template.split("{")[0]
    return str(PurePosixPath(static + "x").parent)  # "x" keeps a trailing '/' meaningful


def confine(rendered: str, base: Path, root: Path, memo: dict[Path, Path] | None = None) -> Path | None:
    """The absolute path of `rendered` (relative to `base`), or None if it leaves `root`.

    `memo` (for checking many rows at once) keeps the resolved folders: the rows of a recipe
    share one or a few, and resolving a path costs a system call per component. The file
    itself is still looked at for every row (a symlink is resolved as before)."""
    if "\x00" in rendered or not rendered.strip():
        return None
    path = base / rendered  # an absolute `rendered` replaces `base`
    if memo is None or path.name in ("", ".", ".."):
        full = path.resolve()
        root = root.resolve()
    else:
        folder = memo.get(path.parent)
        if folder is None:
            folder = memo[path.parent] = path.parent.resolve()
        full = folder / path.name
        if os.path.islink(full):
            full = full.resolve()
        root = memo.get(root) or memo.setdefault(root, root.resolve())
        # both resolved and absolute: inside means a proper prefix, one separator further
        return full if str(full).startswith(os.path.join(str(root), "")) else None
    if full == root or root not in full.parents:
        return None
    return full
