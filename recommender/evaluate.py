"""Leave-one-out evaluation against the curated ``related:`` lists.

Every article file with a non-empty curated list is a query; its gold set is the distinct
articles of that list. Candidates are the whole pool except the query itself and the related
stubs that are in the pool only because the query lists them (the pool's provenance), so a
query's own list never helps it. Gold items outside that candidate set cannot be found: their
share is the *ceiling*. Metrics are reported twice: over all queries against their whole gold
set, and over the *reachable* queries (at least one findable gold item) against the findable
part of their gold set, which measures the ranking itself.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from recommender import metrics
from recommender.articles import Article, load_articles, parse_datetime
from recommender.build import write_pool
from recommender.defaults import DAY
from recommender.embedding import Encoder, load_encoder
from recommender.errors import ArticleError, RecommenderError
from recommender.pool import Pool, build_pool
from recommender.ranking import METHODS, Query, Ranker, Weights
from recommender.stats import paired_comparison
from recommender.store import DEFAULT_INDEX, Index, load_index
from recommender.vectors import Progress

KS = (1, 5, 10)


@dataclass(kw_only=True)
class EvalQuery:
    row: int
    article: Article
    gold: list[str]
    """Distinct canonical ids of the curated entries (the query itself left out)."""
    reachable: set[str]
    """The gold ids that are candidates for this query."""
    exclude: tuple[int, ...]
    topic: str


Scores = dict[str, float]
"""Metric name ("ndcg@10", "recall@5", "mrr", ...) -> value."""


@dataclass(frozen=True)
class MethodSummary:
    """One method over the reachable queries: mean scores, coverage and median time gap."""

    scores: Scores
    coverage: float
    """Share of the pool suggested at least once."""
    median_gap_days: float | None
    """Median absolute publication gap of the suggestions; None if none is dated."""

    def row(self) -> dict[str, float | None]:
        """Every figure under its column name, as the tables and results.json show it."""
        return {**self.scores, "coverage": self.coverage,
                "median_gap_days": self.median_gap_days}


@dataclass(frozen=True, kw_only=True)
class Significance:
    """A method's ``metric`` minus the reference's, paired by query."""

    metric: str
    against: str
    mean_difference: float
    low: float
    high: float
    p_value: float
    significant: bool

    def to_json(self) -> dict[str, Any]:
        return {"metric": self.metric, "against": self.against,
                "mean_difference": self.mean_difference, "ci95": [self.low, self.high],
                "p_value": self.p_value, "significant": self.significant}


@dataclass(frozen=True)
class TopicScores:
    """The reachable queries of one topic: how many, and each method's mean scores."""

    queries: int
    methods: dict[str, Scores]

    def to_json(self) -> dict[str, Any]:
        return {"queries": self.queries, **self.methods}


@dataclass(frozen=True)
class GoldItem:
    """One distinct item of a query's curated list."""

    id: str
    title: str
    reachable: bool
    gap_days: float | None
    """Its publication minus the query's, in days (2 decimals); None if either is undated."""
    url: str | None = None
    """Its webUrl as the feed writes it (``id`` is the canonical form, for matching)."""


@dataclass(frozen=True, kw_only=True)
class RankedItem:
    """One suggestion of a method for a query."""

    id: str
    title: str
    provider: str | None
    relevant: bool
    """In the query's curated list (reachable or not)."""
    gap_days: float | None
    score: float
    url: str | None = None


@dataclass(frozen=True)
class MethodRun:
    """A method on one query: its scores against all gold and reachable gold, its list."""

    all_gold: Scores
    reachable_gold: Scores | None
    """None when the query has no reachable gold item."""
    ranked: list[RankedItem]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"all": self.all_gold}
        if self.reachable_gold is not None:
            out["reachable"] = self.reachable_gold
        out["ranked"] = [asdict(item) for item in self.ranked]
        return out


@dataclass(frozen=True, kw_only=True)
class QueryDetail:
    """One query: the article, its curated list and every method's run."""

    path: str | None
    id: str
    title: str
    topic: str
    published: str | None
    """ISO 8601, or None if the article is undated."""
    gold: list[GoldItem]
    methods: dict[str, MethodRun]
    url: str | None = None
    """The article's webUrl as the feed writes it."""

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "id": self.id, "url": self.url, "title": self.title,
                "topic": self.topic,
                "published": self.published, "gold": [asdict(g) for g in self.gold],
                "methods": {m: run.to_json() for m, run in self.methods.items()}}


