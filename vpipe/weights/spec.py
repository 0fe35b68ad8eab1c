"""Which files a model needs, read from the catalog (`vpipe/catalog/models.yaml`).

A catalog entry's `weights` block:

    weights:
      files: [wav2lip_gan.pth]            # every file is required
      alternatives: [wav2lip.pth]         # accepted instead of files[0] (a list), or {file: [alt, ...]}
      sha256: {wav2lip_gan.pth: <hex>}    # where published (or null)
      size: {wav2lip_gan.pth: 435801865}  # bytes, where published (or null)
      variants: {<sha256>: "1.6"}         # which version a file with this hash is
    hf_repo: org/name                     # optional: also look in the Hugging Face cache layout

Only entries whose weights are supplied by the user count (`user_weights: true`, or a
neural lip-sync / quality entry with `files`); bundled weights (piper, pocketsphinx,
resemblyzer) come with their packages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vpipe.catalog import model


@dataclass(frozen=True)
class ExpectedFile:
    name: str  # relative path inside the model folder, e.g. "whisper/tiny.pt"
    alternatives: tuple[str, ...] = ()  # other names accepted for the same role (another version)
    sha256: dict[str, str] | None = None  # name → published hash
    size: dict[str, int] | None = None  # name → published byte size
    variants: dict[str, str] | None = None  # sha256 → version label

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.alternatives)


def expected_files(model_id: str) -> list[ExpectedFile]:
    """The files `model_id` needs, in catalog order; [] for a weight-free or unknown model."""
    entry = model(model_id)
    weights: Any = entry.get("weights") if entry else None
    if not isinstance(weights, dict) or not weights.get("files"):
        return []
    alts = weights.get("alternatives") or {}
    if isinstance(alts, list):
        alts = {weights["files"][0]: alts}
    hashes = weights.get("sha256") or {}
    sizes = weights.get("size") or {}
    variants = weights.get("variants") or None
    out = []
    for name in weights["files"]:
        names = (name, *alts.get(name, ()))
        out.append(
            ExpectedFile(
                name,
                tuple(alts.get(name, ())),
                {n: str(hashes[n]).lower() for n in names if n in hashes} or None,
                {n: int(sizes[n]) for n in names if n in sizes} or None,
                variants,
            )
        )
    return out
