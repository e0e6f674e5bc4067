"""recommender: related-article suggestions for news feeds.

The library API (nothing here prints)::

    from recommender import load_articles, build_index, load_index, suggest

    result = build_index(["data/"], "indexes/default")
    index = load_index("indexes/default")
    new = load_articles(["data/new/"]).articles
    for article, suggestions in zip(new, suggest(index, new, k=5)):
        print(article.title, [s.record["title"] for s in suggestions])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = [
    "Article",
    "Filters",
    "RecommenderError",
    "Weights",
    "add_to_index",
    "build_index",
    "load_articles",
    "load_index",
    "suggest",
    "write_related",
    "write_suggestions",
]

# Resolved on first use, so `import recommender` (and `recommender --help`) stay light.
_LOCATIONS = {
    "Article": "articles", "load_articles": "articles", "RecommenderError": "errors",
    "build_index": "build", "add_to_index": "build", "load_index": "store",
    "suggest": "ranking", "Filters": "ranking", "Weights": "ranking",
    "write_related": "related", "write_suggestions": "related",
}

if TYPE_CHECKING:
    from recommender.articles import Article, load_articles
    from recommender.build import add_to_index, build_index
    from recommender.errors import RecommenderError
    from recommender.ranking import Filters, Weights, suggest
    from recommender.related import write_related, write_suggestions
    from recommender.store import load_index


def __getattr__(name: str) -> Any:
    if name not in _LOCATIONS:
        raise AttributeError(f"module 'recommender' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"recommender.{_LOCATIONS[name]}"), name)
