"""Suggestions -> text in the formats ``suggest`` prints: yaml (feed schema), json, table."""

from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Sequence
from typing import Any

from recommender.feedyaml import render_related
from recommender.ranking import Suggestion

FORMATS = ("yaml", "json", "table")


def clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, with an ellipsis where it was cut."""
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"


def _explain_line(s: Suggestion) -> str:
    parts = " + ".join(f"{name} {value:.3f}" for name, value in s.contributions.items())
    gap = "unknown" if s.gap_days is None else f"{s.gap_days:+.1f} d"
    words = ", ".join(s.shared_words) or "none"
    return (f"score {s.score:.3f} = {parts}; cosine {s.cosine:.3f}, BM25 {s.bm25:.2f} "
            f"(rank {s.bm25_rank}), time gap {gap} (factor {s.time_factor:.2f}); "
            f"shared words: {words}")


def as_yaml(suggestions: Sequence[Suggestion], explain: bool = False) -> str:
    """A ``related:`` block in the feed's schema; ``explain`` adds a comment per entry."""
    block = render_related([s.entry() for s in suggestions])
    if not explain:
        return block
    lines, entry = [], 0
    for line in block.splitlines():
        if line.startswith("  - "):
            lines.append(f"  # {_explain_line(suggestions[entry])}")
            entry += 1
        lines.append(line)
    return "\n".join(lines) + "\n"


def as_json_object(source: str, web_url: str | None, suggestions: Sequence[Suggestion],
                   explain: bool = False) -> dict[str, Any]:
    related = []
    for s in suggestions:
        item = {**s.entry(), "score": round(s.score, 4)}
        if explain:
            item["explain"] = s.explanation()
        related.append(item)
    return {"input": source, "webUrl": web_url, "related": related}


def as_json(objects: Sequence[dict[str, Any]]) -> str:
    return json.dumps(list(objects), indent=2, ensure_ascii=False) + "\n"


def as_table(title: str, suggestions: Sequence[Suggestion], explain: bool = False) -> str:
    """A readable table: rank, score, date, provider, title."""
    width = max(60, shutil.get_terminal_size((100, 20)).columns)  # never narrower than a row
    lines = [title, ""] if title else []
    if not suggestions:
        return "\n".join([*lines, "  (no suggestions)"]) + "\n"
    lines.append(f"  {'#':>2}  {'score':>5}  {'published':<10}  {'provider':<20}  title")
    for rank, s in enumerate(suggestions, start=1):
        record = s.record
        provider = clip((record.get("provider") or {}).get("name") or "", 20)
        date = str(record.get("publishedDateTime", ""))[:10]
        head = f"  {rank:>2}  {s.score:5.3f}  {date:<10}  {provider:<20}  "
        lines.append(head + textwrap.shorten(record["title"], max(20, width - len(head))))
        if explain:
            lines.extend(textwrap.wrap(_explain_line(s), width - 8, initial_indent=" " * 8,
                                       subsequent_indent=" " * 8))
    return "\n".join(lines) + "\n"
