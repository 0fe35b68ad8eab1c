"""Output paths: rendered per row, always confined to the output directory.

The frontend checks every row's path before anything runs; the writer checks again at
write time, so a path can never leave the output directory whatever a row contains.
"""

from __future__ import annotations

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


def output_root(path_template: str) -> str:
    """'out/{{ row_id }}.mp4' → 'out': the static directory part before any expression."""
    static = path_template.split("{")[0]
    return str(PurePosixPath(static + "x").parent)  # "x" keeps a trailing '/' meaningful


def confine(rendered: str, base: Path, root: Path) -> Path | None:
    """The absolute path of `rendered` (relative to `base`), or None if it leaves `root`."""
    if "\x00" in rendered or not rendered.strip():
        return None
    full = (base / rendered).resolve()  # an absolute `rendered` replaces `base`
    root = root.resolve()
    if full == root or root not in full.parents:
        return None
    return full
