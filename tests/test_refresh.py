from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from conftest import feed_file, story_archive
from typer.testing import CliRunner

from recommender import writeback
from recommender.articles import load_articles, parse_front_matter
from recommender.build import build_index
from recommender.cli import app
from recommender.errors import RecommenderError
from recommender.refresh import merge_curated, refresh, window_start
from recommender.writeback import append_related

NEWEST = datetime(2026, 1, 12, 12, 0, tzinfo=timezone.utc)


def test_window_spans_dates_and_zones() -> None:
    assert window_start("7d", NEWEST) == datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)
    assert window_start("48h", NEWEST) == datetime(2026, 1, 10, 12, 0, tzinfo=timezone.utc)
    assert window_start("2w", NEWEST) == datetime(2025, 12, 29, 12, 0, tzinfo=timezone.utc)
    now = datetime(2026, 2, 1, tzinfo=timezone.utc)
    assert window_start("1d", NEWEST, now, "now") == datetime(2026, 1, 31, tzinfo=timezone.utc)
    assert window_start("2026-01-10", NEWEST) == datetime(2026, 1, 10, tzinfo=timezone.utc)
    assert window_start("2026-01-10T00:00:00+02:00", NEWEST) == datetime(
        2026, 1, 9, 22, 0, tzinfo=timezone.utc)
    with pytest.raises(RecommenderError, match="cannot read --since"):
        window_start("last week", NEWEST)


def _archive(folder: Path) -> Path:
    story_archive(folder)
    # The newest article is z2. A 13 h window starts at 2026-01-11T23:00Z; z1 is published
    # exactly then (01:00 local time at +02:00, a day later on the calendar) so it is in,
    # z0 a second earlier so it is out.
    feed_file(folder, "z0.md", "Park drone pilots meet council", "Drone pilots ask the "
              "harbor council to reconsider.", "2026-01-12T00:59:59+02:00",
              "https://nine.example/pilots", "Nine")
    feed_file(folder, "z1.md", "Harbor drone ban faces court test", "Drone makers sue the "
              "harbor council over the park ban.", "2026-01-12T01:00:00+02:00",
              "https://seven.example/drone-court", "Seven")
    feed_file(folder, "z2.md", "Solar fab hires first workers", "The desert chip fab hires.",
              "2026-01-12T12:00:00Z", "https://eight.example/fab-hires", "Eight")
    return folder


@pytest.fixture
def refreshable(tmp_path: Path, encoder):
    archive = _archive(tmp_path / "archive")
    build_index([archive], tmp_path / "ix", encoder=encoder)
    return archive, tmp_path / "ix"


def test_selects_the_window_relative_to_the_newest_article(refreshable, encoder) -> None:
    archive, index = refreshable
    result = refresh([archive], index, since="13h", k=3, encoder=encoder)
    assert sorted(Path(a.path).name for a in result.articles) == ["z1.md", "z2.md"]
    assert result.summary["considered"] == 2 and result.summary["changed"] == 2
    result = refresh([archive], index, since="13h", k=3, encoder=encoder,
                     now=datetime(2030, 1, 1, tzinfo=timezone.utc), relative_to="now")
    assert result.articles == []


def test_write_then_nothing_changes_on_the_second_run(refreshable, encoder) -> None:
    archive, index = refreshable
    first = refresh([archive], index, since="3d", k=3, write=True, encoder=encoder)
    assert first.summary["changed"] == first.summary["considered"] > 0
    snapshot = {p: p.read_bytes() for p in archive.glob("*.md")}
    second = refresh([archive], index, since="3d", k=3, write=True, encoder=encoder)
    assert second.summary["changed"] == 0 and second.summary["entries_added"] == 0
    assert {p: p.read_bytes() for p in archive.glob("*.md")} == snapshot
    related = parse_front_matter((archive / "z1.md").read_text())["related"]
    assert "Harbor city bans delivery drones over parks" in [e["title"] for e in related]


def test_dry_run_writes_nothing(refreshable, encoder) -> None:
    archive, index = refreshable
    snapshot = {p: p.read_bytes() for p in archive.glob("*.md")}
    result = refresh([archive], index, since="3d", k=3, encoder=encoder)
    assert all(a.diff.startswith("--- a/") for a in result.articles if a.changed)
    assert {p: p.read_bytes() for p in archive.glob("*.md")} == snapshot


