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


# --- Hostile input: every problem is this file's error, never the build's --------------------

def _bad_reason(tmp_path: Path, text: str, name: str = "bad.md") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ArticleError) as caught:
        load_article(path)
    assert caught.value.path == path
    return caught.value.reason


def _aliases(copies: int) -> str:
    # One anchored list of 9 values (10 nodes with the list itself), named `copies` times.
    names = ", ".join(["*nine"] * copies)
    return f"---\ntitle: T\nnine: &nine [1, 2, 3, 4, 5, 6, 7, 8, 9]\nuses: [{names}]\n---\n"


def test_aliases_may_add_up_to_1000_values(tmp_path: Path) -> None:
    path = tmp_path / "ok.md"
    path.write_text(_aliases(100))  # 100 aliases x 10 nodes = 1000: at the budget
    assert load_article(path).title == "T"
    reason = _bad_reason(tmp_path, _aliases(101))
    assert reason == ("YAML refused at front-matter line 3: aliases expand to more than 1000 "
                      "values (an alias bomb?)")


def _bomb(levels: int, width: int = 9) -> str:
    lines = ["---", "title: Bomb", "a0: &a0 [x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels + 1)]
    return "\n".join([*lines, f"images: *a{levels}", "---", ""])


def test_an_alias_bomb_is_refused_at_once_in_little_memory(tmp_path: Path) -> None:
    import time
    import tracemalloc

    text = _bomb(9)  # 9**9 = 387 million values once expanded
    assert len(text) < 700
    tracemalloc.start()
    started = time.perf_counter()
    reason = _bad_reason(tmp_path, text)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert reason.startswith("YAML refused at front-matter line 5: aliases expand")
    assert elapsed < 0.5 and peak < 2_000_000


def test_a_bomb_the_anchor_pattern_misses_is_still_counted(tmp_path: Path,
                                                          monkeypatch) -> None:
    import re

    from recommender import yamlsafe

    monkeypatch.setattr(yamlsafe, "_MAYBE_ANCHOR", re.compile("(?!)"))  # never matches
    assert "aliases expand to more than 1000" in _bad_reason(tmp_path, _bomb(4))


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path: Path) -> None:
    reason = _bad_reason(tmp_path, "---\ntitle: T\nimages: &me [*me]\n---\n")
    assert reason == ("YAML refused at front-matter line 2: alias *me refers to a node that "
                      "contains it")


def _nested(levels: int) -> str:
    # The front matter is one level; `images` adds `levels` lists.
    return f"---\ntitle: T\nimages: {'[' * levels}{']' * levels}\n---\n"


@pytest.mark.parametrize("anchor", ["", "&deep "])  # libyaml's composer, and ours
def test_nesting_is_limited_to_20_levels(tmp_path: Path, anchor: str) -> None:
    ok = tmp_path / "ok.md"
    ok.write_text(f"---\ntitle: T\nextra: {anchor}{'[' * 19}{']' * 19}\n---\n")
    assert load_article(ok).title == "T"
    reason = _bad_reason(tmp_path, f"---\ntitle: T\nextra: {anchor}{'[' * 20}{']' * 20}\n---\n")
    assert reason == "YAML refused at front-matter line 2: nested more than 20 levels deep"


def test_an_alias_counts_the_nesting_it_brings(tmp_path: Path) -> None:
    three = "---\ntitle: T\nbox: &box [[[1]]]\n"  # height 3
    ok = tmp_path / "ok.md"
    ok.write_text(three + f"x: {'[' * 16}*box{']' * 16}\n---\n")  # 1 + 16 + 3 = 20
    assert load_article(ok).title == "T"
    reason = _bad_reason(tmp_path, three + f"x: {'[' * 17}*box{']' * 17}\n---\n")
    assert reason == ("YAML refused at front-matter line 3: alias *box nests more than 20 "
                      "levels deep")


def test_990_levels_in_a_related_entry_is_this_files_error(tmp_path: Path) -> None:
    reason = _bad_reason(tmp_path, "---\ntitle: T\nrelated:\n  - title: R\n    images: "
                         + "[" * 990 + "]" * 990 + "\n---\n")
    assert reason == "YAML refused at front-matter line 4: nested more than 20 levels deep"


