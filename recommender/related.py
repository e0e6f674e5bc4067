"""Suggest and write: keep each file's ``related:`` list current without touching editors' work.

An entry in a file's list is the product's own if the ledger says the product wrote it there
(and it is unchanged since); every other entry is curated. By default curated entries stay byte
for byte and in their order, the product's own are replaced by the current suggestions, which
follow them, up to ``k`` entries in all, never an article already listed. ``replace`` rewrites
the whole list.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recommender.articles import canonical_url, parse_front_matter, read_text
from recommender.errors import RecommenderError
from recommender.feedyaml import read_back
from recommender.ledger import Ledger, fingerprint
from recommender.ranking import Filters, Query, Ranker, Suggestion
from recommender.writeback import (
    check_rewrite,
    find_block,
    splice,
    unified_diff,
    write_if_unchanged,
)

_URL_KEYS = ("webUrl", "originalUrl", "ampWebUrl", "cdnAmpWebUrl")


@dataclass
class FileUpdate:
    """What happened (or, in a dry run, would happen) to one file's related list."""

    path: str
    suggestions: list[Suggestion] = field(default_factory=list)
    changed: bool = False
    curated_kept: int = 0
    curated_removed: int = 0
    """Only with ``replace``."""
    added: list[str] = field(default_factory=list)
    """webUrl of each entry the product adds."""
    updated: list[str] = field(default_factory=list)
    """webUrl of each entry of the product's own whose fields changed."""
    removed: list[str] = field(default_factory=list)
    """webUrl of each entry of the product's own that leaves the list."""
    diff: str = ""
    error: RecommenderError | None = None


@dataclass
class _Current:
    """A file's list as it is: its text, its entries and which of them are the product's."""

    text: str
    entries: list[Any]
    own: list[bool]

    @property
    def curated(self) -> list[int]:
        return [i for i, own in enumerate(self.own) if not own]


def _read_current(path: Path, ledger: Ledger) -> _Current:
    text = read_text(path)
    entries = parse_front_matter(text, path).get("related") or []
    if not isinstance(entries, list):
        raise RecommenderError("related is not a list", str(path), "Fix the file's related: key")
    try:
        block = find_block(text)
    except ValueError as exc:
        raise RecommenderError(f"cannot change its related list ({exc})", str(path),
                               "Fix the list's layout, or leave this file out") from None
    if block.first is not None and not block.inline and len(block.items) != len(entries):
        raise RecommenderError(
            f"cannot tell the related list's {len(entries)} entries apart in the text",
            str(path), "Write each entry as a '- ' item, or leave this file out")
    mine = ledger.own(path)
    return _Current(text, entries, [fingerprint(e) in mine if isinstance(e, dict) else False
                                    for e in entries])


def _urls(entry: Any) -> set[str]:
    """Canonical forms of every URL an entry gives."""
    if not isinstance(entry, dict):
        return set()
    return {canonical_url(entry[key]) for key in _URL_KEYS if isinstance(entry.get(key), str)}


def _web_url(entry: Any) -> str:
    """How people know an entry: its webUrl as written (else another URL, else its title)."""
    return str(entry.get("webUrl") or entry.get("originalUrl") or entry.get("title", "")) \
        if isinstance(entry, dict) else str(entry)


def _identity(entry: Any) -> str:
    """Which article an entry names, to tell an updated entry from a new one."""
    url = _web_url(entry)
    return canonical_url(url) if url.startswith(("http://", "https://")) else url


def _apply(path: Path, current: _Current, keep: list[int], new: list[dict[str, Any]],
           *, replace: bool, dry_run: bool, ledger: Ledger, update: FileUpdate) -> None:
    fresh = read_back(new)
    own_before = [e for e, own in zip(current.entries, current.own, strict=True) if own]
    if not replace and [fingerprint(e) for e in own_before] == [fingerprint(e) for e in fresh]:
        return  # the product's entries are already these, in this order
    expected = [current.entries[i] for i in keep] + fresh
    text = splice(current.text, keep, new)
    if text == current.text:
        return
    check_rewrite(current.text, text, path, expected)
    before = {_identity(e): e for e in own_before}
    after = {_identity(e): e for e in fresh}
    update.added = [_web_url(e) for key, e in after.items() if key not in before]
    update.updated = [_web_url(e) for key, e in after.items()
                      if key in before and fingerprint(before[key]) != fingerprint(e)]
    update.removed = [_web_url(e) for key, e in before.items() if key not in after]
    update.diff = unified_diff(path, current.text, text)
    update.changed = True
    if not dry_run:
        write_if_unchanged(path, current.text, text)
        ledger.record(path, fresh)


