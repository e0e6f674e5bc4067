from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from recommender.articles import parse_front_matter
from recommender.errors import RecommenderError
from recommender.writeback import render_related, replace_related, write_related

ENTRIES = [{
    "title": 'A "quoted" title: with colon',
    "excerpt": "Line with --- dashes and ü",
    "publishedDateTime": "2026-01-11T08:00:00Z",
    "webUrl": "https://two.example/park-drones",
    "type": "article",
    "provider": {"name": "Two News", "domain": "two.example"},
    "quality": 47,
    "images": [{"url": "https://img.two.example/a.jpg", "width": 800, "height": 450,
                "isCached": True}],
}]

ORIGINAL = """---
category: news
title: "Harbor city bans drones"
publishedDateTime: 2026-01-10T09:00:00Z
webUrl: "https://one.example/drones"

provider:
  name: One
  domain: one.example

related:
  - title: "Old entry"
    webUrl: "https://old.example/x"

secured: "abc=="
---
"""


def test_rendered_block_parses_back_to_the_entries() -> None:
    parsed = yaml.safe_load(render_related(ENTRIES))["related"]
    assert parsed[0]["title"] == ENTRIES[0]["title"]
    assert parsed[0]["images"] == ENTRIES[0]["images"]
    assert parsed[0]["provider"] == ENTRIES[0]["provider"]
    assert parsed[0]["publishedDateTime"].isoformat() == "2026-01-11T08:00:00+00:00"


def test_only_the_related_block_changes() -> None:
    new = replace_related(ORIGINAL, ENTRIES)
    before, after = ORIGINAL.split("related:")[0], new.split("related:")[0]
    assert before == after
    assert new.endswith('\nsecured: "abc=="\n---\n')
    assert "\n\nsecured:" in new  # the blank line before the next key stays
    assert "Old entry" not in new
    fields = parse_front_matter(new)
    assert fields["related"][0]["webUrl"] == "https://two.example/park-drones"
    assert {k: v for k, v in fields.items() if k != "related"} == {
        k: v for k, v in parse_front_matter(ORIGINAL).items() if k != "related"}


def test_related_is_added_when_missing_and_body_kept() -> None:
    text = '---\ntitle: "T"\nprovider:\n  name: P\n---\nBody text\n--- not a fence\n'
    new = replace_related(text, ENTRIES)
    assert new.startswith('---\ntitle: "T"\nprovider:\n  name: P\n\nrelated:\n')
    assert new.endswith("---\nBody text\n--- not a fence\n")


def test_unindented_lists_and_crlf() -> None:
    text = ('---\r\ntitle: T\r\nrelated:\r\n- title: old\r\n  webUrl: x\r\n'
            'topics:\r\n- AI\r\n---\r\n')
    new = replace_related(text, ENTRIES)
    assert "\n" not in new.replace("\r\n", "")
    assert new.endswith("topics:\r\n- AI\r\n---\r\n")
    assert parse_front_matter(new)["topics"] == ["AI"]


def test_write_is_idempotent_and_dry_run_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text(ORIGINAL)
    os.chmod(path, 0o640)
    diff = write_related(path, ENTRIES, dry_run=True)
    assert "+related:" not in diff and "-  - title: \"Old entry\"" in diff
    assert path.read_text() == ORIGINAL
    assert write_related(path, ENTRIES) == diff
    written = path.read_bytes()
    assert write_related(path, ENTRIES) == ""
    assert path.read_bytes() == written
    assert oct(path.stat().st_mode & 0o777) == "0o640"
    assert [p.name for p in tmp_path.iterdir()] == ["a.md"]  # no temporary file left


def test_failed_write_leaves_the_file_intact(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "a.md"
    path.write_text(ORIGINAL)

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        write_related(path, ENTRIES)
    assert path.read_text() == ORIGINAL
    assert [p.name for p in tmp_path.iterdir()] == ["a.md"]


def test_refuses_a_rewrite_that_would_change_other_fields(tmp_path: Path) -> None:
    # A quoted excerpt whose second line starts with "related:" is not the related key;
    # the line-based edit would cut into it, and the parse-back check refuses.
    text = '---\ntitle: T\nexcerpt: "first line\nrelated: still the excerpt"\n---\n'
    path = tmp_path / "a.md"
    path.write_text(text)
    with pytest.raises(RecommenderError, match="refusing to write"):
        write_related(path, ENTRIES)
    assert path.read_text() == text
