from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import feed_file

from recommender.articles import (
    MAX_FILE_BYTES,
    canonical_url,
    iter_article_files,
    load_article,
    load_articles,
    split_front_matter,
)
from recommender.errors import ArticleError, RecommenderError


@pytest.mark.parametrize(("url", "expected"), [
    ("HTTPS://WWW.Example.COM/Path/", "https://example.com/Path"),
    ("http://example.com/a#section", "https://example.com/a"),
    ("https://example.com/a?utm_source=x&utm_medium=y&id=7", "https://example.com/a?id=7"),
    ("https://example.com/a?mod=article_inline&ref=tw&fbclid=abc", "https://example.com/a"),
    ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
    ("https://example.com:8080/a", "https://example.com:8080/a"),
    ("  https://example.com/a/  ", "https://example.com/a"),
])
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_front_matter_ignores_dashes_inside_a_line() -> None:
    text = '---\ntitle: "A --- B"\nwebUrl: "https://x.example/a---b"\n---\nbody ---\n'
    start, end = split_front_matter(text)
    assert text[start:end] == 'title: "A --- B"\nwebUrl: "https://x.example/a---b"\n'


def test_article_fields(tmp_path: Path) -> None:
    path = feed_file(tmp_path, "a.md", "Title", "Excerpt here", "2023-07-03T11:07:00-07:00",
                     "https://www.one.example/story/?utm_source=feed", "One",
                     extra='ampWebUrl: "https://one.example/amp/story"\nquality: 39\n'
                           "topics:\n  - AI Hardware\n  - AI")
    article = load_article(path)
    assert article.id == "https://one.example/story"
    assert article.aliases == ("https://one.example/amp/story",)
    assert article.published == datetime(2023, 7, 3, 18, 7, tzinfo=timezone.utc)
    assert article.published.utcoffset() == timedelta(hours=-7)
    assert article.topics == ("AI Hardware", "AI")
    assert article.quality == 39
    assert article.provider == "One" and article.domain == "one.example"
    assert article.text == "Title. Excerpt here"
    # Entries are written as the feed writes related entries: in UTC, with Z.
    assert article.entry()["publishedDateTime"] == "2023-07-03T18:07:00Z"
    assert article.entry()["ampWebUrl"] == "https://one.example/amp/story"  # written back as is


def test_quoted_and_naive_dates(tmp_path: Path) -> None:
    quoted = load_article(feed_file(tmp_path, "q.md", "T", date="'2021-03-11T07:38:00-08:00'"))
    assert quoted.published == datetime(2021, 3, 11, 15, 38, tzinfo=timezone.utc)
    naive = load_article(feed_file(tmp_path, "n.md", "T", date="2021-03-11T07:38:00"))
    assert naive.published == datetime(2021, 3, 11, 7, 38, tzinfo=timezone.utc)
    day = load_article(feed_file(tmp_path, "d.md", "T", date="2021-03-11"))
    assert day.published == datetime(2021, 3, 11, tzinfo=timezone.utc)


def test_identity_without_url_comes_from_the_path(tmp_path: Path) -> None:
    article = load_article(feed_file(tmp_path, "no-url.md", "T"))
    assert article.id == f"file:{tmp_path / 'no-url.md'}"


def test_front_matter_with_nothing_after_it_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "crlf.md"
    path.write_bytes(b'---\r\ntitle: "Windows"\r\n---\r\n')
    assert load_article(path).title == "Windows"


