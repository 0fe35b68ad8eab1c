"""vpipe.data.memo: a derivation of a shared value is computed once per value, kept only
while the value lives and only within its budget, and shared read-only."""

from __future__ import annotations

import functools
import gc
from dataclasses import dataclass

import numpy as np
import pytest

from vpipe.data.memo import derived, kept


@dataclass(frozen=True)
class Shared:
    data: np.ndarray


def test_computed_once_per_value_and_read_only() -> None:
    calls: list[int] = []

    def total(v: Shared) -> np.ndarray:
        calls.append(1)
        return np.cumsum(v.data)

    a, b = Shared(np.arange(5)), Shared(np.arange(5) * 2)
    first = derived(a, "cumsum", lambda: total(a))
    again = derived(a, "cumsum", lambda: total(a))
    other = derived(b, "cumsum", lambda: total(b))
    assert first is again and len(calls) == 2
    np.testing.assert_array_equal(first, [0, 1, 3, 6, 10])
    np.testing.assert_array_equal(other, [0, 2, 6, 12, 20])
    with pytest.raises(ValueError):
        first[0] = 99  # shared between rows: nobody may change it
    assert derived(a, "max", lambda: int(a.data.max())) == 4  # another name, another entry


def test_dropped_with_its_value() -> None:
    before = kept()
    value = Shared(np.ones(3))
    derived(value, "sum", functools.partial(float, 3.0))
    assert kept() == before + 1
    del value
    gc.collect()
    assert kept() == before


def test_a_result_over_the_budget_is_returned_but_not_kept() -> None:
    value = Shared(np.ones(1000))
    calls: list[int] = []

    def big() -> np.ndarray:
        calls.append(1)
        return value.data * 2

    for _ in range(2):
        np.testing.assert_array_equal(derived(value, "big", big, budget=100), np.full(1000, 2.0))
    assert len(calls) == 2
    derived(value, "big", big, budget=8000)
    derived(value, "big", big, budget=8000)
    assert len(calls) == 3


def test_keyed_by_every_value_it_reads_and_dropped_with_any() -> None:
    """A derivation of two shared values (`also`) is kept per pair: another second value
    computes anew; collecting the second value drops the pair's entry."""
    a, b, c = Shared(np.arange(3)), Shared(np.arange(3) * 10), Shared(np.arange(3) * 100)
    calls: list[int] = []

    def dot(x: Shared, y: Shared) -> int:
        calls.append(1)
        return int(x.data @ y.data)

    before = kept()
    assert derived(a, "dot", functools.partial(dot, a, b), also=(b,)) == 50
    assert derived(a, "dot", functools.partial(dot, a, b), also=(b,)) == 50
    assert derived(a, "dot", functools.partial(dot, a, c), also=(c,)) == 500
    assert len(calls) == 2 and kept() == before + 2
    del b
    gc.collect()
    assert kept() == before + 1
    assert derived(a, "dot", functools.partial(dot, a, c), also=(c,)) == 500 and len(calls) == 2
