from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import feed_file

from recommender.articles import load_article
from recommender.build import build_index
from recommender.ranking import Filters, Query, Ranker, Weights, suggest
from recommender.store import load_index


def titles(suggestions) -> list[str]:
    return [s.record["title"] for s in suggestions]


def test_story_coverage_ranks_first_and_never_the_article_itself(built, archive) -> None:
    query = load_article(archive / "a1.md")
    [result] = suggest(built, [query], k=6)
    assert titles(result)[:2] == ["Council vote grounds park drones",
                                  "Drone makers protest harbor park ban"]
    assert query.title not in titles(result)
    assert len(result) == 6  # everything else in the pool
    assert [s.score for s in result] == sorted((s.score for s in result), reverse=True)


def test_same_article_under_other_urls_or_reposted_is_suggested_once(tmp_path, encoder) -> None:
    folder = tmp_path / "a"
    feed_file(folder, "q.md", "Robot chef opens restaurant", "A robot cooks dinner.",
              "2026-01-01T10:00:00Z", "https://q.example/chef", "Q")
    feed_file(folder, "r1.md", "Robot chef opens a restaurant downtown", "Robot cooks dinner.",
              "2026-01-01T12:00:00Z", "https://wire.example/chef", "Wire",
              extra='ampWebUrl: "https://wire.example/amp/chef"')
    feed_file(folder, "r2.md", "Robot chef opens a restaurant downtown", "Robot cooks dinner!",
              "2026-01-01T13:00:00Z", "https://wire.example/chef-2", "Wire")
    feed_file(folder, "other.md", "Robot chef reviewed", "Critics taste the robot dinner.",
              "2026-01-02T10:00:00Z", "https://critic.example/chef", "Critic",
              related=[{"title": "Robot chef (amp)", "webUrl": "https://wire.example/amp/chef"},
                       {"title": "Robot chef (tracked)",
                        "webUrl": "https://wire.example/chef?utm_source=x"}])
    build_index([folder], tmp_path / "ix", encoder=encoder)
    index = load_index(tmp_path / "ix")
    [result] = suggest(index, [load_article(folder / "q.md")], k=5)
    assert titles(result).count("Robot chef opens a restaurant downtown") == 1
    assert len({s.record["id"] for s in result}) == len(result) == 2


def test_query_not_in_index_gets_k_results(built) -> None:
    from recommender.articles import Article

    query = Article(id="query:", title="Drones banned above harbor parks")
    [result] = suggest(built, [query], k=3)
    assert len(result) == 3
    assert "Council vote grounds park drones" in titles(result)[:2]


def _rank(built, archive, name="a1.md", **filters):
    query = load_article(archive / name)
    vector = built.query_encoder()[0].encode([query.text])[0]
    return Ranker(built).rank(Query(query, vector), k=10, filters=Filters(**filters))


def test_window_and_older_only(built, archive) -> None:
    inside = _rank(built, archive, window_days=1.0)
    assert "Old stadium to become housing" not in titles(inside)
    assert "Drone makers protest harbor park ban" not in titles(inside)  # 2 days after
    assert len(inside) == 4
    older = _rank(built, archive, name="a2.md", older_only=True)
    assert set(titles(older)) == {"Harbor city bans delivery drones over parks",
                                  "Chipmaker opens solar powered fab",
                                  "Desert fab runs on sunshine",
                                  "Bakery robot learns to frost cakes",
                                  "Old stadium to become housing"}


def test_topic_provider_url_and_score_filters(built, archive) -> None:
    assert titles(_rank(built, archive, exclude_providers=("two",)))[0] == \
        "Drone makers protest harbor park ban"
    assert "Council vote grounds park drones" not in titles(
        _rank(built, archive, exclude_urls=("https://www.two.example/park-drones",)))
    assert _rank(built, archive, topics=("Gardening",)) == []
    strong = _rank(built, archive, min_score=0.5)
    assert strong and all(s.score >= 0.5 for s in strong)
    assert len(strong) < 6


def test_filters_search_deeper_on_an_approximate_index(tmp_path, encoder) -> None:
    folder = tmp_path / "many"
    for i in range(300):
        day = "2026-02-01" if i % 50 == 0 else "2025-01-01"
        feed_file(folder, f"{i}.md", f"Harbor drones story {i}", "Drones over the harbor.",
                  f"{day}T10:00:00Z", f"https://n.example/{i}", "N")
    build_index([folder], tmp_path / "ix", encoder=encoder, kind="hnsw")
    index = load_index(tmp_path / "ix")
    assert index.vectors.kind == "hnsw"
    query = load_article(folder / "0.md")
    [result] = suggest(index, [query], k=5, filters=Filters(window_days=2))
    assert sorted(titles(result)) == sorted(f"Harbor drones story {i}" for i in (50, 100, 150,
                                                                                 200, 250))


