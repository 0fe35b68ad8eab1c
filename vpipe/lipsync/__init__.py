"""Lip-sync algorithms: visemes, mouth inventory, retrieval by dynamic programming, compositing."""
