"""Refresh the related lists of recent articles after a rebuild.

Curated lists keep growing after an article is published (most related coverage comes in the
days after it), so a list computed when the article arrived misses what came later. The
periodic job rebuilds the index, then recomputes the product's entries in the lists of the
articles published in a recent window, with the same ranking as ``suggest``; editors' entries
stay as they are (see ``related.write_suggestions``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from recommender.articles import format_datetime, load_articles, parse_datetime
from recommender.embedding import Encoder
from recommender.errors import ArticleError, RecommenderError
from recommender.ledger import Ledger
from recommender.ranking import Filters, Query, Ranker, Weights
from recommender.related import FileUpdate, write_suggestions
from recommender.store import DEFAULT_INDEX, load_index
from recommender.vectors import cached_vectors, embed

_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([hdw])\s*$", re.IGNORECASE)
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
RELATIVE_TO = ("newest", "now")


def parse_since(since: str) -> timedelta | datetime:
    """A span (``7d``, ``48h``, ``2w``) or a date / ISO timestamp (UTC if it has no zone).

    Raises ``ValueError`` with what to write instead.
    """
    match = _SPAN.match(since)
    if match is not None:
        try:
            return float(match.group(1)) * _UNITS[match.group(2).lower()]
        except OverflowError:
            raise ValueError(f"the span '{since}' is too long") from None
    try:
        start = parse_datetime(since)
    except (ValueError, OverflowError):
        start = None
    if start is None:
        raise ValueError(f"cannot read '{since}' as a span (7d, 48h, 2w) or a date "
                         "(YYYY-MM-DD)")
    return start


def window_start(since: str, newest: datetime | None, now: datetime | None = None,
                 relative_to: str = "newest") -> datetime:
    """The earliest publication time in the window: a span back from the newest article (or
    from now), or a date."""
    try:
        span = parse_since(since)
    except ValueError as exc:
        raise RecommenderError(str(exc), "--since",
                               "Give a span such as 7d or a date such as 2026-11-01") from None
    if isinstance(span, datetime):
        return span
    if relative_to not in RELATIVE_TO:
        raise RecommenderError(f"unknown --relative-to '{relative_to}'", "--relative-to",
                               "Use newest or now")
    anchor = newest if relative_to == "newest" else (now or datetime.now(timezone.utc))
    if anchor is None:
        raise RecommenderError("no article has a publication date", "--since",
                               "Use --relative-to now")
    try:
        return anchor - span
    except OverflowError:  # further back than year 1: every article is in the window
        return datetime.min.replace(tzinfo=timezone.utc)


@dataclass
class RefreshResult:
    window_start: datetime
    updates: list[FileUpdate] = field(default_factory=list)
    skipped: list[ArticleError] = field(default_factory=list)
    written: bool = False

    @property
    def failed(self) -> list[FileUpdate]:
        return [u for u in self.updates if u.error is not None]

    @property
    def summary(self) -> dict[str, Any]:
        changed = sum(u.changed for u in self.updates)
        return {"window_start": format_datetime(self.window_start),
                "considered": len(self.updates), "changed": changed,
                "unchanged": len(self.updates) - changed - len(self.failed),
                "failed": len(self.failed),
                "entries_added": sum(len(u.added) for u in self.updates),
                "entries_updated": sum(len(u.updated) for u in self.updates),
                "entries_removed": sum(len(u.removed) for u in self.updates),
                "curated_kept": sum(u.curated_kept for u in self.updates),
                "curated_removed": sum(u.curated_removed for u in self.updates if u.changed)}


def refresh(paths: Sequence[str | os.PathLike[str]], *,
            index: str | os.PathLike[str] = DEFAULT_INDEX, since: str = "7d",
            relative_to: str = "newest", k: int = 5, filters: Filters = Filters(),
            weights: Weights = Weights(), write: bool = False, replace: bool = False,
            strict: bool = False, encoder: Encoder | None = None, now: datetime | None = None,
            ledger: Ledger | None = None) -> RefreshResult:
    """Recompute (and with ``write``, write back) the related lists of recent articles."""
    loaded = load_articles(list(paths), strict=strict)
    dated = [a for a in loaded.articles if a.published is not None]
    newest = max((a.published for a in dated), default=None)
    start = window_start(since, newest, now, relative_to)
    recent = [a for a in dated if a.published >= start]
    result = RefreshResult(start, skipped=loaded.errors, written=write)
    if not recent:
        return result
    # One generation for the whole run: everything is opened now, before any file changes.
    current = load_index(index)
    query_encoder = encoder or current.query_encoder()[0]
    current.bm25  # noqa: B018 (open the lexical index now)
    cache = cached_vectors(current, query_encoder.identity["fingerprint"])
    vectors, _, _ = embed([a.text for a in recent], query_encoder, cache)
    queries = [Query(article, vector) for article, vector in zip(recent, vectors, strict=True)]
    result.updates = write_suggestions(Ranker(current, weights), queries, k=k, filters=filters,
                                       replace=replace, dry_run=not write, ledger=ledger)
    return result
