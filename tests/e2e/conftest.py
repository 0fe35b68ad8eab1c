"""Fixtures of the end-to-end tests: one content-addressed cache for the session (the source
analysis of a clip is shared by the tests that render it, as it is between a user's runs),
and the source-side facts the tests measure outputs against."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def e2e_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("vpipe-cache")
