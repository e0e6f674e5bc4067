"""The candidate pool: every article file plus every entry of every curated ``related:`` list.

Related entries are articles too; they are de-duplicated by canonical URL (AMP and original URLs
count as the same article), a full file wins over a stub (which fills the fields the file
lacks, such as ``quality``), and each candidate remembers which files mention it (its
provenance), so an evaluation can tell which stubs a query brought in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from recommender.articles import Article


@dataclass(frozen=True)
class Candidate:
    article: Article
    is_file: bool
    mentioned_by: frozenset[str] = field(default_factory=frozenset)
    """Ids of the files whose curated list names this article."""


@dataclass
class Pool:
    candidates: list[Candidate]
    by_url: dict[str, int]
    """Every canonical URL and alias of every candidate -> its row."""
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    """(path skipped, path kept) for files that name an article already read."""

    def __len__(self) -> int:
        return len(self.candidates)

    def row_of(self, article: Article) -> int | None:
        """The row of the candidate that is this article (by any of its URLs), if any."""
        for url in article.urls:
            row = self.by_url.get(url)
            if row is not None:
                return row
        return None

    def articles(self) -> list[Article]:
        return [c.article for c in self.candidates]


def build_pool(files: Sequence[Article], seed: Iterable[Candidate] = ()) -> Pool:
    """Pool the article files, then the entries of their related lists.

    ``seed`` seeds the pool with the candidates of an existing index (``recommender
    add``); a new file replaces a seeded candidate of the same article, stub or file.
    """
    candidates: list[Article] = []
    is_file: list[bool] = []
    mentions: list[set[str]] = []
    by_url: dict[str, int] = {}
    seeded_files: set[int] = set()
    pool = Pool([], by_url)

    def add(article: Article, file: bool, mentioned: Iterable[str] = ()) -> None:
        row = pool.row_of(article)
        if row is None:
            row = len(candidates)
            candidates.append(article)
            is_file.append(file)
            mentions.append(set(mentioned))
        else:
            mentions[row].update(mentioned)
            if file and row in seeded_files:  # `add` of a changed file: the file as it is now
                candidates[row] = article
                seeded_files.discard(row)
            elif file and not is_file[row]:  # the file wins, a curated entry fills its gaps
                candidates[row], is_file[row] = article.merged_with(candidates[row]), True
            elif file:
                pool.duplicates.append((str(article.path), str(candidates[row].path)))
                return
            else:  # another curated entry of the same article: the first one wins
                candidates[row] = candidates[row].merged_with(article)
        for url in candidates[row].urls + article.urls:
            by_url.setdefault(url, row)

    for seeded in seed:
        add(seeded.article, seeded.is_file, seeded.mentioned_by)
        if seeded.is_file:
            seeded_files.add(len(candidates) - 1)
    for article in files:
        add(article, True)
    for article in files:
        for entry in article.related:
            if pool.row_of(entry) != pool.row_of(article):  # an article listing itself
                add(entry, False, (article.id,))
    pool.candidates = [
        Candidate(article, file, frozenset(mentioned))
        for article, file, mentioned in zip(candidates, is_file, mentions, strict=True)
    ]
    return pool
