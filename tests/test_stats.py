from __future__ import annotations

import numpy as np

from recommender.stats import paired_comparison


def test_clear_difference_is_significant() -> None:
    rng = np.random.default_rng(0)
    b = rng.uniform(0, 1, 100)
    result = paired_comparison(b + 0.2, b, samples=2000)
    assert abs(result.mean_difference - 0.2) < 1e-9
    assert result.low > 0.19 and result.high < 0.21 and result.significant


def test_noise_is_not_significant() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.uniform(0, 1, 60), rng.uniform(0, 1, 60)
    result = paired_comparison(a, b, samples=2000)
    assert result.low < result.mean_difference < result.high
    # Independent draws: the interval should straddle zero for this seed.
    assert result.low < 0 < result.high and not result.significant
    assert 0.05 < result.p_value <= 1.0
