"""Metric functions against hand-computed values, then against ranx on random runs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recommender import metrics

RANKED = ["a", "b", "c", "d", "e"]
RELEVANT = {"a", "c", "f"}  # "f" was never retrieved


def test_recall_precision_hit_rate() -> None:
    assert metrics.recall_at_k(RANKED, RELEVANT, 1) == pytest.approx(1 / 3)
    assert metrics.recall_at_k(RANKED, RELEVANT, 5) == pytest.approx(2 / 3)
    assert metrics.precision_at_k(RANKED, RELEVANT, 5) == pytest.approx(2 / 5)
    assert metrics.precision_at_k(RANKED, RELEVANT, 10) == pytest.approx(2 / 10)
    assert metrics.hit_rate_at_k(["b", "a"], RELEVANT, 1) == 0.0
    assert metrics.hit_rate_at_k(["b", "a"], RELEVANT, 2) == 1.0


def test_ndcg_by_hand() -> None:
    # DCG@5 = 1/log2(2) + 1/log2(4) = 1.5; IDCG@5 = 1 + 1/log2(3) + 1/log2(4) (3 relevant).
    expected = 1.5 / (1 + 1 / math.log2(3) + 0.5)
    assert metrics.ndcg_at_k(RANKED, RELEVANT, 5) == pytest.approx(expected)
    assert metrics.ndcg_at_k(["x", "y", "a"], {"a"}, 3) == pytest.approx(0.5)
    assert metrics.ndcg_at_k(["a", "c"], {"a", "c"}, 10) == pytest.approx(1.0)
    assert metrics.ndcg_at_k(RANKED, set(), 5) == 0.0


def test_reciprocal_rank_and_average_precision_by_hand() -> None:
    assert metrics.reciprocal_rank(["x", "y", "a"], {"a"}) == pytest.approx(1 / 3)
    assert metrics.reciprocal_rank(["x", "y", "a"], {"a"}, k=2) == 0.0
    # Hits at ranks 1 and 3: (1/1 + 2/3) / |R| with |R| = 3.
    assert metrics.average_precision_at_k(RANKED, RELEVANT, 5) == pytest.approx((1 + 2 / 3) / 3)
    assert metrics.average_precision_at_k(["x", "a"], {"a"}, 1) == 0.0


def test_coverage_and_median() -> None:
    assert metrics.catalogue_coverage(["a", "b", "a"], 4) == 0.5
    assert metrics.median([5.0, 1.0, 3.0]) == 3.0
    assert metrics.median([4.0, 1.0, 3.0, 2.0]) == 2.5
    assert metrics.median([]) is None


@pytest.mark.parametrize("seed", range(5))
def test_agrees_with_ranx_on_random_runs(seed: int) -> None:
    ranx = pytest.importorskip("ranx")
    rng = np.random.default_rng(seed)
    docs = [f"d{i}" for i in range(40)]
    qrels, run, ours = {}, {}, []
    for q in range(30):
        relevant = set(rng.choice(docs, size=rng.integers(1, 8), replace=False))
        ranked = list(rng.choice(docs, size=20, replace=False))
        qrels[f"q{q}"] = {d: 1 for d in relevant}
        run[f"q{q}"] = {d: float(20 - i) for i, d in enumerate(ranked)}
        ours.append((ranked, relevant))
    names = ["recall@5", "precision@5", "ndcg@10", "mrr@10", "map@10", "hit_rate@5"]
    expected = ranx.evaluate(ranx.Qrels(qrels), ranx.Run(run), names)
    mine = {
        "recall@5": np.mean([metrics.recall_at_k(r, g, 5) for r, g in ours]),
        "precision@5": np.mean([metrics.precision_at_k(r, g, 5) for r, g in ours]),
        "ndcg@10": np.mean([metrics.ndcg_at_k(r, g, 10) for r, g in ours]),
        "mrr@10": np.mean([metrics.reciprocal_rank(r, g, 10) for r, g in ours]),
        "map@10": np.mean([metrics.average_precision_at_k(r, g, 10) for r, g in ours]),
        "hit_rate@5": np.mean([metrics.hit_rate_at_k(r, g, 5) for r, g in ours]),
    }
    for name in names:
        assert mine[name] == pytest.approx(expected[name], abs=1e-6), name
