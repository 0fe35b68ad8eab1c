"""Neural tests see only the model folders they make (never a user's ~/.cache)."""

from tests.weights.conftest import isolated_caches  # noqa: F401
