"""Tune the default ranking on one split of a real archive, report the other.

    python benchmarks/ranking.py ../shared/corpus [--index indexes/corpus] [--cut 2021-11-01]

1. Queries published before ``--cut`` are the training split: a grid search over the
   ranking's parameters (``recommender.ranking.Weights``), each set ranked by the shipped
   ``Ranker`` (filters, de-duplication and all), picks the best mean nDCG@10 there,
   averaged over the archive as it is and the archive with same-day distractors (step 3),
   because the live feed is far denser in time than this archive.
2. Queries published on or after it are held out: the shipped defaults and the single-signal
   baselines are evaluated on them with ``recommender.evaluate`` (paired test included).
3. Same-day distractors: for each held-out query, articles of other stories are moved onto
   the query's day, as in a live feed with dozens of articles a day; the rankings are
   compared again. Nearness in time alone cannot tell these apart.

Prints tables; changes nothing. The defaults in ``Weights`` were set from step 1's output.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from recommender import metrics
from recommender.articles import load_articles
from recommender.defaults import DAY
from recommender.evaluate import (
    EvalQuery,
    eval_queries,
    evaluate,
    evaluation_index,
    published_between,
)
from recommender.lexical import Bm25Scorer
from recommender.pool import build_pool
from recommender.ranking import Query, Ranker, Weights
from recommender.report import metrics_table, significance_table
from recommender.store import Index

GRID = {
    "lexical": (0.0, 0.25, 0.5, 1.0, 1.5, 2.0),
    "time": (0.0, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0),
    "tau_before_days": (1.0, 2.0, 3.0, 5.0, 8.0),
    "tau_after_days": (2.0, 3.0, 5.0, 8.0, 13.0),
}


class _MemoBm25:
    """The index's BM25 scorer with each query's scores kept: the grid ranks every query
    once per parameter set, and BM25 is the only part that does not depend on them."""

    def __init__(self, scorer: Bm25Scorer) -> None:
        self.scorer, self.memo = scorer, {}

    def scores(self, text: str) -> np.ndarray:
        if text not in self.memo:
            self.memo[text] = self.scorer.scores(text)
        return self.memo[text]


@dataclasses.dataclass
class Case:
    """One training query, ranked by the shipped ``Ranker`` over ``index`` (a view whose
    publication times may have been shifted)."""

    index: Index
    query: Query
    gold: set[str]


def cases(index: Index, queries: list[EvalQuery]) -> list[Case]:
    index = dataclasses.replace(index, bm25=_MemoBm25(index.bm25))
    return [Case(index, Query(q.article, np.asarray(index.vectors.vectors[q.row]), q.exclude),
                 q.reachable) for q in queries]


def shifted(index: Index, query: EvalQuery, ids: list[str], per_query: int,
            rng: np.random.Generator) -> Index:
    """``index`` with ``per_query`` far-away other-story articles moved onto the query's day,
    as in a live feed with dozens of articles a day."""
    when = query.article.published.timestamp()
    far = np.flatnonzero(np.abs(index.published - when) > 14 * DAY)
    far = far[[ids[r] not in query.gold for r in far]]
    moved = rng.choice(far, size=min(per_query, len(far)), replace=False)
    published = index.published.copy()
    published[moved] = when + rng.uniform(-0.5, 0.5, size=len(moved)) * DAY
    return dataclasses.replace(index, published=published)


def mean_ndcg(runs: list[Case], ids: list[str], weights: Weights, k: int = 10) -> float:
    values = []
    for case in runs:
        ranked = Ranker(case.index, weights).rank(case.query, k)
        values.append(metrics.ndcg_at_k([ids[s.row] for s in ranked], case.gold, k))
    return float(np.mean(values))


def tune(index: Index, queries: list[EvalQuery], ids: list[str], per_query: int,
         seed: int = 0) -> list[tuple[float, float, Weights]]:
    """(plain nDCG@10, nDCG@10 with distractors, weights) for the grid, best mean first."""
    plain = cases(index, queries)
    rng = np.random.default_rng(seed)
    distracted = [dataclasses.replace(case, index=shifted(case.index, query, ids, per_query,
                                                          rng))
                  for case, query in zip(plain, queries, strict=True)]
    results = []
    for values in itertools.product(*GRID.values()):
        weights = Weights(**dict(zip(GRID, values, strict=True)))
        results.append((mean_ndcg(plain, ids, weights), mean_ndcg(distracted, ids, weights),
                        weights))
    return sorted(results, key=lambda r: -(r[0] + r[1]))


def same_day_distractors(index: Index, queries: list[EvalQuery], ids: list[str],
                         per_query: int, seed: int = 0) -> dict[str, dict[str, float]]:
    """nDCG@10 / Recall@10 when ``per_query`` other-story articles share the query's day."""
    rng = np.random.default_rng(seed)
    rows: dict[str, list[dict[str, float]]] = {m: [] for m in ("recommender", "dense", "bm25",
                                                               "recency")}
    for query in queries:
        view = shifted(index, query, ids, per_query, rng)
        vector = np.asarray(index.vectors.vectors[query.row])
        for method in rows:
            ranked = Ranker(view, Weights(), method).rank(
                Query(query.article, vector, query.exclude), 10)
            ranked_ids = [ids[s.row] for s in ranked]
            rows[method].append({"ndcg@10": metrics.ndcg_at_k(ranked_ids, query.reachable, 10),
                                 "recall@10": metrics.recall_at_k(ranked_ids, query.reachable,
                                                                  10)})
    return {m: {key: float(np.mean([r[key] for r in v])) for key in v[0]} for m, v in rows.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--index", type=Path, default=Path("indexes/default"),
                        help="an index whose vectors are reused")
    parser.add_argument("--cut", default="2021-11-01", help="train before, test from this date")
    parser.add_argument("--distractors", type=int, default=30)
    args = parser.parse_args()
    started = time.perf_counter()
    pool = build_pool(load_articles([args.corpus]).articles)
    before, after = published_between(None, args.cut), published_between(args.cut, None)
    train = [q for q in eval_queries(pool, before) if q.reachable]
    test = [q for q in eval_queries(pool, after) if q.reachable]
    ids = [c.article.id for c in pool.candidates]
    with tempfile.TemporaryDirectory() as folder:
        index, _ = evaluation_index(pool, sources=[str(args.corpus)], index=args.index,
                                    model=None, encoder=None, folder=Path(folder),
                                    batch_size=64, progress=None)
        print(f"## Tuning on {len(train)} training queries (published before {args.cut})\n")
        ranked = tune(index, train, ids, args.distractors)
        print("| nDCG@10 | with distractors | lexical | time | tau_before_days | "
              "tau_after_days |")
        print("|---:|---:|---:|---:|---:|---:|")
        for plain, distracted, w in ranked[:5]:
            print(f"| {plain:.3f} | {distracted:.3f} | {w.lexical} | {w.time} | "
                  f"{w.tau_before_days} | {w.tau_after_days} |")
        print(f"\nShipped defaults: {Weights()}\nGrid best:        {ranked[0][2]}\n")
        print(f"## Held out: {len(test)} reachable queries published from {args.cut}\n")
        results = evaluate([args.corpus], args.index, k=10, keep=after,
                           methods=("recommender", "dense", "bm25", "recency")).results
        held_out = {m: summary.row() for m, summary in results.methods.items()}
        print(metrics_table(held_out, 10) + "\n")
        print(significance_table(results.significance) + "\n")
        best = {m: max(held_out[b][m] for b in ("dense", "bm25", "recency"))
                for m in ("ndcg@10", "recall@10")}
        for m, value in best.items():
            ours = held_out["recommender"][m]
            print(f"- {m}: recommender {ours:.3f} vs best baseline {value:.3f} "
                  f"({ours / value - 1:+.0%})")
        print(f"\n## Same-day distractors: {args.distractors} other-story articles moved onto "
              "each held-out query's day\n")
        shifted = same_day_distractors(index, test, ids, args.distractors)
        print(metrics_table(shifted, 10))
    print(f"\n({time.perf_counter() - started:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
