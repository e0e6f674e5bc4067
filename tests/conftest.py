"""Shared fixtures: the project's own tiny archives, a fast fake encoder, the sample data."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from recommender.embedding import HashingEncoder

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
CORPUS = ROOT.parent / "shared" / "corpus"

sys.path.insert(0, str(Path(__file__).resolve().parent))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--campaigns", action="store_true",
                     help="also run the long safety campaigns (marker `campaign`); CI does")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The campaigns (hundreds of hostile files, every damaged index, concurrent processes,
    # the whole real corpus written back) take most of a full run; the everyday suite
    # stays fast, and `--campaigns` (CI, the README's test command) runs them too.
    if config.getoption("--campaigns"):
        return
    skip = pytest.mark.skip(reason="a long safety campaign: run with --campaigns")
    for item in items:
        if "campaign" in item.keywords:
            item.add_marker(skip)


def child_env() -> dict[str, str]:
    """The environment for a child ``python -m recommender``: this checkout's package first.

    Under mutmut's coverage pass (MUTANT_UNDER_TEST=stats) a child must not record which
    functions ran: it has no mutmut configuration where it runs, and would fail. Under a
    mutant, the child runs that mutant too, so child-process tests can kill it.
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if env.get("MUTANT_UNDER_TEST") == "stats":
        del env["MUTANT_UNDER_TEST"]
    return env


@pytest.fixture(autouse=True)
def ledger_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test has its own record of written entries, never the user's."""
    path = tmp_path / "ledger" / "written.jsonl"
    monkeypatch.setenv("RECOMMENDER_LEDGER", str(path))
    return path


@pytest.fixture(scope="session", autouse=True)
def export_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Tests never write to the user's ~/.cache; real-model tests share one ONNX export."""
    folder = tmp_path_factory.mktemp("export-cache")
    before = os.environ.get("RECOMMENDER_CACHE")
    os.environ["RECOMMENDER_CACHE"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("RECOMMENDER_CACHE", None)
    else:
        os.environ["RECOMMENDER_CACHE"] = before


def feed_file(folder: Path, name: str, title: str | None, excerpt: str = "", date: str = "",
              url: str = "", provider: str = "", related: list[dict] | None = None,
              extra: str = "") -> Path:
    """Write one article in the feed's format (front matter only) and return its path."""
    lines = ["---", "category: news"]
    if title is not None:
        lines.append(f'title: "{title}"')
    if excerpt:
        lines.append(f'excerpt: "{excerpt}"')
    if date:
        lines.append(f"publishedDateTime: {date}")
    if url:
        lines.append(f'webUrl: "{url}"')
    lines.append("type: article")
    if provider:
        lines += ["", "provider:", f"  name: {provider}", f"  domain: {provider.lower()}.example"]
    if extra:
        lines.append(extra)
    if related:
        lines += ["", "related:"]
        for entry in related:
            lines.append(f'  - title: "{entry["title"]}"')
            for key in ("excerpt", "webUrl"):
                if key in entry:
                    lines.append(f'    {key}: "{entry[key]}"')
            if "date" in entry:
                lines.append(f"    publishedDateTime: {entry['date']}")
            if "provider" in entry:
                lines += ["    provider:", f"      name: {entry['provider']}"]
    lines.append("---")
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def story_archive(folder: Path) -> Path:
    """Two stories told by several outlets, plus distractors on the same days."""
    feed_file(folder, "a1.md", "Harbor city bans delivery drones over parks",
              "The harbor council voted to ban delivery drones above public parks.",
              "2026-01-10T09:00:00Z", "https://one.example/drones-parks", "One",
              related=[{"title": "Council vote grounds park drones", "date": "2026-01-11T08:00:00Z",
                        "webUrl": "https://two.example/park-drones?utm_source=rss",
                        "provider": "Two"},
                       {"title": "Drone makers protest harbor park ban",
                        "date": "2026-01-12T08:00:00Z",
                        "webUrl": "https://elsewhere.example/drone-protest",
                        "provider": "Elsewhere"}])
    feed_file(folder, "a2.md", "Council vote grounds park drones",
              "Delivery drones may no longer fly over harbor city parks after the council vote.",
              "2026-01-11T08:00:00Z", "https://www.two.example/park-drones/", "Two")
    feed_file(folder, "b1.md", "Chipmaker opens solar powered fab",
              "A chipmaker opened a fab that runs on solar power in the desert.",
              "2026-01-10T12:00:00Z", "https://three.example/solar-fab", "Three",
              related=[{"title": "Desert fab runs on sunshine", "date": "2026-01-10T15:00:00Z",
                        "webUrl": "https://four.example/desert-fab", "provider": "Four"}])
    feed_file(folder, "b2.md", "Desert fab runs on sunshine",
              "The new chip fab in the desert draws all its power from solar panels.",
              "2026-01-10T15:00:00Z", "https://four.example/desert-fab", "Four")
    feed_file(folder, "c1.md", "Bakery robot learns to frost cakes",
              "A bakery trained a robot arm to frost birthday cakes.",
              "2026-01-10T10:00:00Z", "https://five.example/cake-robot", "Five")
    feed_file(folder, "c2.md", "Old stadium to become housing",
              "The stadium will be turned into apartments next year.",
              "2025-06-01T10:00:00Z", "https://six.example/stadium", "Six")
    return folder


@pytest.fixture
def encoder() -> HashingEncoder:
    return HashingEncoder()


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return story_archive(tmp_path / "archive")


@pytest.fixture
def built(archive: Path, tmp_path: Path, encoder: HashingEncoder):
    from recommender.build import build_index
    from recommender.store import load_index

    build_index([archive], tmp_path / "indexes" / "default", encoder=encoder)
    return load_index(tmp_path / "indexes" / "default")


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not here (it is only beside the development checkout)")
    return CORPUS
