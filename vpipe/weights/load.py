"""Reading weight files safely and loading them into a module strictly.

Safetensors files are read with `safetensors` (no code can run). Anything else goes through
`torch.load(weights_only=True)`, whose unpickler only builds tensors and plain containers: a
checkpoint carrying a code-executing pickle payload is refused, never run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class WeightsError(Exception):
    """A weight file that cannot be used; the message names the file and what is wrong."""


def strip_prefix(state: Mapping[str, Any], prefix: str = "module.") -> dict[str, Any]:
    """Keys without a leading `prefix` (DataParallel checkpoints save `module.<key>`)."""
    return {k[len(prefix) :] if k.startswith(prefix) else k: v for k, v in state.items()}


def _unwrap(obj: Any, path: Path, container: str | None) -> dict[str, Any]:
    if container is not None:
        if not isinstance(obj, Mapping) or container not in obj:
            keys = ", ".join(list(obj)[:6]) if isinstance(obj, Mapping) else type(obj).__name__
            raise WeightsError(f"{path}: expected a checkpoint with '{container}' (found: {keys})")
        obj = obj[container]
    elif isinstance(obj, Mapping) and "state_dict" in obj and isinstance(obj["state_dict"], Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping):
        raise WeightsError(f"{path}: not a state dict ({type(obj).__name__})")
    import torch

    bad = [k for k, v in obj.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise WeightsError(f"{path}: entries that are not tensors: {', '.join(map(str, bad[:5]))}")
    return dict(obj)


def load_state_dict(path: Path, container: str | None = None, prefix: str = "module.") -> dict[str, Any]:
    """Tensors of a checkpoint on the CPU: `{"state_dict": …}` unwrapped (or `container`),
    `prefix` stripped. Raises WeightsError for unreadable, unsafe or non-tensor files."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: no such file")
    if path.suffix == ".safetensors":
        try:
            from safetensors.torch import load_file
        except ImportError as exc:
            raise WeightsError(f"{path}: reading .safetensors needs the 'safetensors' package (extra: neural)") from exc
        try:
            obj: Any = load_file(str(path), device="cpu")
        except Exception as exc:
            raise WeightsError(f"{path}: not a readable safetensors file: {exc}") from None
    else:
        import pickle

        import torch

        try:
            obj = torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:
            text = str(exc)
            if "Unsupported global" not in text:
                raise WeightsError(f"{path}: not a readable PyTorch checkpoint: {_reason(text)}") from None
            raise WeightsError(
                f"{path}: refused to load: the file holds Python objects other than tensors, and loading them "
                f"could run code (torch.load weights_only=True): {_reason(text)}"
            ) from None
        except Exception as exc:
            raise WeightsError(f"{path}: not a readable PyTorch checkpoint: {type(exc).__name__}: {exc}") from None
    return strip_prefix(_unwrap(obj, path, container), prefix) if prefix else _unwrap(obj, path, container)


def _reason(text: str) -> str:
    """The unpickler's own reason from torch's long message."""
    for line in text.splitlines():
        if "WeightsUnpickler error:" in line:
            rest = line.split("WeightsUnpickler error:", 1)[1].strip()
            if rest:
                return rest.split(". Please use")[0]
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and "WeightsUnpickler" not in ln]
    return next((ln for ln in lines if ln.startswith("Unsupported")), lines[0] if lines else "unreadable")


@dataclass(frozen=True)
class LoadReport:
    missing: tuple[str, ...]
    unexpected: tuple[str, ...]
    mismatched: tuple[str, ...]  # "key: checkpoint shape vs model shape"

    @property
    def clean(self) -> bool:
        return not (self.missing or self.unexpected or self.mismatched)

    def describe(self, limit: int = 5) -> str:
        parts = []
        for label, keys in (("missing", self.missing), ("unexpected", self.unexpected), ("shape", self.mismatched)):
            if keys:
                more = f" (+{len(keys) - limit} more)" if len(keys) > limit else ""
                parts.append(f"{len(keys)} {label}: {', '.join(keys[:limit])}{more}")
        return "; ".join(parts) or "all keys match"


def compare(module: Any, state: Mapping[str, Any]) -> LoadReport:
    """Key-for-key comparison of a module's state dict with a checkpoint's."""
    own = module.state_dict()
    missing = tuple(k for k in own if k not in state)
    unexpected = tuple(k for k in state if k not in own)
    mismatched = tuple(
        f"{k}: {tuple(state[k].shape)} vs {tuple(own[k].shape)}"
        for k in own
        if k in state and tuple(state[k].shape) != tuple(own[k].shape)
    )
    return LoadReport(missing, unexpected, mismatched)


def load_strict(module: Any, state: Mapping[str, Any], source: str = "checkpoint") -> LoadReport:
    """Load `state` into `module`, refusing any missing, unexpected or mis-shaped key (unlike
    loaders that pass strict=False and silently keep random weights)."""
    report = compare(module, state)
    if not report.clean:
        raise WeightsError(f"{source} does not match the architecture: {report.describe()}")
    module.load_state_dict(dict(state), strict=True, assign=any(p.is_meta for p in module.parameters()))
    return report
