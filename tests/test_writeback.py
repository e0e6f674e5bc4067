"""The related block in a file's text: rendering in the feed's style, splicing, atomic writes."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import yaml

from recommender.articles import feed_entry, parse_front_matter
from recommender.errors import RecommenderError
from recommender.feedyaml import quoted, render_items, render_related, scalar
from recommender.writeback import (
    STALE_TEMP_SECONDS,
    atomic_write,
    check_rewrite,
    find_block,
    splice,
    unified_diff,
)

ENTRY = {
    "title": 'A "quoted" title: with colon',
    "excerpt": "Line with --- dashes and ü",
    "publishedDateTime": "2026-01-11T08:00:00Z",
    "webUrl": "https://two.example/park-drones",
    "type": "article",
    "provider": {"name": "Two News", "domain": "two.example"},
    "quality": 47,
    "images": [{"url": "https://img.two.example/a.jpg", "width": 800, "height": 450,
                "isCached": True}],
}
# The entry exactly as the feed writes it (keys, order, quoting, indentation).
ENTRY_TEXT = """\
  - title: "A \\"quoted\\" title: with colon"
    excerpt: "Line with --- dashes and ü"
    publishedDateTime: 2026-01-11T08:00:00Z
    webUrl: "https://two.example/park-drones"
    type: article
    provider:
      name: Two News
      domain: two.example
    quality: 47
    images:
      - url: "https://img.two.example/a.jpg"
        width: 800
        height: 450
        isCached: true
"""

FILE = """---
category: news
title: "Harbor city bans drones"
publishedDateTime: 2026-01-10T09:00:00Z
webUrl: "https://one.example/drones"

provider:
  name: One
  domain: one.example

related:
  # picked by the desk
  - title: "Curated one"
    webUrl: "https://c1.example/x"
  - title: "Product one"
    webUrl: "https://p1.example/x"
  - title: "Curated two"
    webUrl: "https://c2.example/x"
    provider:
      name: C2
