"""Every diagnostic code used in the source has an explanation, and every listed code is used."""

from __future__ import annotations

import re
from pathlib import Path

from vpipe.diagnostics.codes import codes

SOURCE = Path(__file__).resolve().parents[2] / "vpipe"


def used_codes() -> set[str]:
    found: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        found |= set(re.findall(r'"(VP\d{3})"', path.read_text(encoding="utf-8")))
    return found


def test_every_used_code_is_explained() -> None:
    missing = used_codes() - set(codes())
    assert not missing, f"add these to vpipe/diagnostics/codes.yaml: {sorted(missing)}"


def test_every_explained_code_is_used() -> None:
    unused = set(codes()) - used_codes()
    assert not unused, f"codes.yaml lists codes nothing emits: {sorted(unused)}"


def test_code_ranges() -> None:
    for code in codes():
        n = int(code[2:])
        assert 1 <= n <= 399
