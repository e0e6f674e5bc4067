from __future__ import annotations

from pathlib import Path

from conftest import feed_file

from recommender.articles import Article, load_articles
from recommender.pool import Candidate, build_pool


def test_pool_merges_stubs_into_files_and_keeps_provenance(archive: Path) -> None:
    articles = load_articles(archive).articles
    pool = build_pool(articles)
    by_title = {c.article.title: c for c in pool.candidates}
    # 6 files + one stub that no file covers ("Drone makers protest...").
    assert len(pool) == 7
    assert sum(c.is_file for c in pool.candidates) == 6
    # The stub with a tracking parameter and no www. is the file a2.md.
    council = by_title["Council vote grounds park drones"]
    assert council.is_file and council.article.path.endswith("a2.md")
    assert council.mentioned_by == {"https://one.example/drones-parks"}
    protest = by_title["Drone makers protest harbor park ban"]
    assert not protest.is_file and protest.mentioned_by == {"https://one.example/drones-parks"}
    assert by_title["Bakery robot learns to frost cakes"].mentioned_by == frozenset()


def test_file_wins_over_stub_whatever_the_order(tmp_path: Path) -> None:
    feed_file(tmp_path, "a.md", "Listing", url="https://x.example/a",
              related=[{"title": "Stub title", "webUrl": "https://y.example/b"}])
    feed_file(tmp_path, "b.md", "Full title", "Full excerpt", url="https://y.example/b/")
    pool = build_pool(load_articles(tmp_path).articles)
    assert [(c.article.title, c.is_file) for c in pool.candidates] == [
        ("Listing", True), ("Full title", True)]


def test_amp_url_names_the_same_article(tmp_path: Path) -> None:
    feed_file(tmp_path, "a.md", "Original", url="https://x.example/story",
              extra='ampWebUrl: "https://x.example/amp/story"')
    feed_file(tmp_path, "b.md", "Other", url="https://z.example/o",
              related=[{"title": "Original (AMP)", "webUrl": "https://x.example/amp/story"}])
    pool = build_pool(load_articles(tmp_path).articles)
    assert len(pool) == 2
    original = pool.candidates[pool.by_url["https://x.example/amp/story"]]
    assert original.article.title == "Original"
    assert original.mentioned_by == {"https://z.example/o"}


def test_duplicate_files_are_reported_and_the_first_kept(tmp_path: Path) -> None:
    feed_file(tmp_path, "a.md", "First", url="https://x.example/a")
    feed_file(tmp_path, "b.md", "Second", url="https://x.example/a?utm_campaign=z")
    pool = build_pool(load_articles(tmp_path).articles)
    assert [c.article.title for c in pool.candidates] == ["First"]
    assert [(Path(s).name, Path(k).name) for s, k in pool.duplicates] == [("b.md", "a.md")]


def test_same_stub_listed_twice_is_one_candidate(tmp_path: Path) -> None:
    entry = {"title": "Stub", "webUrl": "https://y.example/s?mod=rss"}
    feed_file(tmp_path, "a.md", "A", url="https://x.example/a",
              related=[entry, {"title": "Stub again", "webUrl": "https://y.example/s"}])
    feed_file(tmp_path, "b.md", "B", url="https://x.example/b", related=[entry])
    pool = build_pool(load_articles(tmp_path).articles)
    stubs = [c for c in pool.candidates if not c.is_file]
    assert len(stubs) == 1
    assert stubs[0].mentioned_by == {"https://x.example/a", "https://x.example/b"}


def _article(url: str, title: str, **fields) -> Article:
    return Article(id=url, title=title, url=url, **fields)


def test_a_file_keeps_its_fields_and_takes_only_missing_ones_from_a_stub(tmp_path: Path) -> None:
    stub = _article("https://y.example/b", "Stub title", excerpt="Stub excerpt", quality=80,
                    provider="Stub News")
    listing = _article("https://x.example/a", "Listing", related=(stub,))
    file = _article("https://y.example/b", "Full title", excerpt="Full excerpt", path="b.md")
    pool = build_pool([listing, file])
    merged = pool.candidates[pool.by_url["https://y.example/b"]]
    assert merged.is_file and merged.mentioned_by == {"https://x.example/a"}
    assert (merged.article.title, merged.article.excerpt, merged.article.quality,
            merged.article.provider, merged.article.path) == (
        "Full title", "Full excerpt", 80, "Stub News", "b.md")


def test_a_second_entry_of_a_stub_fills_the_first_ones_gaps() -> None:
    first = _article("https://y.example/s", "Stub")
    second = _article("https://y.example/s", "Stub again", quality=5,
                      aliases=("https://amp.y.example/s",))
    a = _article("https://x.example/a", "A", related=(first,))
    b = _article("https://x.example/b", "B", related=(second,))
    pool = build_pool([a, b])
    assert len(pool) == 3
    stub = pool.candidates[2]
    assert (stub.article.title, stub.article.quality, stub.is_file) == ("Stub", 5, False)
    assert stub.mentioned_by == {"https://x.example/a", "https://x.example/b"}
    assert pool.by_url["https://amp.y.example/s"] == 2  # every URL of either entry


def test_an_article_listing_itself_is_not_its_own_candidate() -> None:
    a = _article("https://x.example/a", "A",
                 related=(_article("https://x.example/a", "A again"),))
    pool = build_pool([a])
    assert [(c.article.title, c.is_file, c.mentioned_by) for c in pool.candidates] == [
        ("A", True, frozenset())]


def test_a_seeded_file_is_replaced_by_the_file_as_it_is_now() -> None:
    """``add``: the index's candidates seed the pool; a changed file replaces its old row
    whole (no field of the old version survives), a file for a seeded stub merges with it."""
    old = Candidate(_article("https://x.example/a", "Old title", quality=5, path="a.md"), True)
    stub = Candidate(_article("https://y.example/b", "Stub", quality=9), False,
                     frozenset({"https://x.example/a"}))
    new = _article("https://x.example/a", "New title", path="a.md")
    file_b = _article("https://y.example/b", "File B", path="b.md")
    again = _article("https://x.example/a", "Copy of new", path="copy/a.md")
    pool = build_pool([new, file_b, again], seed=[old, stub])
    assert [(c.article.title, c.article.quality, c.is_file, c.mentioned_by)
            for c in pool.candidates] == [
        ("New title", None, True, frozenset()),
        ("File B", 9, True, frozenset({"https://x.example/a"}))]
    assert pool.duplicates == [("copy/a.md", "a.md")]


def test_row_of_finds_an_article_by_any_of_its_urls() -> None:
    a = _article("https://x.example/a", "A", aliases=("https://amp.x.example/a",))
    pool = build_pool([a])
    assert pool.row_of(_article("https://amp.x.example/a", "AMP")) == 0
    assert pool.row_of(_article("https://z.example/q", "Q",
                                aliases=("https://x.example/a",))) == 0
    assert pool.row_of(_article("https://z.example/q", "Q")) is None
    assert pool.articles() == [a]
