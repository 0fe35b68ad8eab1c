"""What a row derives from a shared value alone, computed for the first row and reused by the next.

Rows get the build's shared values (the face track, the mouth inventory) as the same objects,
row after row, in one process. Whatever a kernel derives from such a value alone (the box the
face spans over the clip, the inventory's lip-shape distances) is the same for every row, yet
it costs in proportion to the recording's length: computed per row, it made a row's cost grow
with the recording. `derived(value, name, compute)` computes it once per value and process.

Keyed by the value's identity (its arrays make it unhashable), those of any other shared
values it derives from too (`also`: the inventory's closures read the video's frame times),
and the derivation's name. An entry is dropped when any of its values is collected
(`weakref.finalize` runs before the object's memory is freed, so an address reused by a
later value never finds a stale entry). `budget` bounds what is kept: a result larger than
it is returned but not kept (the next row computes it again), so a very long recording
costs time, not resident memory.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")

_KEPT: dict[tuple[int, str], Any] = {}


def _size(result: Any) -> int:
    """Bytes of an array result (or a tuple of them); 0 for anything else (small by contract)."""
    if isinstance(result, np.ndarray):
        return int(result.nbytes)
    if isinstance(result, tuple):
        return sum(_size(r) for r in result)
    return 0


def derived(
    value: object, name: str, compute: Callable[[], T], budget: int | None = None, also: tuple[object, ...] = ()
) -> T:
    """`compute()`, a function of `value` alone (and of the shared values in `also`),
    computed once per `value` (and `also`) and process. Results bigger than `budget` bytes
    are not kept. Returned arrays are shared between callers: they are made read-only so no
    caller changes what the next one gets."""
    key = (id(value), *(id(v) for v in also), name)
    if key in _KEPT:
        return _KEPT[key]
    result = compute()
    if budget is not None and _size(result) > budget:
        return result
    for array in result if isinstance(result, tuple) else (result,):
        if isinstance(array, np.ndarray):
            array.flags.writeable = False
    _KEPT[key] = result
    for v in (value, *also):  # whichever is collected first drops it
        weakref.finalize(v, _KEPT.pop, key, None)
    return result


def kept() -> int:
    """How many derivations are kept now (for tests)."""
    return len(_KEPT)