@dataclass(frozen=True, kw_only=True)
class EvaluationResults:
    """Everything an evaluation found; ``to_json()`` is the content of results.json."""

    queries: int
    reachable_queries: int
    ceiling: float
    """Share of all curated items that are candidates at all."""
    gold_items: int
    reachable_gold_items: int
    pool: int
    k: int
    ks: list[int]
    methods: dict[str, MethodSummary]
    """Per method, over the reachable queries against their reachable gold."""
    all_queries: dict[str, Scores]
    """Per method, over all queries against all their gold."""
    significance: dict[str, Significance]
    per_topic: dict[str, TopicScores]
    time_gaps: dict[str, list[float]]
    """Absolute gaps in days: "curated" (query to each curated item), then per method."""
    per_query: list[QueryDetail]
    corpus: list[str]
    model: str

    def to_json(self) -> dict[str, Any]:
        return {
            "queries": self.queries, "reachable_queries": self.reachable_queries,
            "ceiling": self.ceiling, "gold_items": self.gold_items,
            "reachable_gold_items": self.reachable_gold_items, "pool": self.pool,
            "k": self.k, "ks": self.ks,
            "methods": {m: s.row() for m, s in self.methods.items()},
            "all_queries": self.all_queries,
            "significance": {m: s.to_json() for m, s in self.significance.items()},
            "per_topic": {t: s.to_json() for t, s in self.per_topic.items()},
            "time_gaps": self.time_gaps,
            "per_query": [q.to_json() for q in self.per_query],
            "corpus": self.corpus, "model": self.model,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EvaluationResults:
        """The results a ``to_json()`` gave (e.g. read back from results.json)."""
        extra = ("coverage", "median_gap_days")
        return cls(
            queries=data["queries"], reachable_queries=data["reachable_queries"],
            ceiling=data["ceiling"], gold_items=data["gold_items"],
            reachable_gold_items=data["reachable_gold_items"], pool=data["pool"],
            k=data["k"], ks=list(data["ks"]),
            methods={m: MethodSummary({c: v for c, v in row.items() if c not in extra},
                                      row["coverage"], row["median_gap_days"])
                     for m, row in data["methods"].items()},
            all_queries=dict(data["all_queries"]),
            significance={m: Significance(metric=row["metric"], against=row["against"],
                                          mean_difference=row["mean_difference"],
                                          low=row["ci95"][0], high=row["ci95"][1],
                                          p_value=row["p_value"],
                                          significant=row["significant"])
                          for m, row in data["significance"].items()},
            per_topic={t: TopicScores(row["queries"],
                                      {m: v for m, v in row.items() if m != "queries"})
                       for t, row in data["per_topic"].items()},
            time_gaps=dict(data["time_gaps"]),
            per_query=[_query_from_json(q) for q in data["per_query"]],
            corpus=list(data["corpus"]), model=data["model"])


def _query_from_json(data: dict[str, Any]) -> QueryDetail:
    runs = {m: MethodRun(run["all"], run.get("reachable"),
                         [RankedItem(**item) for item in run["ranked"]])
            for m, run in data["methods"].items()}
    return QueryDetail(path=data["path"], id=data["id"], url=data.get("url"),
                       title=data["title"],
                       topic=data["topic"], published=data["published"],
                       gold=[GoldItem(**g) for g in data["gold"]], methods=runs)


@dataclass
class Evaluation:
    results: EvaluationResults
    skipped: list[ArticleError] = field(default_factory=list)
    encoded: int = 0


def query_topic(article: Article) -> str:
    """The specific topic of an article: its first topic other than the generic 'AI'."""
    specific = [t for t in article.topics if t.strip().lower() != "ai"]
    return (specific or list(article.topics) or ["(no topic)"])[0]


def eval_queries(pool: Pool, keep: Callable[[Article], bool] | None = None) -> list[EvalQuery]:
    """The queries of a pool: files with a curated list (and ``keep`` true, if given)."""
    stubs_of: dict[str, list[int]] = defaultdict(list)  # file id -> stubs only it mentions
    for row, candidate in enumerate(pool.candidates):
        if not candidate.is_file and len(candidate.mentioned_by) == 1:
            stubs_of[next(iter(candidate.mentioned_by))].append(row)
    queries = []
    for row, candidate in enumerate(pool.candidates):
        article = candidate.article
        if not candidate.is_file or not article.related or (keep and not keep(article)):
            continue
        exclude = (row, *stubs_of[article.id])
        gold: dict[str, None] = {}
        for entry in article.related:
            target = pool.row_of(entry)
            if target != row:
                gold[pool.candidates[target].article.id if target is not None else entry.id] = None
        if not gold:
            continue
        excluded_ids = {pool.candidates[r].article.id for r in exclude}
        reachable = {g for g in gold if g in pool.by_url and g not in excluded_ids}
        queries.append(EvalQuery(row=row, article=article, gold=list(gold),
                                 reachable=reachable, exclude=exclude,
                                 topic=query_topic(article)))
    return queries


def published_between(since: str | None, until: str | None
                      ) -> Callable[[Article], bool] | None:
    """A query filter: published in [since, until) (dates or ISO timestamps, UTC if no zone)."""
    if since is None and until is None:
        return None
    try:
        low, high = (parse_datetime(v) if v else None for v in (since, until))
    except ValueError as exc:
        raise RecommenderError(str(exc).replace("publishedDateTime", "date"), "--since/--until",
                               "Use YYYY-MM-DD") from None

    def keep(article: Article) -> bool:
        when = article.published
        return when is not None and (low is None or when >= low) and (high is None or when < high)

    return keep


def _metric_row(ranked: Sequence[str], gold: set[str], ks: Sequence[int]) -> dict[str, float]:
    row: dict[str, float] = {}
    for k in ks:
        row[f"recall@{k}"] = metrics.recall_at_k(ranked, gold, k)
        row[f"precision@{k}"] = metrics.precision_at_k(ranked, gold, k)
        row[f"ndcg@{k}"] = metrics.ndcg_at_k(ranked, gold, k)
        row[f"map@{k}"] = metrics.average_precision_at_k(ranked, gold, k)
        row[f"hit_rate@{k}"] = metrics.hit_rate_at_k(ranked, gold, k)
    row["mrr"] = metrics.reciprocal_rank(ranked, gold, max(ks))
    return row


def _mean_rows(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    if not rows:
        return {}
    return {key: float(np.mean([r[key] for r in rows])) for key in rows[0]}


def evaluation_index(pool: Pool, *, sources: Sequence[str], index: Path, model: str | None,
                     encoder: Encoder | None, folder: Path, batch_size: int,
                     progress: Progress | None) -> tuple[Index, int]:
    """The pool as an index in ``folder``, reusing every vector the user's index holds."""
    try:
        current: Index | None = load_index(index)
    except RecommenderError:
        current = None
    if encoder is None:
        source = current.manifest["model"]["source"] if current and model is None else model
        encoder = load_encoder(None if source in (None, "default") else source)
    target = folder / "pool"
    _, encoded, _ = write_pool(pool=pool, index=target, reference=encoder, sources=sources,
                               previous=current, batch_size=batch_size, kind="exact",
                               backend="auto", progress=progress)
    return load_index(target), encoded


def evaluate(paths: Sequence[str | os.PathLike[str]],
             index: str | os.PathLike[str] = DEFAULT_INDEX, *, k: int = 10,
             methods: Sequence[str] = METHODS, weights: Weights = Weights(),
             strict: bool = False, seed: int = 0, model: str | None = None,
             encoder: Encoder | None = None, keep: Callable[[Article], bool] | None = None,
             batch_size: int = 64, progress: Progress | None = None) -> Evaluation:
    """Evaluate each method on the curated lists of the archive under ``paths``."""
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise RecommenderError(f"unknown method '{unknown[0]}'", "--methods",
                               f"Choose from {', '.join(METHODS)}")
    loaded = load_articles(list(paths), strict=strict)
    pool = build_pool(loaded.articles)
    queries = eval_queries(pool, keep)
    sources = [str(p) for p in paths]
    if not queries:
        raise RecommenderError("no articles with curated related lists", ", ".join(sources),
                               "Evaluation needs feed files whose related: list is not empty")
    ks = sorted({kk for kk in KS if kk < k} | {k})
    folder = Path(tempfile.mkdtemp(prefix="recommender-eval-"))
    try:
        pool_index, encoded = evaluation_index(
            pool, sources=sources, index=Path(index), model=model, encoder=encoder,
            folder=folder, batch_size=batch_size, progress=progress)
        results = _run(pool, pool_index, queries, methods=methods, weights=weights, ks=ks,
                       seed=seed, corpus=sources)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return Evaluation(results, loaded.errors, encoded)


def _run(pool: Pool, index: Index, queries: list[EvalQuery], *, methods: Sequence[str],
         weights: Weights, ks: list[int], seed: int, corpus: list[str]) -> EvaluationResults:
    k = max(ks)
    ids = [c.article.id for c in pool.candidates]
    per_query: list[QueryDetail] = []
    all_rows: dict[str, list[Scores]] = defaultdict(list)
    reachable_rows: dict[str, list[Scores]] = defaultdict(list)
    suggested: dict[str, set[str]] = defaultdict(set)
    gaps: dict[str, list[float]] = defaultdict(list)
    curated_gaps: list[float] = []
    rankers = {m: Ranker(index, weights, m, seed) for m in methods}
    for query in queries:
        gold = _gold_items(pool, query, curated_gaps)
        vector = np.asarray(index.vectors.vectors[query.row])
        q = Query(query.article, vector, query.exclude)
        runs: dict[str, MethodRun] = {}
        for method in methods:
            ranked = rankers[method].rank(q, k)
            ranked_ids = [ids[s.row] for s in ranked]
            suggested[method].update(ranked_ids)
            gaps[method].extend(abs(s.gap_days) for s in ranked if s.gap_days is not None)
            row_all = _metric_row(ranked_ids, set(query.gold), ks)
            all_rows[method].append(row_all)
            row_reachable = None
            if query.reachable:
                row_reachable = _metric_row(ranked_ids, query.reachable, ks)
                reachable_rows[method].append(row_reachable)
            items = [RankedItem(id=ids[s.row], title=s.record["title"],
                                provider=(s.record.get("provider") or {}).get("name"),
                                relevant=ids[s.row] in query.gold,
                                gap_days=None if s.gap_days is None else round(s.gap_days, 2),
                                score=round(s.score, 4), url=s.record.get("webUrl"))
                     for s in ranked]
            runs[method] = MethodRun(row_all, row_reachable, items)
        published = query.article.published
        per_query.append(QueryDetail(
            path=query.article.path, id=query.article.id, url=query.article.url,
            title=query.article.title,
            topic=query.topic, published=published.isoformat() if published else None,
            gold=gold, methods=runs))
    gold_total = sum(len(q.gold) for q in queries)
    reachable_total = sum(len(q.reachable) for q in queries)
    summary = {m: MethodSummary(_mean_rows(reachable_rows[m]),
                                metrics.catalogue_coverage(suggested[m], len(pool)),
                                metrics.median(gaps[m])) for m in methods}
    return EvaluationResults(
        queries=len(queries),
        reachable_queries=sum(1 for q in queries if q.reachable),
        ceiling=reachable_total / gold_total if gold_total else 0.0,
        gold_items=gold_total,
        reachable_gold_items=reachable_total,
        pool=len(pool),
        k=k,
        ks=ks,
        methods=summary,
        all_queries={m: _mean_rows(all_rows[m]) for m in methods},
        significance=_significance(methods, reachable_rows, f"ndcg@{k}", "recommender"),
        per_topic=_per_topic(queries, per_query, methods, k),
        time_gaps={"curated": curated_gaps, **{m: gaps[m] for m in methods}},
        per_query=per_query,
        corpus=corpus,
        model=index.manifest["model"]["name"],
    )


def _gold_items(pool: Pool, query: EvalQuery, curated_gaps: list[float]) -> list[GoldItem]:
    """The query's curated items; adds each dated item's absolute gap to ``curated_gaps``."""
    gold = []
    published = query.article.published
    for gold_id in query.gold:
        row = pool.by_url.get(gold_id)
        article = pool.candidates[row].article if row is not None else None
        gap = None
        if article is not None and article.published and published:
            gap = (article.published - published).total_seconds() / DAY
            curated_gaps.append(abs(gap))
        if article is None:
            article = next(e for e in query.article.related
                           if e.id == gold_id or gold_id in e.urls)
        gold.append(GoldItem(id=gold_id, title=article.title,
                             reachable=gold_id in query.reachable,
                             gap_days=None if gap is None else round(gap, 2), url=article.url))
    return gold


def _significance(methods: Sequence[str], rows: dict[str, list[Scores]], metric: str,
                  reference: str) -> dict[str, Significance]:
    """Each method's ``metric`` against the reference method's, paired by query."""
    if reference not in methods:
        return {}
    base = [r[metric] for r in rows[reference]]
    out = {}
    for method in methods:
        if method == reference:
            continue
        comparison = paired_comparison([r[metric] for r in rows[method]], base)
        out[method] = Significance(metric=metric, against=reference,
                                   mean_difference=comparison.mean_difference,
                                   low=comparison.low, high=comparison.high,
                                   p_value=comparison.p_value,
                                   significant=comparison.significant)
    return out


def _per_topic(queries: list[EvalQuery], per_query: list[QueryDetail], methods: Sequence[str],
               k: int) -> dict[str, TopicScores]:
    """Mean nDCG@k and recall@k of the reachable queries per topic, largest topic first."""
    grouped: dict[str, list[QueryDetail]] = defaultdict(list)
    for query, detail in zip(queries, per_query, strict=True):
        if query.reachable:
            grouped[query.topic].append(detail)
    out = {}
    for topic, details in sorted(grouped.items(), key=lambda item: -len(item[1])):
        scores = {}
        for method in methods:
            rows = [d.methods[method].reachable_gold or {} for d in details]
            scores[method] = {key: float(np.mean([r[key] for r in rows]))
                              for key in (f"ndcg@{k}", f"recall@{k}")}
        out[topic] = TopicScores(len(details), scores)
    return out