@pytest.mark.parametrize(("value", "reason"), [
    ("!!timestamp notadate", "cannot read 'notadate' as !!timestamp"),
    ("2026-02-30", "cannot read '2026-02-30' as !!timestamp"),
    ("!!int many", "cannot read 'many' as !!int"),
    ("!!float lots", "cannot read 'lots' as !!float"),
    ("!!bool maybe", "cannot read 'maybe' as !!bool"),
    ("!!str [a]", "expected a scalar node"),
])
def test_a_value_its_tag_cannot_read_is_invalid_yaml(tmp_path: Path, value: str,
                                                     reason: str) -> None:
    got = _bad_reason(tmp_path, f"---\ntitle: T\npublishedDateTime: {value}\n---\n")
    assert got.startswith("invalid YAML at front-matter line 2: ") and reason in got


def test_a_title_of_whitespace_is_no_title(tmp_path: Path) -> None:
    assert _bad_reason(tmp_path, '---\ntitle: " \\t\\u3000 "\n---\n') == "no title"
    assert _bad_reason(tmp_path, '---\ntitle: "\\u2028"\n---\n') == "no title"


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_quality_must_be_finite(tmp_path: Path, value: str) -> None:
    expected = f"quality must be a finite number, not {float(value.replace('.', ''))}"
    assert _bad_reason(tmp_path, f"---\ntitle: T\nquality: {value}\n---\n") == expected
    related = f"---\ntitle: T\nrelated:\n  - title: R\n    quality: {value}\n---\n"
    assert _bad_reason(tmp_path, related) == f"related entry 1: {expected}"


@pytest.mark.parametrize(("image", "reason"), [
    ("{url: [a, b]}", "images entry 1: url must be text, a number, true/false or empty, "
                      "not list"),
    ("{url: {a: b}}", "images entry 1: url must be text, a number, true/false or empty, "
                      "not dict"),
    ("{taken: 2026-01-01}", "images entry 1: taken must be text, a number, true/false or "
                            "empty, not date"),
    ("{url: !!binary aGk=}", "images entry 1: url must be text, a number, true/false or "
                             "empty, not bytes"),
    ("{width: .inf}", "images entry 1: width must be a finite number, not inf"),
    ("{1: x}", "images entry 1: key 1 is not a name"),
])
def test_image_values_must_be_plain(tmp_path: Path, image: str, reason: str) -> None:
    assert _bad_reason(tmp_path, f"---\ntitle: T\nimages:\n  - {image}\n---\n") == reason


