"""The version of vpipe (the floor everything may import)."""

__version__ = "0.1.0"
