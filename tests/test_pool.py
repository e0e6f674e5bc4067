from __future__ import annotations

from pathlib import Path

from conftest import feed_file

from recommender.articles import load_articles
from recommender.pool import build_pool


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
