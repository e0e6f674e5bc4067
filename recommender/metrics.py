"""Ranking metrics, one pure function each, binary relevance.

``ranked`` is a ranked list of item ids (best first), ``relevant`` the set of gold ids. Every
function takes the top ``k`` of ``ranked``; ``k=None`` means the whole list.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence


def _top(ranked: Sequence[str], k: int | None) -> Sequence[str]:
    return ranked if k is None else ranked[:k]


def hits(ranked: Sequence[str], relevant: Collection[str], k: int | None = None) -> int:
    """Number of relevant items in the top k: |top_k ∩ R|."""
    return sum(1 for item in _top(ranked, k) if item in relevant)


def recall_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Recall@k = |top_k ∩ R| / |R|  (0 when R is empty)."""
    return hits(ranked, relevant, k) / len(relevant) if relevant else 0.0


def precision_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Precision@k = |top_k ∩ R| / k."""
    return hits(ranked, relevant, k) / k


def hit_rate_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """HitRate@k = 1 if |top_k ∩ R| > 0 else 0."""
    return 1.0 if hits(ranked, relevant, k) else 0.0


def ndcg_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """nDCG@k with binary gain.

    DCG@k = Σ_{i=1..k} rel_i / log2(i + 1),  IDCG@k = Σ_{i=1..min(|R|, k)} 1 / log2(i + 1),
    nDCG@k = DCG@k / IDCG@k  (0 when R is empty).
    """
    if not relevant:
        return 0.0
    dcg = sum(1 / math.log2(i + 2) for i, item in enumerate(_top(ranked, k)) if item in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return dcg / ideal


def reciprocal_rank(ranked: Sequence[str], relevant: Collection[str],
                    k: int | None = None) -> float:
    """RR = 1 / rank of the first relevant item in the top k, 0 if there is none.

    MRR is its mean over queries.
    """
    for rank, item in enumerate(_top(ranked, k), start=1):
        if item in relevant:
            return 1 / rank
    return 0.0


def average_precision_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """AP@k = (1 / |R|) Σ_{i=1..k} Precision@i · rel_i  (as trec_eval and ranx; 0 if R empty).

    MAP@k is its mean over queries.
    """
    if not relevant:
        return 0.0
    found, total = 0, 0.0
    for rank, item in enumerate(_top(ranked, k), start=1):
        if item in relevant:
            found += 1
            total += found / rank
    return total / len(relevant)


def catalogue_coverage(suggested: Collection[str], catalogue_size: int) -> float:
    """Coverage = |items suggested at least once| / |catalogue|."""
    return len(set(suggested)) / catalogue_size if catalogue_size else 0.0


def median(values: Sequence[float]) -> float | None:
    """The middle value (mean of the two middle ones for an even count); None if empty."""
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