def test_keep_curated_appends_and_keeps_existing_bytes(refreshable, encoder) -> None:
    archive, index = refreshable
    a1 = archive / "a1.md"
    before = a1.read_text()
    refresh([archive], index, since="2026-01-10", k=4, write=True, keep_curated=True,
            encoder=encoder)
    after = a1.read_text()
    block = before[before.index("related:"):before.rindex("---")]
    assert block in after  # the curated entries, byte for byte, in their order
    entries = parse_front_matter(after)["related"]
    assert [e["title"] for e in entries[:2]] == ["Council vote grounds park drones",
                                                 "Drone makers protest harbor park ban"]
    assert len(entries) == 4
    urls = [e["webUrl"].split("?")[0].rstrip("/").replace("www.", "") for e in entries]
    assert len(set(urls)) == 4  # the curated council story is not added again
    again = refresh([archive], index, since="2026-01-10", k=4, write=True, keep_curated=True,
                    encoder=encoder)
    assert again.summary["changed"] == 0 and a1.read_text() == after


def test_merge_curated_semantics() -> None:
    existing = [{"title": "A", "webUrl": "https://a.example/1"},
                {"title": "B", "webUrl": "https://b.example/2?utm_source=x"}]
    suggested = [{"title": "B again", "webUrl": "https://www.b.example/2/"},
                 {"title": "C", "webUrl": "https://c.example/3"},
                 {"title": "D", "webUrl": "https://d.example/4"}]
    assert [e["title"] for e in merge_curated(existing, suggested, 3)] == ["A", "B", "C"]
    assert merge_curated(existing, suggested, 2) == existing
    assert [e["title"] for e in merge_curated([], suggested, 5)] == ["B again", "C", "D"]


def test_append_keeps_unindented_list_style() -> None:
    text = "---\ntitle: T\nrelated:\n- title: old\n  webUrl: x\ntopics:\n- AI\n---\n"
    new = append_related(text, [{"title": "New", "webUrl": "https://n.example"}])
    assert new.startswith("---\ntitle: T\nrelated:\n- title: old\n  webUrl: x\n- title: ")
    assert parse_front_matter(new)["related"][1]["title"] == "New"
    assert new.endswith("topics:\n- AI\n---\n")


def test_interrupted_refresh_leaves_every_file_whole(refreshable, encoder, monkeypatch,
                                                     tmp_path) -> None:
    archive, index = refreshable
    expected_dir = tmp_path / "expected"
    shutil.copytree(archive, expected_dir)
    refresh([expected_dir], index, since="3d", k=3, write=True, encoder=encoder)
    before = {p.name: p.read_bytes() for p in archive.glob("*.md")}
    calls = {"n": 0}
    real = writeback.atomic_write

    def interrupt_second(path, text):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        real(path, text)

    monkeypatch.setattr(writeback, "atomic_write", interrupt_second)
    with pytest.raises(KeyboardInterrupt):
        refresh([archive], index, since="3d", k=3, write=True, encoder=encoder)
    assert load_articles(archive).errors == []
    states = [(p.read_bytes() == before[p.name], p.read_bytes() ==
               (expected_dir / p.name).read_bytes()) for p in archive.glob("*.md")]
    assert all(old or new for old, new in states)
    assert sum(not old for old, _ in states) == 1  # exactly the first file was replaced


def test_refresh_cli_summary_and_json(refreshable) -> None:
    archive, index = refreshable
    runner = CliRunner()
    result = runner.invoke(app, ["refresh", str(archive), "--index", str(index), "--since",
                                 "13h", "--dry-run", "-k", "2"])
    assert result.exit_code == 0, result.output
    assert "+related:" in result.stdout
    assert "2 articles published since 2026-01-11T23:00:00+00:00: 2 would change" in \
        result.stdout
    result = runner.invoke(app, ["refresh", str(archive), "--index", str(index), "--since",
                                 "13h", "--format", "json", "-k", "2"])
    payload = json.loads(result.stdout)
    assert payload["summary"]["considered"] == 2 and not payload["written"]
    assert {Path(a["path"]).name for a in payload["articles"]} == {"z1.md", "z2.md"}
    assert all(len(a["added"]) == 2 for a in payload["articles"])
