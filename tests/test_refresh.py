from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import feed_file, story_archive
from typer.testing import CliRunner

from recommender import writeback
from recommender.articles import load_articles, parse_front_matter
from recommender.build import build_index
from recommender.cli import app
from recommender.errors import RecommenderError
from recommender.refresh import parse_since, refresh, window_start

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
    with pytest.raises(RecommenderError) as caught:
        window_start("last week", NEWEST)
    assert str(caught.value) == ("cannot read 'last week' as a span (7d, 48h, 2w) or a date "
                                 "(YYYY-MM-DD), --since. Give a span such as 7d or a date "
                                 "such as 2026-11-01")
    with pytest.raises(RecommenderError) as caught:
        window_start("7d", NEWEST, relative_to="yesterday")
    assert str(caught.value) == ("unknown --relative-to 'yesterday', --relative-to. Use "
                                 "newest or now")
    with pytest.raises(RecommenderError) as caught:
        window_start("7d", None)
    assert str(caught.value) == ("no article has a publication date, --since. Use "
                                 "--relative-to now")
    before = datetime.now(timezone.utc)
    start = window_start("1d", None, relative_to="now")  # now is the clock's, in UTC
    assert before - timedelta(days=1) <= start <= datetime.now(timezone.utc) - timedelta(days=1)
    with pytest.raises(ValueError, match=r"^the span '99999999999d' is too long$"):
        parse_since("99999999999d")
    # Further back than year 1: the window holds everything, it does not overflow.
    assert window_start("99999999d", NEWEST) == datetime.min.replace(tzinfo=timezone.utc)


@pytest.mark.parametrize("text", ["7days", "99999999999d", "2026-13-01", "", "d"])
def test_since_values_that_cannot_be_read(text: str) -> None:
    with pytest.raises(ValueError):
        parse_since(text)


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


def test_the_default_window_is_the_week_before_the_newest_article(refreshable,
                                                                   encoder) -> None:
    archive, index = refreshable
    result = refresh([archive], index=index, encoder=encoder)
    assert result.window_start == datetime(2026, 1, 5, 12, 0, tzinfo=timezone.utc)
    assert len(result.updates) == 8  # every article but the stadium story (2025)


def test_selects_the_window_relative_to_the_newest_article(refreshable, encoder) -> None:
    archive, index = refreshable
    result = refresh([archive], index=index, since="13h", k=3, encoder=encoder)
    assert sorted(Path(u.path).name for u in result.updates) == ["z1.md", "z2.md"]
    assert result.summary["considered"] == 2 and result.summary["changed"] == 2
    result = refresh([archive], index=index, since="13h", k=3, encoder=encoder,
                     now=datetime(2030, 1, 1, tzinfo=timezone.utc), relative_to="now")
    assert result.updates == []


def test_write_then_nothing_changes_on_the_second_run(refreshable, encoder) -> None:
    archive, index = refreshable
    first = refresh([archive], index=index, since="3d", k=3, write=True, encoder=encoder)
    assert first.summary["changed"] == first.summary["considered"] > 0
    snapshot = {p: p.read_bytes() for p in archive.glob("*.md")}
    second = refresh([archive], index=index, since="3d", k=3, write=True, encoder=encoder)
    assert second.summary["changed"] == 0 and second.summary["entries_added"] == 0
    assert {p: p.read_bytes() for p in archive.glob("*.md")} == snapshot
    related = parse_front_matter((archive / "z1.md").read_text())["related"]
    assert "Harbor city bans delivery drones over parks" in [e["title"] for e in related]


def test_dry_run_writes_nothing(refreshable, encoder) -> None:
    archive, index = refreshable
    snapshot = {p: p.read_bytes() for p in archive.glob("*.md")}
    result = refresh([archive], index=index, since="3d", k=3, encoder=encoder)
    assert all(u.diff.startswith(f"--- {u.path}\n+++ {u.path}\n")
               for u in result.updates if u.changed)
    assert {p: p.read_bytes() for p in archive.glob("*.md")} == snapshot


