"""Kernel plug-ins, registered by (op kind, backend, device).

A kernel implements one op spec. It never imports the compiler: it sees the op (kind,
attributes), its input values and a `RunContext`, and returns the result value.

    @kernel("speech.align", backend="pocketsphinx", device="cpu")
    class PocketsphinxAlign(Kernel):
        def run(self, op: Op, inputs: list[Any], rt: RunContext) -> Alignment: ...

`backend` is a name, or a `Backend` declared with `vpipe.kernel_api.backends.backend` for
the backends a recipe chooses (lip-sync, TTS, aligner). Built-in kernel modules are every
module of the `vpipe.kernels` package (found by scanning it: a new file is picked up as it
is); other packages add theirs through the `vpipe.kernels` entry-point group
(`vpipe.kernel_api.plugins`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from vpipe.ir.graph import Estimate, Op
from vpipe.kernel_api.backends import Backend
from vpipe.kernel_api.context import RunContext
from vpipe.kernel_api.plugins import load_plugins


class Kernel:
    """Base class of kernels. Subclasses set nothing by hand: `@kernel` fills the ClassVars."""

    kind: ClassVar[str]
    backend: ClassVar[str]
    device: ClassVar[str]
    version: ClassVar[str] = "1"
    cache: ClassVar[bool] = True  # store results in the content-addressed cache
    # Cheap ops whose *value* is hashed for the cache key (instead of the op chain), so that
    # rows with equal content downstream share keys: two rows saying the same text share TTS.
    value_keyed: ClassVar[bool] = False
    priority: ClassVar[int] = 0  # among kernels of one op and device, higher wins

    def available(self) -> str | None:
        """None when usable here, else why not (a missing package, no GPU, no weights)."""
        return None

    def estimate(self, op: Op, context: dict[str, Any]) -> Estimate:
        return Estimate()

    def run(self, op: Op, inputs: list[Any], rt: RunContext) -> Any:
        raise NotImplementedError

    # Whether `prepare` does anything (the runtime starts no thread for kernels that have nothing to load)
    prepares: ClassVar[bool] = False

    def prepare(self) -> None:
        """Load, once per process, what this kernel's first `run` would otherwise load inside a
        row (imports, models), so that the first row does not wait for it. The runtime calls it
        on a thread of its own when a row op first computes in a process, while that row's
        earlier ops run (runtime/prepare.py). It must change no result and must be safe beside
        the kernel's own runs (what it loads is loaded under a lock, or kept in a pool). A
        kernel that has one sets `prepares`."""


@dataclass(frozen=True)
class KernelInfo:
    kind: str
    backend: str
    device: str
    version: str
    cls: type[Kernel]

    @property
    def id(self) -> str:
        return f"{self.backend}@{self.device}"


_KERNELS: dict[str, list[KernelInfo]] = {}
K = TypeVar("K", bound=type[Kernel])


def kernel(kind: str, backend: str | Backend, device: str = "cpu", version: str | None = None) -> Callable[[K], K]:
    """Register a kernel class. Its `version` (part of every cache key of its results) is the
    class attribute unless given here: bump it whenever the kernel's output changes."""
    if isinstance(backend, Backend):
        backend = backend.name

    def register(cls: K) -> K:
        cls.kind, cls.backend, cls.device = kind, backend, device
        if version is not None:
            cls.version = version
        infos = _KERNELS.setdefault(kind, [])
        if any(i.backend == backend and i.device == device for i in infos):
            raise ValueError(f"kernel {kind} {backend}@{device} registered twice")
        infos.append(KernelInfo(kind, backend, device, cls.version, cls))
        return cls

    return register


def unregister(kind: str, kernel_id: str) -> None:
    """Forget a kernel (tests that register one of their own clean up with this)."""
    _KERNELS[kind] = [i for i in _KERNELS.get(kind, []) if i.id != kernel_id]
    _instances.pop((kind, kernel_id), None)
    _availability.pop((kind, kernel_id), None)


def candidates(kind: str) -> list[KernelInfo]:
    load_plugins()
    return list(_KERNELS.get(kind, []))


def all_kernels() -> list[KernelInfo]:
    load_plugins()
    return [k for infos in _KERNELS.values() for k in infos]


_instances: dict[tuple[str, str], Kernel] = {}
_availability: dict[tuple[str, str], str | None] = {}


def instance(info: KernelInfo) -> Kernel:
    key = (info.kind, info.id)
    if key not in _instances:
        _instances[key] = info.cls()
    return _instances[key]


def availability(info: KernelInfo) -> str | None:
    key = (info.kind, info.id)
    if key not in _availability:
        try:
            _availability[key] = instance(info).available()
        except Exception as exc:
            _availability[key] = f"{type(exc).__name__}: {exc}"
    return _availability[key]


def find(kind: str, kernel_id: str) -> KernelInfo | None:
    for info in candidates(kind):
        if info.id == kernel_id:
            return info
    return None
