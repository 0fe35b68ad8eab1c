"""The table of diagnostic codes (data in codes.yaml) behind `vpipe explain`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml


@dataclass(frozen=True)
class CodeInfo:
    code: str
    title: str
    explanation: str


@cache
def codes() -> dict[str, CodeInfo]:
    text = resources.files("vpipe.diagnostics").joinpath("codes.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    return {k: CodeInfo(k, v["title"], v["explanation"].strip()) for k, v in data.items()}


def explain(code: str) -> CodeInfo | None:
    return codes().get(code.upper().strip())
