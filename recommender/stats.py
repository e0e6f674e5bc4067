"""Paired comparisons of two methods' per-query scores."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Comparison:
    """Mean of (a - b) over queries, its bootstrap 95% interval, and a two-sided p-value."""

    mean_difference: float
    low: float
    high: float
    p_value: float

    @property
    def significant(self) -> bool:
        return self.p_value < 0.05 and (self.low > 0 or self.high < 0)


def paired_comparison(a: Sequence[float], b: Sequence[float], samples: int = 10_000,
                      seed: int = 0) -> Comparison:
    """Compare per-query scores ``a`` and ``b`` of two methods on the same queries.

    Interval: percentile bootstrap of mean(a - b), resampling queries with replacement.
    p-value: paired randomisation test, flipping the sign of each query's difference at
    random; p = (1 + #{|mean of flipped| >= |observed|}) / (1 + samples).
    """
    diff = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if diff.size == 0:
        return Comparison(0.0, 0.0, 0.0, 1.0)
    rng = np.random.default_rng(seed)
    observed = diff.mean()
    chunk = max(1, 2_000_000 // diff.size)  # bounded memory for many queries
    means, extreme = [], 0
    for start in range(0, samples, chunk):
        size = min(chunk, samples - start)
        means.append(diff[rng.integers(0, diff.size, size=(size, diff.size))].mean(axis=1))
        signs = rng.choice(np.array([-1.0, 1.0]), size=(size, diff.size))
        extreme += int(np.sum(np.abs((signs * diff).mean(axis=1)) >= abs(observed) - 1e-12))
    low, high = np.percentile(np.concatenate(means), [2.5, 97.5])
    p_value = (1 + extreme) / (1 + samples)
    return Comparison(float(observed), float(low), float(high), float(p_value))