def test_explanations_add_up(built, archive) -> None:
    [result] = suggest(built, [load_article(archive / "a1.md")], k=3)
    top = result[0]
    assert sum(top.contributions.values()) == pytest.approx(top.score, rel=1e-5)
    assert set(top.contributions) == {"dense", "lexical"}
    # score = (w_dense * cosine + w_lexical * bm25 / max bm25) * time factor; top is BM25 #1.
    w = Weights()
    assert top.score == pytest.approx((w.dense * top.cosine + w.lexical) * top.time_factor,
                                      rel=1e-5)
    closeness = math.exp(-top.gap_days / w.tau_after_days)
    assert top.time_factor == pytest.approx((1 + w.time * closeness) / (1 + w.time), rel=1e-5)
    assert {"drones", "parks"} <= set(top.shared_words)
    assert "the" not in top.shared_words
    assert top.gap_days == pytest.approx(23 / 24, abs=1e-3)
    assert top.bm25_rank == 1


@pytest.mark.parametrize("method", ["dense", "bm25", "recency", "random"])
def test_baseline_methods_rank_everything_but_the_query(built, archive, method) -> None:
    [result] = suggest(built, [load_article(archive / "a1.md")], k=10, method=method)
    assert len(result) == 6
    assert "Harbor city bans delivery drones over parks" not in titles(result)


def test_recency_is_nearest_in_time(built, archive) -> None:
    [result] = suggest(built, [load_article(archive / "a1.md")], k=10, method="recency")
    gaps = [abs(s.gap_days) for s in result]
    assert gaps == sorted(gaps)


def test_batch_queries_match_single_queries(built, archive) -> None:
    articles = [load_article(archive / n) for n in ("a1.md", "b1.md", "c1.md")]
    batch = suggest(built, articles, k=3)
    singles = [suggest(built, [a], k=3)[0] for a in articles]
    assert [titles(r) for r in batch] == [titles(r) for r in singles]
    assert np.isfinite([s.score for r in batch for s in r]).all()


def test_walk_goes_past_many_reposts_of_one_story(tmp_path, encoder) -> None:
    folder = tmp_path / "reposts"
    for i in range(60):  # one wire story re-posted 60 times by the same provider
        feed_file(folder, f"w{i}.md", "Port drones banned at night", "The port bans drones.",
                  "2026-01-01T10:00:00Z", f"https://wire.example/{i}", "Wire")
    feed_file(folder, "other.md", "Harbor lights festival returns", "Lanterns at the port.",
              "2025-01-01T10:00:00Z", "https://x.example/lights", "X")
    build_index([folder], tmp_path / "ix", encoder=encoder)
    from recommender.articles import Article

    query = Article(id="query:", title="Night drone ban at the port")
    [result] = suggest(load_index(tmp_path / "ix"), [query], k=2)
    assert titles(result) == ["Port drones banned at night", "Harbor lights festival returns"]


def test_add_keeps_the_requested_vector_index_kind(built, tmp_path, encoder) -> None:
    from recommender.build import add_to_index

    new = feed_file(tmp_path / "n", "n.md", "Another article", url="https://x.example/n")
    result = add_to_index([new], built.folder.parent / "default", encoder=encoder)
    assert result.manifest["vector_index"]["requested"] == "auto"
    assert result.manifest["vector_index"]["kind"] == "exact"


def test_filters_match_names_domains_topics_and_aliases_whatever_their_case(
        tmp_path, encoder) -> None:
    folder = tmp_path / "a"
    feed_file(folder, "q.md", "Harbor drone ban", "Drones banned over parks.",
              "2026-01-10T09:00:00Z", "https://q.example/q", "Query", extra="topics: [AI]")
    feed_file(folder, "named.md", "Harbor drone ban upheld", "Drones stay banned.",
              "2026-01-10T10:00:00Z", "https://named.example/x", "Named",
              extra="topics: [Drones, AI]")
    feed_file(folder, "aliased.md", "Harbor drone ban appeal", "Drone makers appeal.",
              "2026-01-10T11:00:00Z", "https://aliased.example/x",
              extra="originalUrl: \"https://orig.example/appeal\"\ntopics: [Courts]")
    feed_file(folder, "domain-only.md", "Harbor drone ban costs", "What the ban costs.",
              "2026-01-10T12:00:00Z", "https://d.example/x",
              extra="provider:\n  domain: Domain.Example")
    build_index([folder], tmp_path / "ix", encoder=encoder)
    index = load_index(tmp_path / "ix")
    query = load_article(folder / "q.md")

    def ranked(**filters) -> list[str]:
        [result] = suggest(index, [query], k=5, filters=Filters(**filters), encoder=encoder)
        return sorted(s.record["webUrl"] for s in result)

    everyone = ["https://aliased.example/x", "https://d.example/x", "https://named.example/x"]
    assert ranked() == everyone
    assert ranked(exclude_providers=("DOMAIN.example",)) == everyone[:1] + everyone[2:]
    assert ranked(exclude_providers=("NAMED",)) == everyone[:2]  # its name
    assert ranked(exclude_providers=("named.example",)) == everyone[:2]  # its domain
    assert ranked(topics=("ai",)) == ["https://named.example/x"]  # none without topics
    assert ranked(topics=("courts", "DRONES")) == [everyone[0], everyone[2]]
    assert ranked(exclude_urls=("http://www.orig.example/appeal/",)) == everyone[1:]
