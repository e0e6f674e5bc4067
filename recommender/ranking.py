"""Ranking and filters: the related articles for one or many articles.

The default ranking scores what two articles say, then discounts it by their distance in time:

    content = w_dense * cosine + w_lexical * bm25 / max_bm25
    score   = content * (1 + w_time * exp(-|gap_days| / tau)) / (1 + w_time)

with tau = tau_before or tau_after by the side of the article the candidate is on. Dense
similarity finds the topic; BM25 rewards the names and numbers that coverage of one story
shares; the time factor (1 on the article's day, 1 / (1 + w_time) far from it) prefers the
days around the article, where curated lists live. Because time multiplies content instead of
adding to it, an unrelated article published the same day gains little: in a feed with dozens
of articles a day, content still decides. ``Weights`` holds the parameters, chosen on a
training split of a real archive (``benchmarks/ranking.py``); ``dense``, ``bm25``, ``recency``
and ``random`` rank by one signal, for comparison.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

import numpy as np

from recommender.articles import Article, canonical_url, feed_entry
from recommender.defaults import DAY, METHODS
from recommender.embedding import Encoder
from recommender.index import top_rows
from recommender.lexical import tokenize
from recommender.store import Index


@dataclass(frozen=True)
class Weights:
    """Parameters of the default ranking (tuned by ``benchmarks/ranking.py``, see README)."""

    dense: float = 1.0
    lexical: float = 1.0
    time: float = 5.0
    tau_before_days: float = 3.0
    tau_after_days: float = 8.0


def time_factor(gap_days: np.ndarray, weights: Weights) -> np.ndarray:
    """(1 + w_time * exp(-|gap| / tau)) / (1 + w_time), tau by the gap's sign.

    1 for a candidate published with the article, falling to 1 / (1 + w_time) far from it
    or when a date is unknown.
    """
    tau = np.where(gap_days < 0, weights.tau_before_days, weights.tau_after_days)
    with np.errstate(invalid="ignore"):
        closeness = np.nan_to_num(np.exp(-np.abs(gap_days) / tau), nan=0.0)
    return (1 + weights.time * closeness) / (1 + weights.time)


def signal_scores(method: str, cosine: np.ndarray, lexical: np.ndarray, gap_days: np.ndarray,
                  *, weights: Weights, rng: np.random.Generator | None = None,
                  ) -> dict[str, np.ndarray]:
    """Each signal's share of a method's score, per candidate; the score is their sum.

    ``lexical`` is BM25 divided by the query's best BM25 score; ``gap_days`` is candidate
    minus article publication time (NaN when unknown). For the default ranking the shares
    are the dense and lexical parts of the content score, each times the time factor.
    """
    if method == "dense":
        return {"dense": cosine}
    if method == "bm25":
        return {"lexical": lexical}
    if method == "recency":
        # Nearest in time first; among equals the newer one; unknown dates last.
        return {"time": np.nan_to_num(-np.abs(gap_days) + 1e-6 * gap_days, nan=-1e9)}
    if method == "random":
        return {"random": (rng or np.random.default_rng(0)).random(len(cosine))}
    factor = time_factor(gap_days, weights)
    return {"dense": weights.dense * cosine * factor,
            "lexical": weights.lexical * lexical * factor}


@dataclass(frozen=True)
class Filters:
    """Which candidates may be suggested. Applied before ranking, so k results still come
    back whenever k candidates pass."""

    window_days: float | None = None
    older_only: bool = False
    topics: tuple[str, ...] = ()
    exclude_providers: tuple[str, ...] = ()
    exclude_urls: tuple[str, ...] = ()
    min_score: float | None = None


@dataclass
class Suggestion:
    """One suggested article, with what each signal contributed."""

    row: int
    record: dict[str, Any]
    score: float
    cosine: float
    bm25: float
    bm25_rank: int
    gap_days: float | None
    time_factor: float
    contributions: dict[str, float]
    shared_words: list[str] = field(default_factory=list)

    def entry(self) -> dict[str, Any]:
        """The suggestion as a ``related:`` entry, exactly as the feed writes one."""
        return feed_entry(self.record)

    def explanation(self) -> dict[str, Any]:
        return {
            "cosine": round(self.cosine, 4),
            "bm25": round(self.bm25, 3),
            "bm25_rank": self.bm25_rank,
            "gap_days": None if self.gap_days is None else round(self.gap_days, 2),
            "time_factor": round(self.time_factor, 4),
            "contributions": {k: round(v, 4) for k, v in self.contributions.items()},
            "shared_words": self.shared_words,
        }


_SPACES = re.compile(r"\W+")


def same_article_key(title: str, provider: str | None) -> tuple[str, str]:
    """Two rows with this key are one article (a wire story re-posted under another URL)."""
    return (provider or "").lower(), _SPACES.sub(" ", title.lower()).strip()


@dataclass
class Query:
    """An article to find related articles for, and its vector."""

    article: Article
    vector: np.ndarray
    exclude_rows: tuple[int, ...] = ()
    """Rows never to suggest (evaluation: the query's own row and stubs only it mentions)."""

    @cached_property
    def seconds(self) -> float | None:
        published = self.article.published
        return published.timestamp() if isinstance(published, datetime) else None


class _Columns:
    """Per-row provider and topic columns, parsed once per index for filtering."""

    def __init__(self, index: Index) -> None:
        self.providers = [{(r.get("provider") or {}).get("name", "").lower(),
                           (r.get("provider") or {}).get("domain", "").lower()}
                          for r in index.records]
        self.topics = [{t.lower() for t in r.get("topics", ())} for r in index.records]
        self.urls = [{r["id"], *r.get("aliases", ())} for r in index.records]


class Ranker:
    """Ranks an index's candidates for queries. Holds per-index caches; reuse it for batches."""

    def __init__(self, index: Index, weights: Weights = Weights(), method: str = "recommender",
                 seed: int = 0) -> None:
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
        self.index, self.weights, self.method = index, weights, method
        self.random = np.random.default_rng(seed)
        self._columns: _Columns | None = None

    @property
    def columns(self) -> _Columns:
        if self._columns is None:
            self._columns = _Columns(self.index)
        return self._columns

    def allowed(self, query: Query, filters: Filters) -> np.ndarray:
        """Mask of the rows that pass the filters."""
        n = len(self.index)
        mask = np.ones(n, dtype=bool)
        mask[list(query.exclude_rows)] = False
        published = self.index.published
        if (filters.window_days is not None or filters.older_only) and query.seconds is not None:
            gap = published - query.seconds
            with np.errstate(invalid="ignore"):
                if filters.window_days is not None:
                    mask &= np.abs(gap) <= filters.window_days * DAY
                if filters.older_only:
                    mask &= gap < 0
        if filters.topics:
            wanted = {t.lower() for t in filters.topics}
            mask &= np.array([bool(t & wanted) for t in self.columns.topics], dtype=bool)
        if filters.exclude_providers:
            banned = {p.lower() for p in filters.exclude_providers}
            mask &= np.array([not (p & banned) for p in self.columns.providers], dtype=bool)
        if filters.exclude_urls:
            banned = {canonical_url(u) for u in filters.exclude_urls}
            mask &= np.array([not (u & banned) for u in self.columns.urls], dtype=bool)
        return mask

    def _is_query(self, record: dict[str, Any], query: Query) -> bool:
        urls = set(query.article.urls)
        return record["id"] in urls or any(a in urls for a in record.get("aliases", ()))

    def _candidate_rows(self, query: Query, bm25: np.ndarray, depth: int) -> np.ndarray:
        """Rows worth scoring: all of them for an exact index, else the union of the HNSW
        and BM25 neighbourhoods of ``depth`` rows each."""
        if self.index.vectors.kind == "exact":
            return np.arange(len(self.index))
        dense = self.index.vectors.search(query.vector, depth)
        return np.union1d(dense, top_rows(bm25, depth))

    def rank(self, query: Query, k: int = 5, filters: Filters = Filters()) -> list[Suggestion]:
        """The top ``k`` suggestions for one query, best first, never the query itself and
        never one article twice."""
        allowed = self.allowed(query, filters)
        bm25_all = self.index.bm25.scores(query.article.text)
        # The query's own row, if it is in the index, is among its best lexical matches; it
        # must not set the BM25 scale (the walk below skips it wherever it ranks).
        for row in top_rows(np.where(allowed, bm25_all, -1.0), 3):
            if self._is_query(self.index.records[int(row)], query):
                allowed[row] = False
        bm25_max = float(bm25_all[allowed].max(initial=0.0)) or 1.0
        exact = self.index.vectors.kind == "exact"
        # One product over the (memory-mapped) matrix; indexing it by rows would copy it.
        cosine_all = self.index.vectors.scores(query.vector) if exact else None
        depth = max(4 * k, 200)
        while True:
            rows = self._candidate_rows(query, bm25_all, depth)
            rows = rows[allowed[rows]]
            cosine = cosine_all[rows] if cosine_all is not None else \
                self.index.vectors.scores(query.vector, rows)
            gap = (self.index.published[rows] - query.seconds) / DAY \
                if query.seconds is not None else np.full(len(rows), np.nan)
            parts = signal_scores(self.method, cosine, bm25_all[rows] / bm25_max, gap,
                                  weights=self.weights, rng=self.random)
            score = sum(parts.values())
            taken = self._walk(query, rows, score, parts, cosine=cosine, gap=gap,
                               bm25_all=bm25_all, allowed=allowed, k=k, filters=filters)
            if len(taken) >= k or len(rows) == int(allowed.sum()) or depth >= len(self.index):
                return taken
            depth *= 4

    def _walk(self, query: Query, rows: np.ndarray, score: np.ndarray,
              parts: dict[str, np.ndarray], *, cosine: np.ndarray, gap: np.ndarray,
              bm25_all: np.ndarray, allowed: np.ndarray, k: int,
              filters: Filters) -> list[Suggestion]:
        """Take rows best first, skipping the query and repeats, until ``k`` are taken.

        Only a slice of the best rows is sorted at a time: k is small, the index is not.
        """
        seen = {same_article_key(query.article.title, query.article.provider)}
        taken: list[Suggestion] = []
        query_words = tokenize(query.article.text)
        factors = time_factor(gap, self.weights)
        walked, width = 0, 4 * k + 16
        while walked < len(score):
            width = min(width, len(score))
            for position in top_rows(score, width)[walked:]:
                if filters.min_score is not None and score[position] < filters.min_score:
                    return taken
                row = int(rows[position])
                record = self.index.records[row]
                key = same_article_key(record["title"],
                                       (record.get("provider") or {}).get("name"))
                if key in seen or self._is_query(record, query):
                    continue
                seen.add(key)
                words = set(tokenize(f"{record['title']}. {record.get('excerpt', '')}"))
                gap_days = float(gap[position])
                taken.append(Suggestion(
                    row=row, record=record, score=float(score[position]),
                    cosine=float(cosine[position]), bm25=float(bm25_all[row]),
                    bm25_rank=1 + int((bm25_all[allowed] > bm25_all[row]).sum()),
                    gap_days=None if math.isnan(gap_days) else gap_days,
                    time_factor=float(factors[position]),
                    contributions={name: float(v[position]) for name, v in parts.items()},
                    shared_words=list(dict.fromkeys(w for w in query_words if w in words))[:10],
                ))
                if len(taken) == k:
                    return taken
            walked, width = width, width * 4
        return taken


def make_queries(articles: Sequence[Article], encoder: Encoder,
                 batch_size: int = 64) -> list[Query]:
    """Queries for articles, encoded in batches."""
    vectors = encoder.encode([a.text for a in articles], batch_size)
    return [Query(article, vector) for article, vector in zip(articles, vectors, strict=True)]


def suggest(index: Index, articles: Sequence[Article], *, k: int = 5,
            filters: Filters = Filters(), weights: Weights = Weights(),
            encoder: Encoder | None = None,
            method: str = "recommender") -> list[list[Suggestion]]:
    """The top ``k`` related articles for each of ``articles`` (one list per article)."""
    if encoder is None:
        encoder, _ = index.query_encoder()
    ranker = Ranker(index, weights, method)
    return [ranker.rank(query, k, filters) for query in make_queries(articles, encoder)]
