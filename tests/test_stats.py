"""The paired comparison against scipy's bootstrap and permutation test, and by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from recommender.stats import Comparison, paired_comparison

SAMPLES = 10_000  # paired_comparison's default


def _pairs(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-query scores of two methods: b uniform, a = b plus a small noisy lift."""
    rng = np.random.default_rng(seed)
    b = rng.uniform(0, 1, n)
    return np.clip(b + rng.normal(0.05, 0.2, n), 0, 1), b


def _mean_difference(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(a - b, axis=axis)


@pytest.mark.parametrize(("seed", "n"), [(0, 30), (1, 80), (2, 210)])
def test_interval_matches_scipy_paired_percentile_bootstrap(seed: int, n: int) -> None:
    # n = 210 draws the 10,000 resamples in two chunks (9,523 rows of 210, then the rest).
    a, b = _pairs(seed, n)
    ours = paired_comparison(a, b)
    theirs = stats.bootstrap((a, b), _mean_difference, paired=True, vectorized=True,
                             n_resamples=20_000, confidence_level=0.95, method="percentile",
                             rng=np.random.default_rng(seed)).confidence_interval
    # Both endpoints are Monte Carlo estimates of the 2.5% / 97.5% quantiles of the bootstrap
    # distribution of the mean, whose spread is se = sd(a - b) / sqrt(n). With B draws the
    # quantile's standard error is sqrt(p(1-p)/B) / density(q) ~ 0.027 se for B = 10,000
    # (ours) and 0.019 se for B = 20,000 (scipy), 0.033 se together: 0.1 se is 3 of those.
    # A wrong percentile (5/95 instead of 2.5/97.5) moves an endpoint by 0.3 se.
    se = np.std(a - b) / math.sqrt(n)
    assert ours.low == pytest.approx(theirs.low, abs=0.1 * se)
    assert ours.high == pytest.approx(theirs.high, abs=0.1 * se)
    assert ours.mean_difference == pytest.approx(float(np.mean(a - b)), abs=1e-12)


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_p_value_matches_scipy_paired_permutation_test(seed: int) -> None:
    a, b = _pairs(seed, 12)
    ours = paired_comparison(a, b)
    # 12 pairs: scipy enumerates all 2^12 sign flips, so its p is exact. Under the null the
    # flipped means are symmetric about 0, so its two-sided p (twice the smaller tail) equals
    # ours, P(|flipped mean| >= |observed|), up to our Monte Carlo error sqrt(p(1-p)/B).
    exact = stats.permutation_test((a, b), _mean_difference, permutation_type="samples",
                                   vectorized=True, n_resamples=SAMPLES,
                                   alternative="two-sided").pvalue
    assert 0.01 < exact < 0.9  # the data are neither trivially separated nor identical
    assert ours.p_value == pytest.approx(exact, abs=4 * math.sqrt(exact * (1 - exact) / SAMPLES))


def test_tiny_cases_by_hand() -> None:
    # Differences (1, 1, 1): of the 8 equally likely sign patterns, only +++ and --- reach
    # |mean| >= 1, so p = 2/8; every bootstrap resample has mean 1.
    same = paired_comparison([1.0, 1.0, 1.0], [0.0, 0.0, 0.0])
    assert (same.mean_difference, same.low, same.high) == (1.0, 1.0, 1.0)
    assert same.p_value == pytest.approx(0.25, abs=4 * math.sqrt(0.25 * 0.75 / SAMPLES))
    # Differences (0, 1): resample means 0, 0.5, 1 with chances 1/4, 1/2, 1/4, so the 2.5%
    # and 97.5% percentiles are exactly 0 and 1.
    two = paired_comparison([0.0, 1.0], [0.0, 0.0])
    assert (two.mean_difference, two.low, two.high) == (0.5, 0.0, 1.0)
    # Nothing to compare: no difference, p = 1.
    assert paired_comparison([], []) == Comparison(0.0, 0.0, 0.0, 1.0)


def test_same_seed_same_answer_and_samples_set_the_resolution() -> None:
    a, b = _pairs(6, 40)
    assert paired_comparison(a, b, seed=7) == paired_comparison(a, b, seed=7)
    # A clear lift: no flip reaches it, so p is the smallest possible, 1 / (1 + samples).
    assert paired_comparison(b + 0.3, b, samples=999).p_value == pytest.approx(1 / 1000)


@pytest.mark.parametrize(("low", "high", "p", "significant"), [
    (0.01, 0.2, 0.01, True),     # interval above 0 and p < 0.05
    (-0.2, -0.01, 0.01, True),   # interval below 0
    (-0.01, 0.2, 0.01, False),   # interval includes 0
    (0.01, 0.2, 0.2, False),     # p too large
    (0.01, 0.2, 0.05, False),    # p = 0.05 is not below 0.05
])
def test_significant_needs_both_p_and_interval(low: float, high: float, p: float,
                                               significant: bool) -> None:
    assert Comparison(0.1, low, high, p).significant is significant
