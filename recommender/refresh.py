"""Refresh the related lists of recent articles after a rebuild.

Curated lists keep growing after an article is published (most related coverage comes in the
days after it), so a list computed when the article arrived misses what came later. The
periodic job rebuilds the index, then recomputes the lists of the articles published in a
recent window, with the same ranking as ``suggest``, and writes them back atomically.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from recommender.articles import Article, canonical_url, load_articles, parse_datetime
from recommender.embedding import Encoder
from recommender.errors import ArticleError, RecommenderError
from recommender.store import DEFAULT_INDEX, load_index
from recommender.suggest import Filters, Query, Ranker, Weights
from recommender.vectors import cached_vectors, embed
from recommender.writeback import write_related

_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([hdw])\s*$", re.IGNORECASE)
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def window_start(since: str, newest: datetime | None, now: datetime | None = None,
                 relative_to: str = "newest") -> datetime:
    """The earliest publication time in the window: ``7d``/``48h``/``2w`` back from the
    newest article (or from now), or a date / ISO timestamp (UTC if it has no zone)."""
    match = _SPAN.match(since)
    if match is None:
        try:
            start = parse_datetime(since)
        except ValueError:
            start = None
        if start is None:
            raise RecommenderError(f"cannot read --since '{since}'", "--since",
                                   "Use a span such as 7d, 48h or 2w, or a date YYYY-MM-DD")
        return start
    if relative_to not in ("newest", "now"):
        raise RecommenderError(f"unknown --relative-to '{relative_to}'", "--relative-to",
                               "Use newest or now")
    anchor = newest if relative_to == "newest" else (now or datetime.now(timezone.utc))
    if anchor is None:
        raise RecommenderError("no article has a publication date", "--since",
                               "Use --relative-to now")
    return anchor - float(match.group(1)) * _UNITS[match.group(2).lower()]


def merge_curated(existing: Sequence[dict[str, Any]], suggested: Sequence[dict[str, Any]],
                  k: int) -> list[dict[str, Any]]:
    """Existing entries in their order, then new suggestions up to ``k`` entries in all;
    never a URL already listed."""
    seen = {canonical_url(e["webUrl"]) for e in existing if isinstance(e.get("webUrl"), str)}
    merged = list(existing)
    for entry in suggested:
        if len(merged) >= k:
            break
        url = canonical_url(entry["webUrl"]) if entry.get("webUrl") else None
        if url is None or url not in seen:
            merged.append(entry)
            seen.add(url)
    return merged


@dataclass
class ArticleChange:
    path: str
    changed: bool
    added: list[str]
    removed: list[str]
    diff: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "changed": self.changed, "added": self.added,
                "removed": self.removed}


@dataclass
class RefreshResult:
    window_start: datetime
    articles: list[ArticleChange] = field(default_factory=list)
    skipped: list[ArticleError] = field(default_factory=list)

    @property
    def summary(self) -> dict[str, Any]:
        changed = sum(a.changed for a in self.articles)
        return {"window_start": self.window_start.isoformat(),
                "considered": len(self.articles), "changed": changed,
                "unchanged": len(self.articles) - changed,
                "entries_added": sum(len(a.added) for a in self.articles),
                "entries_removed": sum(len(a.removed) for a in self.articles)}


def _urls(entries: Sequence[Any]) -> list[str]:
    return [canonical_url(e["webUrl"]) for e in entries
            if isinstance(e, dict) and isinstance(e.get("webUrl"), str)]


def _raw_related(article: Article) -> list[dict[str, Any]]:
    """The file's current related entries exactly as its YAML has them."""
    from recommender.articles import parse_front_matter, read_text

    related = parse_front_matter(read_text(article.path), article.path).get("related") or []
    return [e for e in related if isinstance(e, dict)]


def refresh(paths: Sequence[str | os.PathLike[str]], index: str | os.PathLike[str] = DEFAULT_INDEX,
            since: str = "7d", relative_to: str = "newest", k: int = 5,
            filters: Filters = Filters(), weights: Weights = Weights(), write: bool = False,
            keep_curated: bool = False, strict: bool = False, encoder: Encoder | None = None,
            now: datetime | None = None) -> RefreshResult:
    """Recompute (and with ``write``, write back) the related lists of recent articles."""
    loaded = load_articles(list(paths), strict=strict)
    dated = [a for a in loaded.articles if a.published is not None]
    newest = max((a.published for a in dated), default=None)
    start = window_start(since, newest, now, relative_to)
    recent = [a for a in dated if a.published >= start]
    result = RefreshResult(start, skipped=loaded.errors)
    if not recent:
        return result
    # One generation for the whole run: everything is opened now, before any file changes.
    current = load_index(index)
    query_encoder = encoder or current.query_encoder()[0]
    current.bm25  # noqa: B018 (open the lexical index now)
    cache = cached_vectors(current, query_encoder.identity["fingerprint"])
    vectors, _, _ = embed([a.text for a in recent], query_encoder, cache)
    ranker = Ranker(current, weights)
    for article, vector in zip(recent, vectors, strict=True):
        suggested = [s.entry() for s in ranker.rank(Query(article, vector), k, filters)]
        existing = _raw_related(article)
        entries = merge_curated(existing, suggested, k) if keep_curated else suggested
        before, after = _urls(existing), _urls(entries)
        diff = write_related(article.path, entries, dry_run=not write,
                             append=keep_curated)
        result.articles.append(ArticleChange(
            article.path, bool(diff), [u for u in after if u not in before],
            [u for u in before if u not in after], diff))
    return result
