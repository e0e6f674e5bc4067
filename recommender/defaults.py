"""Defaults every layer shares, in a module that imports nothing heavy: the CLI reads them at
start, and ``recommender --help`` must not pay for NumPy."""

from __future__ import annotations

from pathlib import Path

DEFAULT_INDEX = Path("indexes/default")
