"""On the real feed (../shared/corpus): entries written as the feed writes them, and the
periodic job never loses an editor's entry. Skipped where ../shared is not beside the clone."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recommender.articles import article_from_fields, feed_entry, parse_front_matter, read_text
from recommender.build import build_index
from recommender.cli import app
from recommender.embedding import HashingEncoder
from recommender.feedyaml import render_items
from recommender.store import load_index
from recommender.writeback import find_block

pytestmark = pytest.mark.corpus


def curated_items(root: Path):
    """(file, entry fields, the entry's exact text) for every curated entry under ``root``."""
    for path in sorted(root.rglob("*.md")):
        if path.name == "README.md":
            continue
        text = read_text(path)
        entries = parse_front_matter(text, path).get("related") or []
        block = find_block(text)
        assert len(block.items) == len(entries), path
        for (_, start, end), fields in zip(block.items, entries, strict=True):
            yield path, fields, "".join(block.lines[start:end])


def test_written_entries_are_byte_identical_to_the_curated_ones(corpus: Path,
                                                                tmp_path: Path) -> None:
    """Every curated entry whose article the index holds from that same entry (not from the
    article's own file, nor from another list's entry of it) is rendered back, through the
    index record and the suggestion's entry, exactly as the curated text."""
    build_index([corpus], tmp_path / "ix", encoder=HashingEncoder())
    index = load_index(tmp_path / "ix")
    checked, identical, older_style = 0, 0, []
    for path, fields, text in curated_items(corpus):
        article = article_from_fields(fields)
        row = next(index.row_by_url[u] for u in article.urls if u in index.row_by_url)
        record = index.records[row]
        if record["kind"] != "stub" or feed_entry(record) != article.entry():
            continue
        checked += 1
        written = "\n".join(render_items([feed_entry(record)])) + "\n"
        if written == text:
            identical += 1
        else:
            # The feed's files of Dec 2019 - Jan 2020 wrote entries' URLs unquoted; every
            # later entry quotes them, as the product does.
            assert written.replace('"', "") == text.replace('"', ""), (path, text, written)
            assert "\n    webUrl: https://" in text
            older_style.append(path.name)
    assert checked >= 900
    assert identical == checked - len(older_style) and len(older_style) <= 1


@pytest.mark.campaign
def test_the_periodic_job_and_suggest_write_lose_no_curated_entry(corpus: Path,
                                                                   tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    shutil.copytree(corpus, archive)
    (archive / "README.md").unlink()
    before = dict(_items_by_file(archive))
    runner = CliRunner()

    def run(*args: object) -> str:
        result = runner.invoke(app, [str(a) for a in args])
        assert result.exit_code == 0, result.output
        return result.stdout

    index = tmp_path / "ix"
    run("build", archive, "--index", index, "--model", "hashing")
    run("refresh", archive, "--index", index, "--since", "30d", "--write")
    listed = [p for p, text in before.items() if text]
    out = run("suggest", *listed, "--index", index, "--write")
    assert out.endswith("; 1,596 curated entries kept.\n")
    run("refresh", archive, "--index", index, "--since", "365d", "--write", "-k", "3")
    for path, text in before.items():
        after = "".join(t for _, t in _items_by_file(archive, path))
        assert after.startswith(text), path  # every curated item first, byte for byte
    assert sum(len(parse_front_matter(read_text(p)).get("related") or []) for p in before) \
        >= 1596


def _items_by_file(root: Path, only: Path | None = None):
    """(file, the text of its curated items joined) per file, in order."""
    paths = [only] if only else sorted(p for p in root.rglob("*.md"))
    for path in paths:
        text = read_text(path)
        block = find_block(text)
        yield path, "".join("".join(block.lines[s:e]) for _, s, e in block.items)
