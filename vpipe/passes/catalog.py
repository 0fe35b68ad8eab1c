"""Imports every pass module so each registers itself by name."""

from vpipe.passes import hoist_shared, resolve_slots, segment_lipsync, select_kernels, splice_gops  # noqa: F401