BAD_FILES = {
    "no front matter": (b"title: x\n", "no YAML front matter"),
    "unclosed": (b"---\ntitle: x\n", "not closed"),
    "invalid yaml": (b'---\ntitle: "x\nexcerpt: [\n---\n', "invalid YAML"),
    "not a mapping": (b"---\n- a\n- b\n---\n", "not a mapping"),
    "no title": (b"---\nexcerpt: only\n---\n", "no title"),
    "empty": (b"---\n---\n", "no title"),
    "title is a list": (b"---\ntitle: [a, b]\n---\n", "title must be text"),
    "bad date": (b"---\ntitle: x\npublishedDateTime: yesterday\n---\n", "not an ISO 8601"),
    "quality text": (b"---\ntitle: x\nquality: high\n---\n", "quality must be a number"),
    "related not list": (b"---\ntitle: x\nrelated: 3\n---\n", "related must be a list"),
    "related entry": (b"---\ntitle: x\nrelated:\n  - excerpt: y\n---\n", "related entry 1"),
    "binary": (b"---\ntitle: x\x00\x01\x02\n---\n", "binary"),
    "not utf-8": (b"---\ntitle: caf\xe9\n---\n", "not UTF-8"),
    "python tag": (b"---\ntitle: !!python/object/apply:os.system ['true']\n---\n",
                   "invalid YAML"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_is_reported_by_name_and_reason(tmp_path: Path, case: str) -> None:
    data, reason = BAD_FILES[case]
    path = tmp_path / "bad.md"
    path.write_bytes(data)
    with pytest.raises(ArticleError) as caught:
        load_article(path)
    assert reason in caught.value.reason
    assert str(path) in str(caught.value)


def test_huge_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.md"
    with open(path, "wb") as handle:
        handle.write(b"---\ntitle: x\n---\n")
        handle.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(ArticleError, match="over the 5 MB limit"):
        load_article(path)


def test_broken_files_are_skipped_or_fail_under_strict(tmp_path: Path) -> None:
    feed_file(tmp_path, "good.md", "Good")
    (tmp_path / "bad.md").write_text("---\nexcerpt: no title\n---\n")
    result = load_articles(tmp_path)
    assert [a.title for a in result.articles] == ["Good"]
    assert [Path(e.path).name for e in result.errors] == ["bad.md"]
    with pytest.raises(ArticleError, match="no title"):
        load_articles(tmp_path, strict=True)


def test_folder_walk_picks_article_files_only(tmp_path: Path) -> None:
    for name in ("a.md", "b.txt", "c.yaml", "d.yml", "sub/e.md", "README.md", "notes.json",
                 ".hidden/f.md", ".g.md"):
        feed_file(tmp_path, name, "T")
    found = sorted(p.relative_to(tmp_path).as_posix() for p in iter_article_files([tmp_path]))
    assert found == ["a.md", "b.txt", "c.yaml", "d.yml", "sub/e.md"]
    # A file named directly is read whatever its name.
    assert list(iter_article_files([tmp_path / "notes.json"])) == [tmp_path / "notes.json"]


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RecommenderError, match="no such file or folder"):
        load_articles(tmp_path / "nope")


def test_sample_data_loads_without_errors() -> None:
    from conftest import DATA

    result = load_articles(DATA)
    assert len(result.articles) >= 45 and result.errors == []
    assert sum(1 for a in result.articles if a.related) >= 20


@pytest.mark.corpus
def test_whole_corpus_loads_with_none_skipped(corpus: Path) -> None:
    result = load_articles(corpus)
    assert result.errors == []
    files = [p for p in corpus.rglob("*.md") if p.name != "README.md"]
    assert len(result.articles) == len(files)
    assert all(a.published is not None and a.published.tzinfo for a in result.articles)


def test_parallel_parsing_gives_the_same_result(tmp_path: Path, monkeypatch) -> None:
    import recommender.articles as articles

    for i in range(40):
        feed_file(tmp_path, f"{i:02d}.md", f"Title {i}", f"Excerpt {i}", "2026-01-01T00:00:00Z",
                  f"https://x.example/{i}")
    (tmp_path / "bad.md").write_text("---\nexcerpt: no title\n---\n")
    serial = load_articles(tmp_path)
    monkeypatch.setattr(articles, "PARALLEL_FROM", 10)
    parallel = load_articles(tmp_path)
    assert parallel.articles == serial.articles
    assert [(e.path, e.reason) for e in parallel.errors] == [(e.path, e.reason)
                                                             for e in serial.errors]
    with pytest.raises(ArticleError, match="no title"):
        load_articles(tmp_path, strict=True)
