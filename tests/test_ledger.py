"""The ledger: where it lives, what identifies an entry, and how it survives crashes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recommender import ledger as ledger_module
from recommender.errors import RecommenderError
from recommender.ledger import Ledger, default_ledger, file_key, fingerprint

ENTRY = {"title": "Ünïcode title", "webUrl": "https://x.example/a", "quality": 5}


def test_default_location_follows_the_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RECOMMENDER_LEDGER", str(tmp_path / "mine.jsonl"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert default_ledger() == tmp_path / "mine.jsonl"
    monkeypatch.delenv("RECOMMENDER_LEDGER")
    assert default_ledger() == tmp_path / "state" / "recommender" / "written.jsonl"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_ledger() == \
        tmp_path / "home" / ".local" / "state" / "recommender" / "written.jsonl"
    assert Ledger().path == default_ledger()


def test_fingerprints_are_a_stable_format() -> None:
    # Ledgers outlive versions of the product: this value must never change. It is the first
    # 32 hex digits of SHA-256 over the entry as sorted-key JSON, non-ASCII kept as UTF-8.
    assert fingerprint(ENTRY) == "272f6888990b8d5fcc50ef55e2dcbab9"
    assert fingerprint(dict(reversed(list(ENTRY.items())))) == fingerprint(ENTRY)
    assert fingerprint({**ENTRY, "quality": 6}) != fingerprint(ENTRY)


def test_a_file_is_known_by_its_real_path(tmp_path: Path) -> None:
    target = tmp_path / "a.md"
    target.write_text("x")
    (tmp_path / "link.md").symlink_to("a.md")
    assert file_key(tmp_path / "link.md") == file_key(target) == str(target.resolve())


def test_record_appends_one_line_per_change(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    ledger = Ledger(path)
    ledger.record(tmp_path / "a.md", [ENTRY])
    ledger.record(tmp_path / "a.md", [ENTRY])  # the same set: nothing to add
    lines = path.read_text().splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert list(line) == ["file", "entries", "at"]
    assert line["file"] == str((tmp_path / "a.md").resolve())
    assert line["entries"] == [fingerprint(ENTRY)] and line["at"].endswith("Z")
    ledger.record(tmp_path / "a.md", [])
    assert Ledger(path).own(tmp_path / "a.md") == set()


def test_unreadable_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    good = {"file": str(tmp_path / "a.md"), "entries": ["f1"]}
    path.write_text("\n".join([json.dumps(good), "not json", json.dumps({"file": "x"}),
                               json.dumps({"file": str(tmp_path / "a.md"), "entries": 5}),
                               '{"file": "/b.md", "entr']) + "\n")
    ledger = Ledger(path)
    assert ledger.own(tmp_path / "a.md") == {"f1"} and ledger.own("/b.md") == set()


def test_compaction_keeps_each_files_last_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(ledger_module, "COMPACT_FROM", 4)
    path = tmp_path / "ledger.jsonl"
    ledger = Ledger(path)
    for n in range(4):
        ledger.record(tmp_path / "a.md", [{"n": n}])
    assert len(path.read_text().splitlines()) == 4  # not past COMPACT_FROM yet
    Ledger(path).record(tmp_path / "b.md", [{"other": "writer"}])  # another process
    ledger.record(tmp_path / "a.md", [{"n": 4}])
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(Path(line["file"]).name, line["entries"]) for line in lines] == [
        ("a.md", [fingerprint({"n": 4})]), ("b.md", [fingerprint({"other": "writer"})])]
    assert not path.with_name("ledger.jsonl.compact").exists()
    assert Ledger(path).own(tmp_path / "b.md") == {fingerprint({"other": "writer"})}


def test_an_unwritable_ledger_is_said_before_anything_is_written(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(RecommenderError, match=r"^cannot create the ledger folder \(.*\), "
                       rf"{blocker}/sub\. Set RECOMMENDER_LEDGER to a writable file$"):
        Ledger(blocker / "sub" / "ledger.jsonl").ensure_writable()
    Ledger(tmp_path / "new" / "ledger.jsonl").ensure_writable()
    assert (tmp_path / "new" / "ledger.jsonl").read_text() == ""


def test_compaction_happens_exactly_past_the_threshold(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(ledger_module, "COMPACT_FROM", 4)
    path = tmp_path / "ledger.jsonl"
    ledger = Ledger(path)
    counts = []
    for n in range(6):
        ledger.record(tmp_path / "a.md", [{"n": n}])
        counts.append(len(path.read_text().splitlines()))
    # 4 lines is not past 4; the 5th line is (and is more than twice the 1 file): compacted
    # to 1; then counting starts again from that 1.
    assert counts == [1, 2, 3, 4, 1, 2]
    reopened = Ledger(path)
    reopened.record(tmp_path / "b.md", [{"n": 0}])
    assert len(path.read_text().splitlines()) == 3


def test_recording_nothing_for_a_new_file_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    Ledger(path).record(tmp_path / "a.md", [])
    assert not path.exists()


def test_a_reopened_ledger_counts_the_lines_already_there(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(ledger_module, "COMPACT_FROM", 4)
    path = tmp_path / "ledger.jsonl"
    first = Ledger(path)
    for n in range(4):
        first.record(tmp_path / "a.md", [{"n": n}])
    Ledger(path).record(tmp_path / "a.md", [{"n": 4}])  # its 5th line: past 4, compacted
    assert [json.loads(line)["entries"] for line in path.read_text().splitlines()] == [
        [fingerprint({"n": 4})]]


def test_a_damaged_line_does_not_hide_the_lines_after_it(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    path.write_text('{"file": "/a.md", "entr\n' + json.dumps({"file": "/b.md",
                                                               "entries": ["f2"]}) + "\n")
    assert Ledger(path).own("/b.md") == {"f2"}


def test_compaction_waits_until_lines_are_more_than_twice_the_files(tmp_path: Path,
                                                                    monkeypatch) -> None:
    monkeypatch.setattr(ledger_module, "COMPACT_FROM", 4)
    path = tmp_path / "ledger.jsonl"
    ledger = Ledger(path)
    counts = []
    for n, name in enumerate("abcabca"):
        ledger.record(tmp_path / f"{name}.md", [{"n": n}])
        counts.append(len(path.read_text().splitlines()))
    # Three files: 5 and 6 lines are past 4 but not more than 2 x 3; the 7th line is.
    assert counts == [1, 2, 3, 4, 5, 6, 3]


def test_compaction_drops_damaged_lines_of_every_kind(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(ledger_module, "COMPACT_FROM", 1)
    path = tmp_path / "ledger.jsonl"
    # Not JSON (ValueError), no "file" (KeyError), not an object (TypeError).
    path.write_text('{"file": "/a.md", "entr\n{"entries": []}\n[1, 2]\n')
    ledger = Ledger(path)
    ledger.record(tmp_path / "b.md", [{"n": 1}])
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(Path(line["file"]).name, line["entries"]) for line in lines] == [
        ("b.md", [fingerprint({"n": 1})])]


def test_a_ledger_that_is_a_folder_is_said_before_anything_is_written(tmp_path: Path) -> None:
    (tmp_path / "ledger.jsonl").mkdir()
    with pytest.raises(RecommenderError) as caught:
        Ledger(tmp_path / "ledger.jsonl").ensure_writable()
    assert str(caught.value) == (
        f"cannot write the ledger (Is a directory), {tmp_path / 'ledger.jsonl'}. "
        "Set RECOMMENDER_LEDGER or --ledger to a writable file")
