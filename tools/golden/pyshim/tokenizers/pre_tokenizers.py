"""Placeholder submodule of the tokenizers placeholder (see its package docstring)."""
from . import __getattr__  # noqa: F401  (any name is an unusable placeholder class)
