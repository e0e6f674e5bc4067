"""The benchmark's synthetic archives are valid feed files, deterministic, and linked."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from recommender.articles import load_articles

_SPEC = importlib.util.spec_from_file_location(
    "synthetic", Path(__file__).resolve().parent.parent / "benchmarks" / "synthetic.py")
synthetic = importlib.util.module_from_spec(_SPEC)
sys.modules["synthetic"] = synthetic  # dataclasses look their module up by name
_SPEC.loader.exec_module(synthetic)


def _contents(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.md"))}


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """One archive of 200 for the tests that only read it."""
    folder = tmp_path_factory.mktemp("synthetic")
    return folder, synthetic.write_archive(folder, 200)


def test_archive_reads_without_errors(archive: tuple[Path, list[Path]]) -> None:
    folder, paths = archive
    loaded = load_articles([folder])
    assert len(paths) == 200
    assert loaded.errors == []
    assert len(loaded.articles) == 200
    assert len({a.id for a in loaded.articles}) == 200
    for article in loaded.articles:
        assert 8 <= len(article.title.split()) <= 14
        assert 30 <= len(article.excerpt.split()) <= 60
        assert article.published is not None and article.provider and article.topics


def test_archive_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    synthetic.write_archive(tmp_path / "a", 60, seed=3)
    synthetic.write_archive(tmp_path / "b", 60, seed=3)
    synthetic.write_archive(tmp_path / "c", 60, seed=4)
    assert _contents(tmp_path / "a") == _contents(tmp_path / "b")
    assert _contents(tmp_path / "a") != _contents(tmp_path / "c")


def test_related_lists_point_at_other_generated_articles(
        archive: tuple[Path, list[Path]]) -> None:
    articles = load_articles([archive[0]]).articles
    by_id = {a.id: a for a in articles}
    linked = [a for a in articles if a.related]
    assert len(linked) >= 40
    for article in linked:
        for entry in article.related:
            assert entry.id in by_id and entry.id != article.id
            assert by_id[entry.id].title == entry.title
    # A story's articles share its names: the company in the title appears in the related one.
    shared = sum(bool(set(a.title.split()[:2]) & set(" ".join(e.title for e in a.related)
                                                    .split())) for a in linked)
    assert shared >= len(linked) // 2
