from __future__ import annotations

from pathlib import Path

import pytest
from conftest import feed_file

from recommender.articles import load_articles
from recommender.build import build_index
from recommender.errors import RecommenderError
from recommender.evaluate import eval_queries, evaluate, published_between
from recommender.pool import build_pool

PROTEST = "https://elsewhere.example/drone-protest"


def test_queries_gold_and_leakage(archive: Path) -> None:
    pool = build_pool(load_articles(archive).articles)
    queries = {q.article.title: q for q in eval_queries(pool)}
    assert set(queries) == {"Harbor city bans delivery drones over parks",
                            "Chipmaker opens solar powered fab"}
    drones = queries["Harbor city bans delivery drones over parks"]
    assert drones.gold == ["https://two.example/park-drones", PROTEST]
    # The protest stub is in the pool only because this query lists it: not findable.
    assert drones.reachable == {"https://two.example/park-drones"}
    assert pool.candidates[drones.exclude[1]].article.id == PROTEST


def test_evaluate_counts_ceiling_and_never_suggests_excluded_stubs(archive, tmp_path, encoder):
    evaluation = evaluate([archive], tmp_path / "no-index", k=6, encoder=encoder)
    r = evaluation.results
    assert (r["queries"], r["reachable_queries"], r["gold_items"], r["pool"]) == (2, 2, 3, 7)
    assert r["ceiling"] == pytest.approx(2 / 3)
    assert r["k"] == 6 and r["ks"] == [1, 5, 6]
    assert set(r["methods"]) == {"recommender", "dense", "bm25", "recency", "random"}
    for detail in r["per_query"]:
        for method in detail["methods"].values():
            ranked = [item["id"] for item in method["ranked"]]
            assert detail["id"] not in ranked
            # The stub only the drones query lists is no candidate for it, but is for others:
            # 7 in the pool, minus the query, minus that stub for the drones query.
            drones = detail["title"].startswith("Harbor city")
            assert (PROTEST in ranked) is not drones
            assert len(ranked) == (5 if drones else 6)
    # The story's other coverage is first for the product: recall@1 over reachable gold is 1.
    assert r["methods"]["recommender"]["recall@1"] == 1.0
    # Over all gold, the unreachable protest stub caps the drones query at 1/2.
    assert r["all_queries"]["recommender"]["recall@5"] == pytest.approx((1 / 2 + 1) / 2)
    assert set(r["significance"]) == {"dense", "bm25", "recency", "random"}
    assert r["per_topic"] and r["time_gaps"]["curated"]


def test_evaluate_reuses_the_vectors_of_the_index(archive, tmp_path, encoder) -> None:
    build_index([archive], tmp_path / "ix", encoder=encoder)
    assert evaluate([archive], tmp_path / "ix", encoder=encoder).encoded == 0
    assert evaluate([archive], tmp_path / "none", encoder=encoder).encoded == 7


def test_no_curated_lists_is_a_clear_error(tmp_path, encoder) -> None:
    feed_file(tmp_path / "a", "x.md", "Lonely article", url="https://x.example/a")
    with pytest.raises(RecommenderError, match="no articles with curated related lists"):
        evaluate([tmp_path / "a"], tmp_path / "ix", encoder=encoder)


def test_broken_files_are_skipped(archive, tmp_path, encoder) -> None:
    (archive / "broken.md").write_text("no front matter")
    evaluation = evaluate([archive], tmp_path / "ix", encoder=encoder)
    assert [Path(e.path).name for e in evaluation.skipped] == ["broken.md"]
    assert evaluation.results["queries"] == 2


def test_query_date_filter(archive, tmp_path, encoder) -> None:
    keep = published_between("2026-01-10T10:00:00Z", None)
    evaluation = evaluate([archive], tmp_path / "ix", encoder=encoder, keep=keep)
    assert [q["title"] for q in evaluation.results["per_query"]] == [
        "Chipmaker opens solar powered fab"]
    with pytest.raises(RecommenderError, match="not an ISO 8601 date"):
        published_between("last week", None)


def test_unknown_method(archive, tmp_path, encoder) -> None:
    with pytest.raises(RecommenderError, match="unknown method 'magic'"):
        evaluate([archive], tmp_path / "ix", encoder=encoder, methods=["magic"])
