"""Safe on-disk encoding of runtime values for the content-addressed cache.

Values are dataclasses registered here by name (a whitelist), numpy arrays, and JSON
scalars/containers. Arrays go to an `.npz` loaded with `allow_pickle=False`; everything
else is JSON. Nothing on disk can name a class or code to run: a type is looked up by its
registered name, and at most a module of vpipe's own package is imported to register it (a
kernel imports its value types lazily), so a tampered cache can give wrong values at worst,
never code execution (which pickle would allow).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import io
import json
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")
_TYPES: dict[str, type] = {}
_NAMES: dict[type, str] = {}


def cacheable(name: str) -> Any:
    """Class decorator: allow a dataclass to be stored in the cache under `name`."""

    def register(cls: type[T]) -> type[T]:
        assert dataclasses.is_dataclass(cls), f"{cls} must be a dataclass"
        if name in _TYPES and _TYPES[name] is not cls:
            raise ValueError(f"cacheable name {name!r} used twice")
        _TYPES[name] = cls
        _NAMES[cls] = name
        return cls

    return register


class CodecError(Exception):
    pass


def _encode(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            raise CodecError("object arrays cannot be cached")
        key = f"a{len(arrays)}"
        arrays[key] = value
        return {"__array__": key}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, arrays) for v in value]}
    if isinstance(value, list):
        return [_encode(v, arrays) for v in value]
    if isinstance(value, dict):
        return {"__dict__": [[_encode(k, arrays), _encode(v, arrays)] for k, v in value.items()]}
    if isinstance(value, Path):
        return {"__path__": str(value)}
    name = _NAMES.get(type(value))
    if name is None:
        raise CodecError(f"{type(value).__name__} is not registered as cacheable")
    fields = {f.name: _encode(getattr(value, f.name), arrays) for f in dataclasses.fields(value) if f.init}
    return {"__type__": name, "__module__": type(value).__module__, "fields": fields}


def _decode(data: Any, arrays: Any) -> Any:
    if isinstance(data, list):
        return [_decode(v, arrays) for v in data]
    if not isinstance(data, dict):
        return data
    if "__array__" in data:
        return arrays[data["__array__"]]
    if "__tuple__" in data:
        return tuple(_decode(v, arrays) for v in data["__tuple__"])
    if "__dict__" in data:
        return {_decode(k, arrays): _decode(v, arrays) for k, v in data["__dict__"]}
    if "__path__" in data:
        return Path(data["__path__"])
    if "__type__" in data:
        cls = _TYPES.get(data["__type__"])
        module = data.get("__module__")
        if cls is None and isinstance(module, str) and module.startswith("vpipe."):
            # a type registered by a module this process has not imported yet (kernels import
            # lazily): import it, only from vpipe's own package, and look again
            with contextlib.suppress(ImportError):
                importlib.import_module(module)
            cls = _TYPES.get(data["__type__"])
        if cls is None:
            raise CodecError(f"unknown cached type {data['__type__']!r}")
        return cls(**{k: _decode(v, arrays) for k, v in data["fields"].items()})
    raise CodecError("malformed cache entry")


def encode(value: Any) -> tuple[str, dict[str, np.ndarray]]:
    arrays: dict[str, np.ndarray] = {}
    return json.dumps(_encode(value, arrays), separators=(",", ":")), arrays


def decode(text: str, npz: bytes | None, arrays: dict[str, np.ndarray] | None = None) -> Any:
    """The value from its JSON text and its arrays: an `.npz` archive's bytes and/or arrays
    already loaded (the cache's memory-mapped ones)."""
    found: dict[str, np.ndarray] = dict(arrays or {})
    if npz:
        with np.load(io.BytesIO(npz), allow_pickle=False) as z:
            found.update({k: z[k] for k in z.files})
    return _decode(json.loads(text), found)


def is_cacheable(value: Any) -> bool:
    try:
        encode(value)
    except CodecError:
        return False
    return True
