"""Writers that cannot lose each other's work, and readers that outlive rebuilds.

Two `add`s at once used to read the current generation before taking the build lock, so the
second to swap threw away the first's article (20 of 20 trials); a long batch `suggest` failed
when rebuilds deleted its generation under it.
"""

from __future__ import annotations

import multiprocessing
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import child_env, feed_file, story_archive

from recommender.articles import load_articles
from recommender.build import add_to_index, build_index
from recommender.embedding import HashingEncoder
from recommender.ranking import suggest
from recommender.store import load_index, writer_lock

pytestmark = [pytest.mark.slow, pytest.mark.campaign]
TRIALS = 20


def _add_when_released(barrier, path: str, index: str) -> None:
    barrier.wait()
    add_to_index([path], index, encoder=HashingEncoder())


def test_two_adds_at_once_both_land(tmp_path: Path) -> None:
    index = tmp_path / "ix"
    build_index([story_archive(tmp_path / "archive")], index, encoder=HashingEncoder())
    context = multiprocessing.get_context("fork")
    lost = 0
    for trial in range(TRIALS):
        urls = [f"https://new.example/{trial}-{side}" for side in "ab"]
        files = [feed_file(tmp_path / "new", f"{trial}-{side}.md", f"Ferry strike day {trial} "
                           f"report {side}", "Crews walked out.", "2026-01-20T09:00:00Z", url,
                           "New") for side, url in zip("ab", urls, strict=True)]
        barrier = context.Barrier(2)
        workers = [context.Process(target=_add_when_released, args=(barrier, str(f), str(index)))
                   for f in files]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(30)
            assert worker.exitcode == 0
        with load_index(index) as current:
            held = {record["id"] for record in current.records}
            assert len(current) == 7 + 2 * (trial + 1)
        lost += sum(url not in held for url in urls)
    assert lost == 0


def test_second_writer_says_it_waits_then_extends_the_newest_generation(tmp_path: Path) -> None:
    index = tmp_path / "ix"
    build_index([story_archive(tmp_path / "archive")], index, encoder=HashingEncoder())
    new = feed_file(tmp_path / "new", "n.md", "Night ferry returns", "Service resumes.",
                    "2026-01-20T09:00:00Z", "https://new.example/night-ferry", "New")
    env = child_env()
    with writer_lock(index):
        # While we hold the lock, another writer swaps in a generation the add must build on.
        added_first = feed_file(tmp_path / "first", "f.md", "Day ferry returns", "Also back.",
                                "2026-01-20T08:00:00Z", "https://new.example/day-ferry", "New")
        add = subprocess.Popen([sys.executable, "-m", "recommender", "add", str(new), "--index",
                                str(index)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, cwd=tmp_path)
        ready, _, _ = select.select([add.stderr], [], [], 30)
        first_line = add.stderr.readline() if ready else "(nothing within 30 s)"
        add_to_index([added_first], index, encoder=HashingEncoder())
    out, rest = add.communicate(timeout=60)
    assert first_line == f"Waiting for another build of {index} to finish…\n"
    assert add.returncode == 0, rest
    assert out.startswith(f"Added 1 file to {index}, which now holds 9 articles")
    with load_index(index) as current:
        assert {"new.example/night-ferry", "new.example/day-ferry"} <= {
            record["id"].removeprefix("https://") for record in current.records}


def _queries(folder: Path, count: int) -> Path:
    for number in range(count):
        feed_file(folder, f"q{number:03d}.md", f"Harbor drones and solar fabs, question {number}",
                  "Drones over parks; a desert fab.", "2026-01-12T09:00:00Z",
                  f"https://query.example/{number}", "Query")
    return folder


def _rebuild(archive: Path, index: Path, times: int) -> None:
    for turn in range(times):  # a changed excerpt each time: every generation is new
        feed_file(archive, "turn.md", "Harbor council meets", f"Meeting number {turn}.",
                  "2026-01-13T09:00:00Z", "https://turn.example/meeting", "Turn")
        build_index([archive], index, encoder=HashingEncoder())


def test_an_open_index_survives_30_rebuilds(tmp_path: Path) -> None:
    archive = story_archive(tmp_path / "archive")
    index = tmp_path / "ix"
    build_index([archive], index, encoder=HashingEncoder())
    queries = load_articles([_queries(tmp_path / "queries", 200)]).articles
    opened = load_index(index)
    before = [[s.record["id"] for s in found] for found in suggest(opened, queries, k=3)]
    _rebuild(archive, index, 30)
    assert opened.folder.is_dir() and opened.folder != Path(os.path.realpath(index))
    after = [[s.record["id"] for s in found] for found in suggest(opened, queries, k=3)]
    assert after == before and len(after) == 200
    opened.close()
    _rebuild(archive, index, 1)
    assert not opened.folder.exists()  # released: the next build removes it
    assert len(list(tmp_path.glob(".ix@*"))) == 2


def test_bm25_is_opened_with_the_index(built) -> None:
    import shutil

    queries = [built.candidates()[0].article]
    expected = [s.record["id"] for s in suggest(built, queries, k=3)[0]]
    shutil.rmtree(built.folder / "bm25")
    assert [s.record["id"] for s in suggest(built, queries, k=3)[0]] == expected


def test_batch_suggest_while_30_rebuilds_run(tmp_path: Path) -> None:
    archive = story_archive(tmp_path / "archive")
    index = tmp_path / "ix"
    build_index([archive], index, encoder=HashingEncoder())
    queries = _queries(tmp_path / "queries", 200)
    env = child_env()
    command = [sys.executable, "-m", "recommender", "suggest", str(queries), "--index",
               str(index), "-k", "3", "--format", "json"]
    runs: list[subprocess.Popen[str]] = []
    swaps_under_first = 0  # the failure needs two swaps while a run works: count them
    for turn in range(30):
        if not runs or runs[-1].poll() is not None:
            runs.append(subprocess.Popen(command, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True, env=env))
        feed_file(archive, "turn.md", "Harbor council meets", f"Meeting {turn}.",
                  "2026-01-13T09:00:00Z", "https://turn.example/meeting", "Turn")
        build_index([archive], index, encoder=HashingEncoder())
        swaps_under_first += runs[0].poll() is None
        time.sleep(0.05)  # spread the swaps over the runs' lifetimes
    failures = []
    for run in runs:
        out, err = run.communicate(timeout=120)
        if run.returncode != 0 or out.count('"input"') != 200:
            failures.append(err)
    assert swaps_under_first >= 2
    assert failures == []