def test_plain_image_values_are_kept_as_written(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text('---\ntitle: T\nimages:\n  - {url: "u\\u2028v", width: 9, isCached: true,'
                    " title: null, ratio: 1.5}\n---\n")
    assert load_article(path).images == (
        {"url": "u v", "width": 9, "isCached": True, "title": None, "ratio": 1.5},)


def test_line_separators_in_text_are_read_as_spaces(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text('---\ntitle: "One\\u2028two"\nexcerpt: "Three\\u2029four"\n'
                    'topics: ["A\\u2028B"]\nprovider: {name: "P\\u2029Q"}\n---\n')
    article = load_article(path)
    assert (article.title, article.excerpt, article.topics, article.provider) == (
        "One two", "Three four", ("A B",), "P Q")


def test_a_url_urllib_cannot_split_is_the_fields_error(tmp_path: Path) -> None:
    reason = _bad_reason(tmp_path, '---\ntitle: T\nwebUrl: "http://[::1/a"\n---\n')
    assert reason == "'http://[::1/a' is not a valid URL (Invalid IPv6 URL)"


@pytest.mark.parametrize(("data", "reason"), [
    ("---\ntitle: x\n---\n".encode("utf-16"), "UTF-16 text; save it as UTF-8"),
    ("---\ntitle: x\n---\n".encode("utf-16-be").join([b"\xfe\xff", b""]),
     "UTF-16 text; save it as UTF-8"),
    ("---\ntitle: x\n---\n".encode("utf-32"), "UTF-32 text; save it as UTF-8"),
    (b"\xff\xfe\x00", "binary file, not a feed article"),  # not UTF-16 after all: odd length
])
def test_wide_encodings_are_named(tmp_path: Path, data: bytes, reason: str) -> None:
    path = tmp_path / "wide.md"
    path.write_bytes(data)
    with pytest.raises(ArticleError) as caught:
        load_article(path)
    assert caught.value.reason == reason


def test_a_file_name_that_is_not_utf8_is_refused_and_shown_escaped(tmp_path: Path) -> None:
    import os

    feed_file(tmp_path, "good.md", "Good")
    bad = os.fsdecode(os.fsencode(tmp_path) + b"/bad\xff.md")
    Path(bad).write_text("---\ntitle: Fine inside\n---\n")
    result = load_articles(tmp_path)
    assert [a.title for a in result.articles] == ["Good"]
    assert [(e.path, e.reason) for e in result.errors] == [
        (f"{tmp_path}/bad\\xff.md", "the file name is not UTF-8; rename the file")]
    with pytest.raises(ArticleError) as caught:
        load_articles(tmp_path, strict=True)
    assert str(caught.value) == (f"the file name is not UTF-8; rename the file, "
                                 f"{tmp_path}/bad\\xff.md.")
    folder = Path(os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9"))
    feed_file(folder, "inside.md", "Inside")
    assert [(e.path, e.reason) for e in load_articles(folder).errors] == [
        (f"{tmp_path}/caf\\xe9/inside.md", "the folder name is not UTF-8; rename the folder")]


def test_dangling_links_and_link_loops_are_reported(tmp_path: Path) -> None:
    feed_file(tmp_path, "good.md", "Good")
    (tmp_path / "dangling.md").symlink_to("gone.md")
    (tmp_path / "loop.md").symlink_to("loop.md")
    (tmp_path / "ping.md").symlink_to("pong.md")
    (tmp_path / "pong.md").symlink_to("ping.md")
    result = load_articles(tmp_path)
    assert [a.title for a in result.articles] == ["Good"]
    loop = "symbolic link loop (the link leads back to itself), not followed"
    assert [(Path(e.path).name, e.reason) for e in result.errors] == [
        ("dangling.md", "dangling symbolic link (its target gone.md does not exist)"),
        ("loop.md", loop), ("ping.md", loop), ("pong.md", loop)]
    # Named directly, a dangling link is reported the same way, not "no such file".
    named = load_articles([tmp_path / "dangling.md", tmp_path / "good.md"])
    assert [Path(e.path).name for e in named.errors] == ["dangling.md"]


def test_an_unexpected_failure_is_that_files_error(tmp_path: Path, monkeypatch) -> None:
    import recommender.articles as articles

    feed_file(tmp_path, "a.md", "A", url="https://x.example/a")
    feed_file(tmp_path, "b.md", "B", url="https://x.example/boom")

    def canonical(url: str) -> str:
        if "boom" in url:
            raise KeyError("surprise")
        return url

    monkeypatch.setattr(articles, "canonical_url", canonical)
    feed_file(tmp_path, "c.md", "C", url="https://x.example/c")
    read_text = articles.read_text

    def reading(path: Path) -> str:  # a failure outside parsing: reading the file itself
        if path.name == "c.md":
            raise RecursionError("too deep")
        return read_text(path)

    monkeypatch.setattr(articles, "read_text", reading)
    result = load_articles(tmp_path)
    assert [a.title for a in result.articles] == ["A"]
    assert [(Path(e.path).name, e.reason) for e in result.errors] == [
        ("b.md", "unexpected failure while reading it (KeyError: 'surprise')"),
        ("c.md", "unexpected failure while reading it (RecursionError: too deep)")]


def test_article_text_from_stdin_fails_only_as_an_article_error(monkeypatch) -> None:
    import recommender.articles as articles
    from recommender.articles import article_from_text

    monkeypatch.setattr(articles, "canonical_url", lambda url: {}[url])
    with pytest.raises(ArticleError) as caught:
        article_from_text('---\ntitle: T\nwebUrl: "https://x.example/a"\n---\n', "<stdin>")
    assert str(caught.value) == ("unexpected failure while reading it "
                                 "(KeyError: 'https://x.example/a'), <stdin>.")


def test_error_summary_names_the_first_reasons() -> None:
    from recommender.articles import LoadResult

    errors = [ArticleError(f"{name}.md", "no title") for name in "abcde"]
    assert LoadResult([], errors[:1]).error_summary() == "1 unreadable file: a.md: no title"
    assert LoadResult([], errors).error_summary() == (
        "5 unreadable files: a.md: no title; b.md: no title; c.md: no title; and 2 more")
    assert LoadResult([], errors[:4]).error_summary().endswith("c.md: no title; and 1 more")
    assert LoadResult([], errors[:3]).error_summary().endswith("c.md: no title")
    assert LoadResult([], []).error_summary() == ""


@pytest.mark.parametrize(("text", "anchored"), [
    ("a: &x 1", True), ("&x [1]", True), ("a: [&x 1]", True), ("a: {b: &x 1}", True),
    ('{"a":&x 1}', True), ("a:\n  - &x 1", True), ("a:\t&x 1", True),
    ("a: Q&A", False), ("a: Johnson & Johnson", False), ("a: R&D", False), ("a: &", False),
])
def test_text_that_may_hold_an_anchor_goes_to_the_counting_composer(text: str,
                                                                   anchored: bool) -> None:
    from recommender import yamlsafe

    assert bool(yamlsafe._MAYBE_ANCHOR.search(text)) is anchored
