"""Defaults every layer shares, in a module that imports nothing heavy: the CLI reads them at
start, and ``recommender --help`` must not pay for NumPy."""

from __future__ import annotations

from pathlib import Path

DEFAULT_INDEX = Path("indexes/default")
DAY = 86400.0
"""Seconds in a day: publication times are Unix seconds, gaps are told in days."""
METHODS = ("recommender", "dense", "bm25", "recency", "random")
"""The rankings: the product's, then one signal each, for comparison."""
