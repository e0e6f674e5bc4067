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
    r = evaluation.results.to_json()
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
    first = r["per_query"][0]["methods"]["recommender"]["ranked"][0]
    assert (first["title"], first["provider"], first["relevant"], first["gap_days"]) == (
        "Council vote grounds park drones", "Two", True, round(23 / 24, 2))  # 23 hours later
    # results.json keeps scores to 4 decimals (the hashing encoder's cosines are not round).
    scores = [item["score"] for q in r["per_query"] for m in q["methods"].values()
              for item in m["ranked"]]
    assert all(s == round(s, 4) for s in scores) and any(s != round(s, 3) for s in scores)
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
    assert evaluation.results.queries == 2


def test_query_date_filter(archive, tmp_path, encoder) -> None:
    keep = published_between("2026-01-10T10:00:00Z", None)
    evaluation = evaluate([archive], tmp_path / "ix", encoder=encoder, keep=keep)
    assert [q.title for q in evaluation.results.per_query] == [
        "Chipmaker opens solar powered fab"]
    with pytest.raises(RecommenderError, match="not an ISO 8601 date"):
        published_between("last week", None)


def test_unknown_method(archive, tmp_path, encoder) -> None:
    with pytest.raises(RecommenderError, match="unknown method 'magic'"):
        evaluate([archive], tmp_path / "ix", encoder=encoder, methods=["magic"])


def test_same_day_distractors_do_not_fool_the_default_ranking(tmp_path, encoder) -> None:
    """Each story's coverage spreads over three days; articles of unrelated stories fill the
    query's own day. Nearest-in-time then ranks the distractors first; the default ranking
    must still find the coverage."""
    stories = [("lunar", "rover", "crater", "ice"), ("tariff", "steel", "import", "quota"),
               ("vaccine", "trial", "dose", "immunity"), ("merger", "airline", "slots", "rival"),
               ("wildfire", "canyon", "evacuation", "smoke")]
    folder = tmp_path / "feed"
    for s, words in enumerate(stories):
        urls = [f"https://outlet{o}.example/{words[0]}-{o}" for o in range(3)]
        for o in range(3):
            others = [{"title": f"{words[0]} {words[1]} {words[2]} report {p}",
                       "webUrl": urls[p], "date": f"2026-02-{10 + s * 4 + p:02d}T09:00:00Z"}
                      for p in range(3) if p != o]
            feed_file(folder, f"s{s}-{o}.md", f"{words[0]} {words[1]} {words[2]} report {o}",
                      f"The {words[0]} {words[1]} story: {words[3]} {words[2]} update {o}.",
                      f"2026-02-{10 + s * 4 + o:02d}T09:00:00Z", urls[o], f"Outlet{o}",
                      related=others)
        for d in range(6):  # unrelated articles within hours of the story's first article
            feed_file(folder, f"s{s}-noise{d}.md", f"Local bakery {d} wins pastry award",
                      f"Croissant and strudel contest number {s}{d}.",
                      f"2026-02-{10 + s * 4:02d}T{10 + d:02d}:00:00Z",
                      f"https://noise.example/{s}-{d}", "Noise")
    r = evaluate([folder], tmp_path / "ix", encoder=encoder,
                 methods=["recommender", "recency"]).results
    ours, recency = r.methods["recommender"].scores, r.methods["recency"].scores
    assert r.reachable_queries == 15
    assert ours["recall@5"] == 1.0 and ours["ndcg@10"] > 0.95
    assert recency["ndcg@10"] < ours["ndcg@10"] - 0.2