# a comment at column 0 after the list
secured: "abc=="
---
Body --- text
"""


def test_an_entry_renders_byte_for_byte_as_the_feed_writes_it() -> None:
    assert "\n".join(render_items([ENTRY])) + "\n" == ENTRY_TEXT
    assert render_related([ENTRY]) == "related:\n" + ENTRY_TEXT
    assert render_related([]) == "related: []\n"
    parsed = yaml.safe_load(render_related([ENTRY]))["related"][0]
    assert parsed["title"] == ENTRY["title"] and parsed["images"] == ENTRY["images"]


@pytest.mark.parametrize(("value", "written"), [
    ("9to5Mac", "9to5Mac"),                   # names the feed writes plain
    ("Science | AAAS", "Science | AAAS"),
    ("YAHOO!News", "YAHOO!News"),
    ("El País in English", "El País in English"),
    ("24/7 Wall St", "24/7 Wall St"),
    ("12news.com", "12news.com"),
    ("yes", '"yes"'),                         # would read back as a boolean
    ("2024", '"2024"'),                       # as a number
    ("Foo: Bar", '"Foo: Bar"'),               # as a mapping
    ("- dash", '"- dash"'),                   # as a list
    ("#tag", '"#tag"'),                       # as a comment
    ("null", '"null"'),
    ("a\nb", '"a\\nb"'),                       # a line break
    ("x\x7f", '"x\\u007f"'),                    # DEL: unprintable for YAML
    (" padded", '" padded"'),
    ("", '""'),
    ("a\u2028b", '"a\\u2028b"'),               # a line separator: YAML would break the line
    ("bom\ufeff", '"bom\\ufeff"'),
    ("tab\there", '"tab\\there"'),
])
def test_names_are_plain_unless_yaml_needs_quotes(value: str, written: str) -> None:
    assert scalar(value, "name") == written
    assert yaml.safe_load(f"name: {written}\n") == {"name": value}


def test_titles_and_urls_are_always_quoted_and_escaped() -> None:
    assert scalar("Plain", "title") == '"Plain"'
    assert scalar("https://x.example/a?b=c", "webUrl") == '"https://x.example/a?b=c"'
    assert quoted('say "hi"\\\n\u2029') == '"say \\"hi\\"\\\\\\n\\u2029"'
    assert scalar(True) == "true" and scalar(47) == "47" and scalar(0.5) == "0.5"


def test_values_that_would_not_read_back_are_refused() -> None:
    with pytest.raises(ValueError, match=r"^quality is nan, which YAML cannot carry back"):
        scalar(float("nan"), "quality")
    with pytest.raises(ValueError, match=r"^a value is inf, which YAML cannot carry back"):
        scalar(float("inf"))
    with pytest.raises(ValueError, match=r"^width is NoneType, not text or a number$"):
        scalar(None, "width")
    with pytest.raises(ValueError, match=r"^a value is list, not text or a number$"):
        render_items([{"images": [[1, 2]]}])


def test_every_kind_of_value_renders_and_reads_back() -> None:
    from datetime import date, datetime, timezone

    entry = {"isCached": False, "flag": True, "when": datetime(2026, 1, 2, 3, 4, 5,
                                                                tzinfo=timezone.utc),
             "day": date(2026, 1, 2), "n": 3, "x": 0.25, "tags": ["a", "b"]}
    lines = render_items([entry])
    assert lines == ["  - isCached: false", "    flag: true", "    when: 2026-01-02T03:04:05Z",
                     "    day: 2026-01-02", "    n: 3", "    x: 0.25", "    tags:",
                     "      - a", "      - b"]
    assert yaml.safe_load("\n".join(lines))[0] == entry


def test_feed_entry_keeps_the_feeds_keys_order_and_utc_dates() -> None:
    record = {"id": "https://x.example/a", "kind": "stub", "topics": ["AI"],
              "images": [{"url": "u", "width": 1, "height": 2, "title": None,
                          "attribution": None, "isCached": True, "nested": [[1, 2]]}],
              "quality": float("nan"), "provider": {"name": "P", "domain": "p.example",
                                                    "extra": 1},
              "type": "article", "webUrl": "https://x.example/a",
              "publishedDateTime": "2021-03-11T07:38:00-08:00", "title": "T", "excerpt": ""}
    entry = feed_entry(record)
    assert list(entry) == ["title", "publishedDateTime", "webUrl", "type", "provider", "images"]
    assert entry["publishedDateTime"] == "2021-03-11T15:38:00Z"
    assert entry["images"] == [{"url": "u", "width": 1, "height": 2, "isCached": True}]
    assert entry["provider"] == {"name": "P", "domain": "p.example"}


def test_find_block_splits_items_with_their_comments() -> None:
    block = find_block(FILE)
    assert block.dash == 2 and len(block.items) == 3
    lines = block.lines
    lead, start, _ = block.items[0]
    assert lines[lead].strip() == "# picked by the desk" and "Curated one" in lines[start]
    assert "".join(lines[block.items[2][1]:block.items[2][2]]).endswith("      name: C2\n")
    assert lines[block.last].startswith("# a comment at column 0")


def test_splice_keeps_chosen_items_and_every_other_byte() -> None:
    new = splice(FILE, [0, 2], [{"title": "Fresh", "webUrl": "https://f.example/x"}])
    assert new == FILE.replace(
        '  - title: "Product one"\n    webUrl: "https://p1.example/x"\n', "").replace(
        "      name: C2\n",
        '      name: C2\n  - title: "Fresh"\n    webUrl: "https://f.example/x"\n')
    check_rewrite(FILE, new, Path("f.md"), [
        {"title": "Curated one", "webUrl": "https://c1.example/x"},
        {"title": "Curated two", "webUrl": "https://c2.example/x", "provider": {"name": "C2"}},
        {"title": "Fresh", "webUrl": "https://f.example/x"}])


def test_splice_keeps_the_comment_above_a_dropped_item() -> None:
    new = splice(FILE, [1, 2], [])
    assert "  # picked by the desk\n  - title: \"Product one\"" in new
    assert "Curated one" not in new


def test_splice_of_nothing_leaves_an_empty_list() -> None:
    text = '---\ntitle: T\nrelated:\n  - title: "Mine"\n---\n'
    assert splice(text, [], []) == "---\ntitle: T\nrelated: []\n---\n"
    assert splice("---\ntitle: T\nrelated: []\n---\n", [], []) == \
        "---\ntitle: T\nrelated: []\n---\n"
    assert splice("---\ntitle: T\n---\n", [], []) == "---\ntitle: T\n---\n"


def test_a_new_list_goes_before_secured_as_in_every_feed_file() -> None:
    text = ('---\ntitle: "T"\n\nimages:\n  - url: "u"\n    width: 1\n\n'
            'secured: "abc=="\n---\n')
    new = splice(text, [], [{"title": "N"}])
    assert new == ('---\ntitle: "T"\n\nimages:\n  - url: "u"\n    width: 1\n\n'
                   'related:\n  - title: "N"\n\nsecured: "abc=="\n---\n')


def test_a_new_list_without_secured_goes_last_in_the_files_own_spacing() -> None:
    compact = "---\ntitle: T\nprovider:\n  name: P\n---\nBody\n--- not a fence\n"
    assert splice(compact, [], [{"title": "N"}]) == (
        '---\ntitle: T\nprovider:\n  name: P\nrelated:\n  - title: "N"\n---\n'
        "Body\n--- not a fence\n")
    spaced = "---\ntitle: T\n\nprovider:\n  name: P\n---\n"
    assert splice(spaced, [], [{"title": "N"}]) == (
        '---\ntitle: T\n\nprovider:\n  name: P\n\nrelated:\n  - title: "N"\n---\n')


def test_unindented_lists_and_crlf_keep_their_style() -> None:
    text = ("---\r\ntitle: T\r\nrelated:\r\n- title: old\r\n  webUrl: x\r\n"
            "topics:\r\n- AI\r\n---\r\n")
    new = splice(text, [0], [{"title": "New"}])
    assert new == ('---\r\ntitle: T\r\nrelated:\r\n- title: old\r\n  webUrl: x\r\n'
                   '- title: "New"\r\ntopics:\r\n- AI\r\n---\r\n')


def test_flow_lists_over_several_lines_are_not_guessed_at() -> None:
    text = '---\ntitle: T\nrelated: [\n  {title: a}]\n---\n'
    with pytest.raises(ValueError, match="flow style"):
        splice(text, [], [{"title": "N"}])


def test_check_refuses_a_rewrite_that_changes_another_field() -> None:
    # A quoted excerpt whose second line starts with "related:" is not the related key.
    text = '---\ntitle: T\nexcerpt: "first line\nrelated: still the excerpt"\n---\n'
    new = splice(text, [], [{"title": "N"}])
    with pytest.raises(RecommenderError, match="refusing to write"):
        check_rewrite(text, new, Path("a.md"), [{"title": "N"}])
    with pytest.raises(RecommenderError, match="refusing to write"):
        check_rewrite(FILE, FILE, Path("a.md"), [])  # related would not be as intended


def test_atomic_write_keeps_mode_follows_links_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "real.md"
    target.write_text("old")
    os.chmod(target, 0o640)
    link = tmp_path / "link.md"
    link.symlink_to(target.name)
    atomic_write(link, "new")
    assert link.is_symlink() and target.read_text() == "new"
    assert oct(target.stat().st_mode & 0o777) == "0o640"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.md", "real.md"]


def test_atomic_write_handles_names_at_the_length_limit(tmp_path: Path) -> None:
    path = tmp_path / ("n" * 250 + ".md")
    path.write_text("old")
    atomic_write(path, "new")
    assert path.read_text() == "new"


def test_a_failed_write_leaves_the_file_and_no_temporary(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "a.md"
    path.write_text("old")

    def crash(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        atomic_write(path, "new")
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.md"]


def test_leftover_temporaries_of_a_killed_run_are_cleaned(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text("old")
    stale, fresh = tmp_path / ".recommender-old.tmp", tmp_path / ".recommender-new.tmp"
    stale.write_text("x")
    fresh.write_text("y")  # another run's file, being written now: left alone
    past = time.time() - STALE_TEMP_SECONDS - 5
    os.utime(stale, (past, past))
    atomic_write(path, "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".recommender-new.tmp", "a.md"]


def test_diff_is_labelled_with_the_path_the_user_gave() -> None:
    diff = unified_diff("/tmp/x.md", "a\n", "b\n")
    assert diff.startswith("--- /tmp/x.md\n+++ /tmp/x.md\n")


def test_parse_back_of_rendered_front_matter_is_exact() -> None:
    new = splice(FILE, [0, 1, 2], [ENTRY])
    related = parse_front_matter(new)["related"]
    assert related[3]["publishedDateTime"].isoformat() == "2026-01-11T08:00:00+00:00"
    assert related[3]["title"] == ENTRY["title"]


def test_a_new_list_in_a_compact_file_with_secured_adds_no_blank_lines() -> None:
    text = '---\ntitle: "T"\nsecured: "abc=="\n---\n'
    assert splice(text, [], [{"title": "N"}]) == \
        '---\ntitle: "T"\nrelated:\n  - title: "N"\nsecured: "abc=="\n---\n'
    spaced = '---\ntitle: "T"\n\ntopics:\n  - AI\nsecured: "abc=="\n---\n'
    assert splice(spaced, [], [{"title": "N"}]) == (
        '---\ntitle: "T"\n\ntopics:\n  - AI\n\nrelated:\n  - title: "N"\n\n'
        'secured: "abc=="\n---\n')


def test_blank_and_comment_lines_between_items_go_with_the_next_item() -> None:
    text = ('---\nrelated:\n  - title: "A"\n\n  # about B\n  - title: "B"\n'
            '  - title: "C"\n---\n')
    block = find_block(text)
    assert [(lead, start, end) for lead, start, end in block.items] == \
        [(1, 1, 2), (2, 4, 5), (5, 5, 6)]
    assert splice(text, [0, 2], []) == \
        '---\nrelated:\n  - title: "A"\n  # about B\n  - title: "C"\n---\n'


def test_what_cannot_be_spliced_says_why() -> None:
    with pytest.raises(ValueError, match=r"^the related list is not a list of entries$"):
        find_block("---\nrelated:\n  title: x\n---\n")
    with pytest.raises(ValueError, match=r"^the related list is written in flow style over "
                                         r"several lines$"):
        splice("---\nrelated: [\n  {title: a}]\n---\n", [], [])


def test_a_refused_rewrite_names_the_file_and_what_to_do() -> None:
    with pytest.raises(RecommenderError) as caught:
        check_rewrite(FILE, FILE, Path("feed/a.md"), [])
    assert str(caught.value) == ("refusing to write: the rewritten front matter would not read "
                                 "back as intended, feed/a.md. The file is unchanged; please "
                                 "report it")


def test_the_temporary_file_sits_beside_the_article_under_a_known_name(
        tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "a.md"
    path.write_text("old")
    seen = []
    real = os.replace

    def spy(source: str, target: object) -> None:
        seen.append(Path(source))
        real(source, target)

    monkeypatch.setattr(os, "replace", spy)
    atomic_write(path, "new ü")
    # The same folder (a rename cannot cross file systems), a name the cleanup recognises.
    assert seen[0].parent == tmp_path
    assert seen[0].name.startswith(".recommender-") and seen[0].name.endswith(".tmp")
    assert path.read_bytes() == "new ü".encode()