def _write(path: Path, current: _Current, candidates: Sequence[Mapping[str, Any]], *,
           k: int | None, replace: bool, dry_run: bool, ledger: Ledger,
           update: FileUpdate) -> None:
    keep = [] if replace else current.curated
    listed = set().union(*(_urls(current.entries[i]) for i in keep))
    slots = len(candidates) if k is None else max(0, k - len(keep))
    new = [dict(e) for e in candidates if not (_urls(e) & listed)][:slots]
    update.curated_kept = len(keep)
    update.curated_removed = len(current.curated) - len(keep)
    _apply(path, current, keep, new, replace=replace, dry_run=dry_run, ledger=ledger,
           update=update)


def _failed(path: Path, exc: Exception) -> RecommenderError:
    return exc if isinstance(exc, RecommenderError) else RecommenderError(
        f"cannot update its related list ({exc})", str(path),
        "The file is unchanged; fix it or leave it out")


def write_related(path: str | os.PathLike[str], entries: Sequence[Mapping[str, Any]], *,
                  k: int | None = None, replace: bool = False, dry_run: bool = False,
                  ledger: Ledger | None = None) -> FileUpdate:
    """Make ``entries`` the product's entries in the ``related:`` list of the file at ``path``.

    Curated entries (those the ledger does not know as the product's) stay byte for byte and
    in their order, and an entry naming an article they list is left out; with ``k``, the
    list holds at most ``k`` entries in all, curated ones first. ``replace`` makes the list
    exactly ``entries``. With ``dry_run`` nothing is written (the update still has the diff).
    Raises ``RecommenderError`` if the file cannot be changed safely.
    """
    path = Path(path)
    ledger = ledger or Ledger()
    if not dry_run:
        ledger.ensure_writable()
    update = FileUpdate(str(path))
    try:
        _write(path, _read_current(path, ledger), entries, k=k, replace=replace,
               dry_run=dry_run, ledger=ledger, update=update)
    except (OSError, ValueError) as exc:
        raise _failed(path, exc) from None
    return update


def write_suggestions(ranker: Ranker, queries: Sequence[Query], *, k: int = 5,
                      filters: Filters = Filters(), replace: bool = False,
                      dry_run: bool = False, ledger: Ledger | None = None) -> list[FileUpdate]:
    """Rank related articles for each query's file and write them into its ``related:`` list.

    Curated entries are kept (and never suggested again); the product's own entries from
    earlier runs make way for the current suggestions, up to ``k`` entries in all. With
    ``replace`` the whole list becomes the ``k`` suggestions. A file that cannot be changed
    safely is left alone and its update carries the error; the others go on.
    """
    ledger = ledger or Ledger()
    if not dry_run:
        ledger.ensure_writable()  # before any file changes: a write it cannot record is lost
    updates = []
    for query in queries:
        path = Path(query.article.path or "")
        update = FileUpdate(str(path))
        updates.append(update)
        try:
            current = _read_current(path, ledger)
            keep = [] if replace else current.curated
            slots = max(0, k - len(keep))
            if slots:  # ranked past what the file already lists, so that k can be reached
                listed = set().union(*(_urls(current.entries[i]) for i in keep))
                narrowed = dataclasses.replace(
                    filters, exclude_urls=(*filters.exclude_urls, *sorted(listed)))
                update.suggestions = ranker.rank(query, slots, narrowed)
            _write(path, current, [s.entry() for s in update.suggestions], k=k,
                   replace=replace, dry_run=dry_run, ledger=ledger, update=update)
        except (RecommenderError, OSError, ValueError) as exc:
            update.error = _failed(path, exc)
    return updates
