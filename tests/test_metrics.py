"""Metric functions against hand-computed values, then against values ranx computed once."""

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


def test_edges_by_hand() -> None:
    # hits: k=None counts the whole list; 2 of RANKED are relevant, 1 in the top 2.
    assert metrics.hits(RANKED, RELEVANT) == 2 and metrics.hits(RANKED, RELEVANT, 2) == 1
    # An empty gold set scores 0 everywhere (never a division by zero).
    assert metrics.recall_at_k(RANKED, set(), 5) == 0.0
    assert metrics.average_precision_at_k(RANKED, set(), 5) == 0.0
    assert metrics.hit_rate_at_k(RANKED, set(), 5) == 0.0
    assert metrics.reciprocal_rank(RANKED, set()) == 0.0
    # More gold than k: the ideal ranking fills only k places.
    # IDCG@2 = 1 + 1/log2(3); DCG@2 = 1 (hit at rank 1).
    assert metrics.ndcg_at_k(["a", "x", "b"], {"a", "b", "c"}, 2) == pytest.approx(
        1 / (1 + 1 / math.log2(3)))
    # A hit at rank 2 only: DCG = 1/log2(3), IDCG (1 item) = 1.
    assert metrics.ndcg_at_k(["x", "a"], {"a"}, 5) == pytest.approx(1 / math.log2(3))
    # AP counts precision at each hit, over |R| even when k cuts some gold off:
    # hits at ranks 2 and 3 of 4 gold -> (1/2 + 2/3) / 4.
    assert metrics.average_precision_at_k(["x", "a", "c", "d"], {"a", "c", "y", "z"},
                                          3) == pytest.approx((1 / 2 + 2 / 3) / 4)
    assert metrics.reciprocal_rank(["x", "a", "c"], {"a", "c"}, 5) == 0.5
    assert metrics.catalogue_coverage(["a"], 0) == 0.0
    assert metrics.median([7.0]) == 7.0


# ranx 0.3.21 (ranx.evaluate) on the random runs of ``_random_runs(seed)``, computed once
# and written here, so the suite no longer imports ranx (53 s of numba compilation on a first
# run). ranx implements the trec_eval definitions independently of this package.
RANX = {
    0: {
        "recall@5": 0.12182539682539682,
        "precision@5": 0.10666666666666669,
        "ndcg@10": 0.17932530366082994,
        "mrr@10": 0.23887566137566135,
        "map@10": 0.07583657722348197,
        "hit_rate@5": 0.43333333333333335,
    },
    1: {
        "recall@5": 0.11619047619047619,
        "precision@5": 0.08666666666666668,
        "ndcg@10": 0.15885755245753513,
        "mrr@10": 0.19578042328042328,
        "map@10": 0.08433686067019401,
        "hit_rate@5": 0.3333333333333333,
    },
    2: {
        "recall@5": 0.165,
        "precision@5": 0.14,
        "ndcg@10": 0.2076401448066968,
        "mrr@10": 0.2906481481481481,
        "map@10": 0.11137037037037038,
        "hit_rate@5": 0.5,
    },
    3: {
        "recall@5": 0.08317460317460318,
        "precision@5": 0.09333333333333332,
        "ndcg@10": 0.12990211191201798,
        "mrr@10": 0.16794973544973546,
        "map@10": 0.0691307634164777,
        "hit_rate@5": 0.23333333333333334,
    },
    4: {
        "recall@5": 0.17015873015873018,
        "precision@5": 0.12666666666666668,
        "ndcg@10": 0.21054209907705196,
        "mrr@10": 0.297010582010582,
        "map@10": 0.1068469387755102,
        "hit_rate@5": 0.5,
    },
}


def _random_runs(seed: int) -> list[tuple[list[str], set[str]]]:
    """30 queries: 1-7 relevant of 40 documents, a ranking of 20 of them."""
    rng = np.random.default_rng(seed)
    docs = [f"d{i}" for i in range(40)]
    runs = []
    for _ in range(30):
        relevant = set(rng.choice(docs, size=rng.integers(1, 8), replace=False))
        ranked = list(rng.choice(docs, size=20, replace=False))
        runs.append((ranked, relevant))
    return runs


@pytest.mark.parametrize("seed", range(5))
def test_agrees_with_ranx_on_random_runs(seed: int) -> None:
    ours = _random_runs(seed)
    mine = {
        "recall@5": np.mean([metrics.recall_at_k(r, g, 5) for r, g in ours]),
        "precision@5": np.mean([metrics.precision_at_k(r, g, 5) for r, g in ours]),
        "ndcg@10": np.mean([metrics.ndcg_at_k(r, g, 10) for r, g in ours]),
        "mrr@10": np.mean([metrics.reciprocal_rank(r, g, 10) for r, g in ours]),
        "map@10": np.mean([metrics.average_precision_at_k(r, g, 10) for r, g in ours]),
        "hit_rate@5": np.mean([metrics.hit_rate_at_k(r, g, 5) for r, g in ours]),
    }
    for name, expected in RANX[seed].items():
        assert mine[name] == pytest.approx(expected, abs=1e-9), name
