"""Suggest and write: editors' entries stay, the product's own are kept current."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recommender.articles import parse_front_matter
from recommender.errors import RecommenderError
from recommender.ledger import Ledger, fingerprint
from recommender.ranking import Ranker, make_queries
from recommender.related import write_related, write_suggestions

FILE = """---
title: "Harbor city bans drones"
webUrl: "https://one.example/drones"

related:
  - title: "Curated A"
    webUrl: "https://a.example/1"
  - title: "Curated B"
    webUrl: "https://b.example/2?utm_source=rss"

secured: "abc=="
---
"""


def entry(name: str, url: str | None = None) -> dict:
    return {"title": f"Suggested {name}", "webUrl": url or f"https://{name}.example/x",
            "type": "article"}


def titles(path: Path) -> list[str]:
    return [e["title"] for e in parse_front_matter(path.read_text())["related"]]


@pytest.fixture
def article(tmp_path: Path) -> Path:
    path = tmp_path / "a.md"
    path.write_text(FILE)
    return path


def test_curated_entries_stay_byte_for_byte_and_new_ones_follow(article: Path) -> None:
    update = write_related(article, [entry("x"), entry("y")], k=4)
    text = article.read_text()
    assert text == FILE.replace(
        '?utm_source=rss"\n',
        '?utm_source=rss"\n  - title: "Suggested x"\n    webUrl: "https://x.example/x"\n'
        '    type: article\n  - title: "Suggested y"\n    webUrl: "https://y.example/x"\n'
        '    type: article\n')
    assert (update.changed, update.curated_kept, update.added, update.removed) == (
        True, 2, ["https://x.example/x", "https://y.example/x"], [])


def test_k_counts_curated_entries_and_they_stay_beyond_it(article: Path) -> None:
    write_related(article, [entry("x"), entry("y")], k=3)
    assert titles(article) == ["Curated A", "Curated B", "Suggested x"]
    write_related(article, [entry("z")], k=1)
    assert titles(article) == ["Curated A", "Curated B"]  # the product's own made way


def test_an_article_already_listed_is_not_added_again(article: Path) -> None:
    write_related(article, [entry("b", "https://www.b.example/2/"), entry("x")], k=5)
    assert titles(article) == ["Curated A", "Curated B", "Suggested x"]


def test_a_later_run_replaces_only_the_products_own_entries(article: Path) -> None:
    write_related(article, [entry("x"), entry("y")], k=5)
    update = write_related(article, [entry("y"), entry("z")], k=5)
    assert titles(article) == ["Curated A", "Curated B", "Suggested y", "Suggested z"]
    assert (update.added, update.removed, update.updated) == (
        ["https://z.example/x"], ["https://x.example/x"], [])
    again = write_related(article, [entry("y"), entry("z")], k=5)
    assert not again.changed and again.diff == ""


def test_summaries_name_entries_by_the_webUrl_people_know(article: Path) -> None:
    raw = "https://www.X.example/story/?utm_source=rss"  # canonical: https://x.example/story
    update = write_related(article, [entry("x", raw)], k=5)
    assert update.added == [raw]
    assert write_related(article, [], k=5).removed == [raw]


def test_changed_fields_of_an_own_entry_count_as_updated(article: Path) -> None:
    write_related(article, [entry("x")], k=5)
    update = write_related(article, [{**entry("x"), "quality": 50}], k=5)
    assert (update.added, update.updated, update.removed) == ([], ["https://x.example/x"], [])


def test_an_entry_an_editor_edited_becomes_theirs(article: Path) -> None:
    write_related(article, [entry("x"), entry("y")], k=5)
    article.write_text(article.read_text().replace("Suggested x", "Suggested x (edited)"))
    write_related(article, [entry("z")], k=5)
    assert titles(article) == ["Curated A", "Curated B", "Suggested x (edited)", "Suggested z"]


def test_entries_an_editor_moved_among_theirs_are_still_the_products(article: Path) -> None:
    write_related(article, [entry("x")], k=5)
    text = article.read_text()
    own = '  - title: "Suggested x"\n    webUrl: "https://x.example/x"\n    type: article\n'
    moved = text.replace(own, "").replace('  - title: "Curated B"', own + '  - title: "Curated B"')
    article.write_text(moved)
    write_related(article, [entry("x")], k=5)
    assert article.read_text() == moved  # same own entries: nothing to rewrite
    write_related(article, [entry("y")], k=5)
    assert titles(article) == ["Curated A", "Curated B", "Suggested y"]


def test_replace_rewrites_the_whole_list(article: Path) -> None:
    update = write_related(article, [entry("x")], replace=True)
    assert titles(article) == ["Suggested x"]
    assert (update.curated_kept, update.curated_removed) == (0, 2)


def test_dry_run_writes_nothing_and_records_nothing(article: Path, ledger_file: Path) -> None:
    update = write_related(article, [entry("x")], k=5, dry_run=True)
    assert update.changed and update.diff.startswith(f"--- {article}\n+++ {article}\n")
    assert '+  - title: "Suggested x"' in update.diff
    assert article.read_text() == FILE and not ledger_file.exists()


def test_the_ledger_records_fingerprints_per_file(article: Path, ledger_file: Path) -> None:
    write_related(article, [entry("x")], k=5)
    lines = [json.loads(line) for line in ledger_file.read_text().splitlines()]
    assert [line["file"] for line in lines] == [str(article.resolve())]
    assert lines[0]["entries"] == [fingerprint(entry("x"))]
    assert Ledger(ledger_file).own(article) == {fingerprint(entry("x"))}


def test_a_cut_last_line_of_the_ledger_is_ignored(article: Path, ledger_file: Path) -> None:
    write_related(article, [entry("x")], k=5)
    with open(ledger_file, "a") as handle:
        handle.write('{"file": "/some/where.md", "entr')  # a crash mid-append
    assert Ledger(ledger_file).own(article) == {fingerprint(entry("x"))}


def test_without_the_ledger_every_entry_is_an_editors(article: Path, tmp_path: Path) -> None:
    write_related(article, [entry("x")], k=5)
    write_related(article, [entry("y")], k=5, ledger=Ledger(tmp_path / "other.jsonl"))
    assert titles(article) == ["Curated A", "Curated B", "Suggested x", "Suggested y"]


def test_writing_through_a_link_keeps_the_link(article: Path, tmp_path: Path) -> None:
    link = tmp_path / "link.md"
    link.symlink_to(article.name)
    write_related(link, [entry("x")], k=5)
    assert link.is_symlink() and titles(article)[-1] == "Suggested x"
    write_related(article, [entry("y")], k=5)  # the same file, by its own name
    assert titles(article) == ["Curated A", "Curated B", "Suggested y"]


def test_a_file_an_editor_saved_meanwhile_is_not_overwritten(article: Path, monkeypatch) -> None:
    from recommender import writeback

    real = writeback.read_text

    def edited_in_between(path: Path) -> str:
        article.write_text(FILE.replace("Curated A", "Curated A, edited"))
        return real(path)

    monkeypatch.setattr(writeback, "read_text", edited_in_between)
    with pytest.raises(RecommenderError, match="changed while suggestions were computed"):
        write_related(article, [entry("x")], k=5)
    assert "Curated A, edited" in article.read_text()


def test_values_that_cannot_be_written_fail_this_file_only(article: Path) -> None:
    with pytest.raises(RecommenderError, match="cannot update its related list"):
        write_related(article, [{"title": "T", "quality": float("nan")}], k=5)
    assert article.read_text() == FILE


def test_write_suggestions_fills_k_past_curated_articles(built, archive: Path) -> None:
    a1 = archive / "a1.md"  # lists the council story and the protest story
    before = a1.read_text()
    ranker = Ranker(built)
    queries = make_queries([q for q in _articles(archive) if q.path == str(a1)],
                           built.query_encoder()[0])
    updates = write_suggestions(ranker, queries, k=4)
    after = a1.read_text()
    assert before[before.index("related:"):before.index("\n---")] in after
    related = parse_front_matter(after)["related"]
    assert len(related) == 4 and updates[0].curated_kept == 2
    urls = [e["webUrl"] for e in related]
    assert "https://www.two.example/park-drones/" not in urls[2:]  # listed as ?utm_source=rss
    assert len(updates[0].suggestions) == 2


def test_write_suggestions_goes_on_past_a_file_it_cannot_change(built, archive: Path) -> None:
    bad = archive / "c1.md"
    flow = "type: article\nrelated: [\n  {title: x}]"  # a flow list over two lines
    bad.write_text(bad.read_text().replace("type: article", flow))
    articles = [a for a in _articles(archive) if a.path in (str(bad), str(archive / "c2.md"))]
    queries = make_queries(articles, built.query_encoder()[0])
    updates = write_suggestions(Ranker(built), queries, k=2)
    by_name = {Path(u.path).name: u for u in updates}
    assert "flow style" in str(by_name["c1.md"].error) and not by_name["c1.md"].changed
    assert by_name["c2.md"].changed and by_name["c2.md"].error is None


def _articles(archive: Path) -> list:
    from recommender.articles import load_articles

    return load_articles(archive).articles


def test_an_unwritable_ledger_stops_the_run_before_any_file_changes(article: Path) -> None:
    ledger = Ledger(article / "written.jsonl")  # its folder would be a file: cannot exist
    with pytest.raises(RecommenderError, match="ledger"):
        write_related(article, [entry("x")], k=5, ledger=ledger)
    assert article.read_text() == FILE
    assert write_related(article, [entry("x")], k=5, dry_run=True, ledger=ledger).changed


@pytest.mark.parametrize(("related", "message"), [
    ('related: "not a list"', "related is not a list, {path}. Fix the file's related: key"),
    ("related: [\n  {title: a}]", "cannot change its related list (the related list is "
                                  "written in flow style over several lines), {path}. Fix "
                                  "the list's layout, or leave this file out"),
    ('related:\n  - title: "a long\n  - title in the quotes"',
     "cannot tell the related list's 1 entries apart in the text, {path}. Write each entry "
     "as a '- ' item, or leave this file out"),
])
def test_lists_that_cannot_be_changed_safely_say_why(tmp_path: Path, related: str,
                                                     message: str) -> None:
    path = tmp_path / "a.md"
    path.write_text(f'---\ntitle: "T"\n{related}\n---\n')
    before = path.read_text()
    with pytest.raises(RecommenderError) as caught:
        write_related(path, [entry("x")], k=5)
    assert str(caught.value) == message.format(path=path)
    assert path.read_text() == before


def test_an_unexpected_failure_is_this_files_error(article: Path) -> None:
    with pytest.raises(RecommenderError) as caught:
        write_related(article, [{"title": "T", "quality": float("nan")}], k=5)
    assert str(caught.value) == (
        f"cannot update its related list (quality is nan, which YAML cannot carry back as "
        f"read), {article}. The file is unchanged; fix it or leave it out")


def test_a_second_writer_of_one_file_waits_then_finds_the_first_ones_text(
        article: Path) -> None:
    import fcntl
    import threading

    outcome: list[object] = []

    def write() -> None:
        try:
            outcome.append(write_related(article, [entry("x")], k=5))
        except RecommenderError as exc:
            outcome.append(exc)

    with open(article, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another writer, in the middle of its write
        writer = threading.Thread(target=write)
        writer.start()
        writer.join(0.5)
        assert writer.is_alive() and outcome == []  # it waits for its turn
        article.write_text(FILE.replace("Curated A", "Curated A, by the other writer"))
    writer.join(10)
    assert "changed while suggestions were computed" in str(outcome[0])
    assert "by the other writer" in article.read_text()