def test_curated_entries_are_kept_byte_for_byte_by_default(refreshable, encoder) -> None:
    archive, index = refreshable
    a1 = archive / "a1.md"
    before = a1.read_text()
    result = refresh([archive], index=index, since="2026-01-10", k=4, write=True,
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
    a1_update = next(u for u in result.updates if u.path == str(a1))
    assert (a1_update.curated_kept, len(a1_update.added), a1_update.removed) == (2, 2, [])
    again = refresh([archive], index=index, since="2026-01-10", k=4, write=True,
                    encoder=encoder)
    assert again.summary["changed"] == 0 and a1.read_text() == after


def test_a_later_refresh_updates_its_own_entries_only(refreshable, encoder) -> None:
    archive, index = refreshable
    a1 = archive / "a1.md"
    curated = parse_front_matter(a1.read_text())["related"]
    refresh([archive], index=index, since="2026-01-10", k=4, write=True, encoder=encoder)
    mine = parse_front_matter(a1.read_text())["related"][2:]
    refresh([archive], index=index, since="2026-01-10", k=3, write=True, encoder=encoder)
    related = parse_front_matter(a1.read_text())["related"]
    assert related[:2] == curated
    assert [e["title"] for e in related[2:]] == [mine[0]["title"]]  # k = 3: one of its own
    result = refresh([archive], index=index, since="2026-01-10", k=2, write=True,
                     encoder=encoder)
    assert parse_front_matter(a1.read_text())["related"] == curated
    a1_update = next(u for u in result.updates if u.path == str(a1))
    assert a1_update.removed == [mine[0]["webUrl"]] and a1_update.added == []
    assert result.summary["curated_removed"] == 0
    assert result.summary["curated_kept"] == 3  # a1's two, b1's one


def test_replace_rewrites_curated_lists(refreshable, encoder) -> None:
    archive, index = refreshable
    result = refresh([archive], index=index, since="2026-01-10", k=1, write=True,
                     replace=True, encoder=encoder)
    related = parse_front_matter((archive / "a1.md").read_text())["related"]
    assert len(related) == 1
    assert result.summary["curated_removed"] == 3  # a1's two, b1's one


def test_interrupted_refresh_leaves_every_file_whole(refreshable, encoder, monkeypatch,
                                                     tmp_path) -> None:
    archive, index = refreshable
    expected_dir = tmp_path / "expected"
    shutil.copytree(archive, expected_dir)
    refresh([expected_dir], index=index, since="3d", k=3, write=True, encoder=encoder)
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
        refresh([archive], index=index, since="3d", k=3, write=True, encoder=encoder)
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
    assert result.stdout.endswith(
        "2 articles published since 2026-01-11T23:00:00Z: 2 would change, 0 unchanged; "
        "4 entries added, 0 updated, 0 removed; 0 curated entries kept.\n")
    result = runner.invoke(app, ["refresh", str(archive), "--index", str(index), "--since",
                                 "13h", "--format", "json", "-k", "2"])
    payload = json.loads(result.stdout)
    assert payload["summary"] == {
        "window_start": "2026-01-11T23:00:00Z", "considered": 2, "changed": 2, "unchanged": 0,
        "failed": 0, "entries_added": 4, "entries_updated": 0, "entries_removed": 0,
        "curated_kept": 0, "curated_removed": 0}
    assert not payload["written"]
    assert {Path(a["path"]).name for a in payload["articles"]} == {"z1.md", "z2.md"}
    z1 = next(a for a in payload["articles"] if a["path"].endswith("z1.md"))
    assert z1["added"] == ["https://elsewhere.example/drone-protest",
                           "https://nine.example/pilots"]
    assert all(len(a["added"]) == 2 for a in payload["articles"])


def test_refresh_cli_write_with_dry_run_writes_nothing(refreshable) -> None:
    archive, index = refreshable
    snapshot = {p: p.read_bytes() for p in archive.glob("*.md")}
    result = CliRunner().invoke(app, ["refresh", str(archive), "--index", str(index),
                                      "--since", "13h", "--write", "--dry-run"])
    assert result.exit_code == 0 and "would change" in result.stdout
    assert {p: p.read_bytes() for p in archive.glob("*.md")} == snapshot


@pytest.mark.parametrize(("option", "value"), [
    ("--since", "7days"), ("--since", "99999999999d"), ("--relative-to", "yesterday"),
    ("--format", "csv"), ("--exclude-url", "http://["), ("-k", "0")])
def test_refresh_cli_mistakes_exit_2(refreshable, option: str, value: str) -> None:
    archive, index = refreshable
    result = CliRunner().invoke(app, ["refresh", str(archive), "--index", str(index), option,
                                      value])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
