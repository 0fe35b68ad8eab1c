"""Backends describe themselves: what a lip-sync, TTS or aligner backend needs and offers.

A backend is declared once, next to its kernel, and everything that has to know about it
asks this registry instead of naming it: the frontend's schema check (`lipsync.model`,
`voice.engine`, `source.aligner.engine` accept exactly the registered names), the loader
(does the backend animate this kind of source? does it read user weights?), lowering
(`auto`, and whether to build the mouth inventory for it), `vpipe models` and
`vpipe doctor`.

    # vpipe/kernels/lipsync_mine.py
    MINE = backend(
        Backend("mine", "lipsync", summary="...", sources=VIDEO, catalog="mine",
                devices=("cuda", "cpu"), precisions=("fp16", "fp32"), resolution=256,
                needs_weights=True, batchable=True)
    )

    @kernel("lipsync.apply", backend=MINE, device="cuda")
    class Mine(Kernel):
        def run(self, op, inputs, rt): ...   # inputs: video, landmarks, track, spans[, inventory]

Adding a backend is that file, its entry in `vpipe/catalog/models.yaml` (weights, VRAM,
licence, provenance) and its tests; nothing in `frontend/`, `ir/` or `passes/` changes.
Built-in kernel modules are found by scanning `vpipe.kernels`; another package registers
its module under the `vpipe.kernels` entry-point group (`vpipe.kernel_api.plugins`). A
kernel module declares its backends at import without importing heavy packages (torch,
diffusers): import those inside `run`/`available`, so a backend whose extra is not
installed is still known, and `vpipe doctor` says what it lacks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from vpipe.kernel_api.plugins import load_plugins

Task = Literal["lipsync", "tts", "align"]
TASKS: tuple[Task, ...] = ("lipsync", "tts", "align")

VIDEO: frozenset[str] = frozenset({"video"})  # a recording: lipsync.apply re-animates its slot windows
STILL: frozenset[str] = frozenset({"image"})  # a still portrait: lipsync.animate animates it whole

# Recipe words that are not backends: `auto` asks `choose_auto`; `none` keeps the frames.
LIPSYNC_KEYWORDS = ("auto", "none")


@dataclass(frozen=True)
class Backend:
    """The facts a backend declares about itself (all optional but `name` and `task`).

    - `sources`: the source kinds a lip-sync backend animates (`VIDEO`, `STILL`, or both).
    - `needs_inventory`: it reads the speaker's mouth inventory (`face.inventory`), so
      lowering builds one and passes it as the last operand of `lipsync.apply`.
    - `needs_weights`: it reads user-supplied weights (`lipsync.weights`, or an aligner's
      local model folders); vpipe never downloads any. `catalog` names the entry of the
      model catalog that says which files, how much VRAM, which licence.
    - `devices`, `precisions`: where and in what precision its kernels can run.
    - `resolution`: the side of the face crop it renders, in pixels (None: the source's).
    - `batchable`: its kernel can render several rows' windows in one call.
    - `window_frames`: it renders fixed clips of this many consecutive frames (e.g. 16), so
      slot windows are widened to whole clips; None renders any window frame by frame.
    - `auto`: its rank when the recipe leaves the choice to vpipe: for lip-sync `model: auto`
      (highest wins among the backends that fit the source and need no weights the recipe
      lacks); for TTS and aligners the engine used when the recipe names none. None: only
      when named.
    - `default_voice`: a TTS backend's voice when the recipe names none.
    - `resolve_voice`: a TTS backend's (voice id, weights file) for the voice a recipe names,
      relative to the recipe's folder; raises LookupError saying why when there is none. The
      loader reports that at `voice.voice`; lowering hashes the file into the cache keys.
    """

    name: str
    task: Task
    summary: str = ""
    catalog: str | None = None
    sources: frozenset[str] = VIDEO
    needs_inventory: bool = False
    needs_weights: bool = False
    devices: tuple[str, ...] = ("cpu",)
    precisions: tuple[str, ...] = ("fp32",)
    resolution: int | None = None
    batchable: bool = False
    window_frames: int | None = None
    auto: int | None = None
    default_voice: str | None = None
    resolve_voice: Callable[[str, Path | None], tuple[str, Path]] | None = None

    @property
    def windowed(self) -> bool:
        return self.window_frames is not None

    def animates(self, source_kind: str) -> bool:
        return source_kind in self.sources

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "task": self.task,
            "summary": self.summary,
            "catalog": self.catalog,
            "sources": sorted(self.sources),
            "needs_inventory": self.needs_inventory,
            "needs_weights": self.needs_weights,
            "devices": list(self.devices),
            "precisions": list(self.precisions),
            "resolution": self.resolution,
            "batchable": self.batchable,
            "window_frames": self.window_frames,
            "auto": self.auto,
        }


_BACKENDS: dict[tuple[str, str], Backend] = {}


def backend(spec: Backend) -> Backend:
    """Declare a backend (once; a kernel module does it at import). Returns it, so the module
    can pass it to `@kernel(..., backend=SPEC)`."""
    key = (spec.task, spec.name)
    known = _BACKENDS.get(key)
    if known is not None and known != spec:
        raise ValueError(f"{spec.task} backend '{spec.name}' declared twice, differently")
    if spec.task == "lipsync" and spec.name in LIPSYNC_KEYWORDS:
        raise ValueError(f"'{spec.name}' is a recipe keyword, not a backend name")
    _BACKENDS[key] = spec
    return spec


def unregister(task: Task, name: str) -> None:
    """Forget a backend (tests that declare one of their own clean up with this)."""
    _BACKENDS.pop((task, name), None)


def backends(task: Task) -> list[Backend]:
    """Every declared backend of a task: those with an `auto` rank first (highest first), then
    the others, each group by name (a stable order, whatever imported what first)."""
    load_plugins()
    found = [b for (t, _), b in _BACKENDS.items() if t == task]
    return sorted(found, key=lambda b: (b.auto is None, -(b.auto or 0), b.name))


def names(task: Task) -> list[str]:
    return [b.name for b in backends(task)]


def find(task: Task, name: str) -> Backend | None:
    return next((b for b in backends(task) if b.name == name), None)


def choose_auto(source_kind: str, weights_dir: Path | None = None, device: str = "cpu") -> Backend | None:
    """The lip-sync backend `auto` means for this source: the highest `auto` rank among the
    backends that animate the source kind and, when they need weights, whose published files
    are found (vpipe.weights: the recipe's `weights_dir`, $VPIPE_MODELS, the default folder,
    the Hugging Face cache); a backend that runs on the target device wins a tie."""
    fitting = [
        b
        for b in backends("lipsync")
        if b.auto is not None and b.animates(source_kind) and (not b.needs_weights or has_weights(b, weights_dir))
    ]
    if not fitting:
        return None
    return min(fitting, key=lambda b: (-(b.auto or 0), device not in b.devices, b.name))


def has_weights(spec: Backend, weights_dir: Path | None = None) -> bool:
    """Every file the backend's catalog entry names is found and is the published file."""
    from vpipe.weights import missing_weights

    return missing_weights(spec.catalog or spec.name, [weights_dir] if weights_dir is not None else []) is None


def default(task: Task) -> Backend | None:
    """The backend a recipe gets when it names none (TTS engine, aligner): the highest `auto`."""
    ranked = [b for b in backends(task) if b.auto is not None]
    return ranked[0] if ranked else None
