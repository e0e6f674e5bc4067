"""``evaluate`` on a tiny archive whose every figure is computed by hand below.

Eight articles, days after 2026-03-01 in brackets, titles chosen so BM25 links exactly the
pairs that share a word (alpha bravo / bravo charlie / charlie delta, golf hotel / hotel india):

    row  file  day  title           topics        curated list
    0    a     0    Alpha bravo     AI, Energy    b, x
    1    b     1    Bravo charlie   Energy
    2    c     10   Charlie delta   Energy        d, a
    3    d     13   Echo foxtrot    Sports
    4    e     30   Golf hotel      Sports        z
    5    f     21   Hotel india     AI            e
    6    x     2    Juliet kilo     (stub only a lists: no candidate for a)
    7    z     31   Lima mike       (stub only e lists: no candidate for e)

Queries a, c, e, f; gold a {b, x}, c {d, a}, e {z}, f {e}; reachable a {b}, c {d, a},
e {} (not a reachable query), f {e}. Ceiling 4 of 6 curated items. k = 2, so ks = [1, 2].

recency (nearest in time first), top 2 and the absolute gaps in days:
    a: b (1), c (10)     c: d (3), x (8)     e: f (9), d (17)     f: d (8), e (9)
bm25 (the candidate sharing a word first, then score-0 ties in row order):
    a: b (1), c (10)     c: b (9), a (10)    e: f (9), a (30)     f: e (9), a (21)

With L = 1/log2(3) = 0.63093: a hit at rank 2 alone scores nDCG@2 = L against one gold
item and L/(1+L) = 0.38685 against two; a hit at rank 1 alone against two scores
1/(1+L) = 0.61315.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from conftest import feed_file

from recommender.articles import load_articles
from recommender.embedding import HashingEncoder
from recommender.evaluate import (
    EvaluationResults,
    Significance,
    eval_queries,
    evaluate,
    published_between,
)
from recommender.pool import build_pool

L = 1 / math.log2(3)
URL = "https://news.example/{}"
DAYS = {"a": 0, "b": 1, "c": 10, "d": 13, "e": 30, "f": 21, "x": 2, "z": 31}
TITLES = {"a": "Alpha bravo", "b": "Bravo charlie", "c": "Charlie delta", "d": "Echo foxtrot",
          "e": "Golf hotel", "f": "Hotel india", "x": "Juliet kilo", "z": "Lima mike"}
TOPICS = {"a": '["AI", "Energy"]', "b": '["Energy"]', "c": '["Energy"]', "d": '["Sports"]',
          "e": '["Sports"]', "f": '["AI"]'}
LISTS = {"a": "bx", "c": "da", "e": "z", "f": "e"}


def _date(name: str) -> str:
    return f"2026-03-{1 + DAYS[name]:02d}T00:00:00Z" if DAYS[name] < 31 else "2026-04-01T00:00:00Z"


def tiny_archive(folder: Path) -> Path:
    for name in "abcdef":
        related = [{"title": TITLES[g], "webUrl": URL.format(g), "date": _date(g)}
                   for g in LISTS.get(name, "")]
        feed_file(folder, f"{name}.md", TITLES[name], date=_date(name), url=URL.format(name),
                  related=related, extra=f"topics: {TOPICS[name]}")
    return folder


def tiny_results(folder: Path) -> EvaluationResults:
    """The evaluation this module works out by hand: recency and bm25 at k = 2."""
    archive = tiny_archive(folder / "archive")
    return evaluate([archive], folder / "no-index", k=2, methods=("recency", "bm25"),
                    encoder=HashingEncoder()).results


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> EvaluationResults:
    return tiny_results(tmp_path_factory.mktemp("by-hand"))


def _ids(names: str) -> list[str]:
    return [URL.format(n) for n in names]


def test_counts_and_ceiling(results: EvaluationResults) -> None:
    r = results
    assert (r.queries, r.reachable_queries, r.pool, r.k, r.ks) == (4, 3, 8, 2, [1, 2])
    assert (r.gold_items, r.reachable_gold_items) == (6, 4)
    assert r.ceiling == pytest.approx(4 / 6)
    assert r.model == "hashing"


def test_per_query_rankings_gold_and_scores(results: EvaluationResults) -> None:
    by_title = {q.title: q for q in results.per_query}
    assert list(by_title) == [TITLES[n] for n in "acef"]
    expected_ranked = {"a": ("bc", "bc"), "c": ("dx", "ba"), "e": ("fd", "fa"), "f": ("de", "ea")}
    for name, (recency, bm25) in expected_ranked.items():
        runs = by_title[TITLES[name]].methods
        assert [i.id for i in runs["recency"].ranked] == _ids(recency), name
        assert [i.id for i in runs["bm25"].ranked] == _ids(bm25), name
    # Gold of c: d (+3 days) and a (-10 days), both reachable; of a: b reachable, x not.
    c = by_title["Charlie delta"]
    assert [(g.id, g.reachable, g.gap_days) for g in c.gold] == [
        (URL.format("d"), True, 3.0), (URL.format("a"), True, -10.0)]
    a = by_title["Alpha bravo"]
    assert [(g.title, g.reachable, g.gap_days) for g in a.gold] == [
        ("Bravo charlie", True, 1.0), ("Juliet kilo", False, 2.0)]
    assert (a.topic, c.topic, by_title["Hotel india"].topic) == ("Energy", "Energy", "AI")
    assert a.published == "2026-03-01T00:00:00+00:00"
    # Suggestions: relevance against all gold, signed gaps from the query.
    f_bm25 = by_title["Hotel india"].methods["bm25"].ranked
    assert [(i.title, i.relevant, i.gap_days) for i in f_bm25] == [
        ("Golf hotel", True, 9.0), ("Alpha bravo", False, -21.0)]
    # c under bm25: a found at rank 2 of gold {d, a}; under recency d at rank 1.
    c_bm25 = c.methods["bm25"]
    assert c_bm25.reachable_gold is not None
    assert c_bm25.reachable_gold["ndcg@2"] == pytest.approx(L / (1 + L))
    assert c_bm25.reachable_gold["map@2"] == pytest.approx((1 / 2) / 2)
    assert c_bm25.reachable_gold["mrr"] == 0.5
    assert c.methods["recency"].all_gold["ndcg@2"] == pytest.approx(1 / (1 + L))
    # a: against all gold {b, x}, recall 1/2; against reachable {b}, 1.
    a_recency = a.methods["recency"]
    assert (a_recency.all_gold["recall@2"], a_recency.reachable_gold["recall@2"]) == (0.5, 1.0)
    # e has no reachable gold: no reachable scores, every score against all gold is 0.
    e = by_title["Golf hotel"].methods["recency"]
    assert e.reachable_gold is None and set(e.all_gold.values()) == {0.0}


# Reachable rows (a, c, f) per method, then the means the summary must hold.
#   recency  recall@1 1, 1/2, 0  recall@2 1, 1/2, 1   nDCG@2 1, 1/(1+L), L   MAP@2 1, 1/2, 1/2
#            nDCG@1 1, 1, 0      MRR 1, 1, 1/2        P@1 1, 1, 0            hit@1 1, 1, 0
#   bm25     recall@1 1, 0, 1    recall@2 1, 1/2, 1   nDCG@2 1, L/(1+L), 1   MAP@2 1, 1/4, 1
#            nDCG@1 1, 0, 1      MRR 1, 1/2, 1        P@1 1, 0, 1            hit@1 1, 0, 1
REACHABLE = {
    "recency": {"recall@1": 0.5, "recall@2": 2.5 / 3, "precision@1": 2 / 3, "precision@2": 0.5,
                "ndcg@1": 2 / 3, "ndcg@2": (1 + 1 / (1 + L) + L) / 3, "map@1": 0.5,
                "map@2": 2 / 3, "hit_rate@1": 2 / 3, "hit_rate@2": 1.0, "mrr": 2.5 / 3},
    "bm25": {"recall@1": 2 / 3, "recall@2": 2.5 / 3, "precision@1": 2 / 3, "precision@2": 0.5,
             "ndcg@1": 2 / 3, "ndcg@2": (2 + L / (1 + L)) / 3, "map@1": 2 / 3,
             "map@2": 2.25 / 3, "hit_rate@1": 2 / 3, "hit_rate@2": 1.0, "mrr": 2.5 / 3},
}
# All queries (a, c, e, f), e scoring 0 everywhere. recency: recall@2 1/2, 1/2, 0, 1;
# nDCG@2 1/(1+L), 1/(1+L), 0, L; MAP@2 1/2, 1/2, 0, 1/2. bm25: nDCG@2 1/(1+L), L/(1+L), 0, 1;
# MAP@2 1/2, 1/4, 0, 1; recall@1 1/2, 0, 0, 1.
ALL = {
    "recency": {"recall@1": 0.25, "recall@2": 0.5, "precision@1": 0.5, "precision@2": 0.375,
                "ndcg@1": 0.5, "ndcg@2": (2 / (1 + L) + L) / 4, "map@1": 0.25, "map@2": 0.375,
                "hit_rate@1": 0.5, "hit_rate@2": 0.75, "mrr": 0.625},
    "bm25": {"recall@1": 0.375, "recall@2": 0.5, "precision@1": 0.5, "precision@2": 0.375,
             "ndcg@1": 0.5, "ndcg@2": 0.5, "map@1": 0.375, "map@2": 0.4375,
             "hit_rate@1": 0.5, "hit_rate@2": 0.75, "mrr": 0.625},
}


@pytest.mark.parametrize("method", ["recency", "bm25"])
def test_means_over_reachable_and_all_queries(results: EvaluationResults, method: str) -> None:
    assert results.methods[method].scores == pytest.approx(REACHABLE[method])
    assert results.all_queries[method] == pytest.approx(ALL[method])


def test_coverage_and_median_gap(results: EvaluationResults) -> None:
    # recency suggested b, c, d, x, f, e: 6 of 8; gaps 1 10 3 8 9 17 8 9 -> median (8+9)/2.
    assert results.methods["recency"].coverage == 6 / 8
    assert results.methods["recency"].median_gap_days == 8.5
    # bm25 suggested b, c, a, f, e: 5 of 8; gaps 1 10 9 10 9 30 9 21 -> median (9+10)/2.
    assert results.methods["bm25"].coverage == 5 / 8
    assert results.methods["bm25"].median_gap_days == 9.5
    assert sorted(results.time_gaps["recency"]) == [1, 3, 8, 8, 9, 9, 10, 17]
    # Curated: a->b 1, a->x 2, c->d 3, c->a 10, e->z 1, f->e 9 (absolute).
    assert results.time_gaps["curated"] == [1, 2, 3, 10, 1, 9]


def test_per_topic(results: EvaluationResults) -> None:
    # Reachable queries only (e, the one Sports query, has none): Energy = a, c; AI = f.
    topics = results.per_topic
    assert list(topics) == ["Energy", "AI"]  # largest first
    assert (topics["Energy"].queries, topics["AI"].queries) == (2, 1)
    assert topics["Energy"].methods["recency"] == pytest.approx(
        {"ndcg@2": (1 + 1 / (1 + L)) / 2, "recall@2": 0.75})
    assert topics["Energy"].methods["bm25"] == pytest.approx(
        {"ndcg@2": (1 + L / (1 + L)) / 2, "recall@2": 0.75})
    assert topics["AI"].methods["recency"] == pytest.approx({"ndcg@2": L, "recall@2": 1.0})
    assert topics["AI"].methods["bm25"] == pytest.approx({"ndcg@2": 1.0, "recall@2": 1.0})


def test_no_significance_without_the_product(results: EvaluationResults) -> None:
    assert results.significance == {}


def test_json_round_trip_and_key_names(results: EvaluationResults) -> None:
    data = results.to_json()
    assert list(data) == ["queries", "reachable_queries", "ceiling", "gold_items",
                          "reachable_gold_items", "pool", "k", "ks", "methods", "all_queries",
                          "significance", "per_topic", "time_gaps", "per_query", "corpus",
                          "model"]
    assert data["methods"]["bm25"]["coverage"] == 5 / 8
    assert data["methods"]["bm25"]["median_gap_days"] == 9.5
    assert data["per_topic"]["AI"] == {"queries": 1, "recency": {"ndcg@2": L, "recall@2": 1.0},
                                       "bm25": {"ndcg@2": 1.0, "recall@2": 1.0}}
    c = data["per_query"][1]
    assert list(c) == ["path", "id", "url", "title", "topic", "published", "gold", "methods"]
    assert c["url"] == URL.format("c")
    assert list(c["methods"]["recency"]) == ["all", "reachable", "ranked"]
    assert "reachable" not in data["per_query"][2]["methods"]["recency"]  # e
    assert c["gold"][0] == {"id": URL.format("d"), "title": "Echo foxtrot", "reachable": True,
                            "gap_days": 3.0, "url": URL.format("d")}
    assert c["methods"]["recency"]["ranked"][1] == {
        "id": URL.format("x"), "title": "Juliet kilo", "provider": None, "relevant": False,
        "gap_days": -8.0, "score": c["methods"]["recency"]["ranked"][1]["score"],
        "url": URL.format("x")}
    assert EvaluationResults.from_json(data) == results


def test_significance_pairs_the_reachable_queries(tmp_path: Path) -> None:
    archive = tiny_archive(tmp_path / "archive")
    r = evaluate([archive], tmp_path / "no-index", k=2, methods=("recommender", "bm25", "recency"),
                 encoder=HashingEncoder()).results
    assert list(r.significance) == ["bm25", "recency"]
    differences = []
    for method, row in r.significance.items():
        # Paired over the 3 reachable queries (a, c, f), never e, on the main metric.
        pairs = [(q.methods[method].reachable_gold, q.methods["recommender"].reachable_gold)
                 for q in r.per_query]
        diffs = [ours["ndcg@2"] - base["ndcg@2"] for ours, base in pairs if ours and base]
        assert len(diffs) == 3
        assert (row.metric, row.against) == ("ndcg@2", "recommender")
        assert row.mean_difference == pytest.approx(sum(diffs) / 3)
        assert row.low <= row.mean_difference <= row.high and 0 < row.p_value <= 1
        differences.append(row.mean_difference)
    assert any(abs(d) > 0.01 for d in differences)  # so that pairing over e would show


def test_significance_json() -> None:
    row = Significance(metric="ndcg@10", against="recommender", mean_difference=-0.1,
                       low=-0.2, high=0.05, p_value=0.2, significant=False)
    assert row.to_json() == {"metric": "ndcg@10", "against": "recommender",
                             "mean_difference": -0.1, "ci95": [-0.2, 0.05], "p_value": 0.2,
                             "significant": False}


def test_query_edges(tmp_path: Path) -> None:
    """Stubs two files list stay candidates for both; an article listing itself gains no gold
    from it, and one listing only itself is no query."""
    folder = tmp_path / "edges"
    shared = {"title": "Shared stub", "webUrl": URL.format("w"), "date": _date("b")}
    feed_file(folder, "p.md", "Papa", date=_date("a"), url=URL.format("p"),
              related=[shared, {"title": "Papa", "webUrl": URL.format("p")}])
    feed_file(folder, "q.md", "Quebec", date=_date("c"), url=URL.format("q"), related=[shared])
    feed_file(folder, "s.md", "Sierra", date=_date("d"), url=URL.format("s"),
              related=[{"title": "Sierra", "webUrl": URL.format("s")}])
    pool = build_pool(load_articles(folder).articles)
    queries = {q.article.title: q for q in eval_queries(pool)}
    assert list(queries) == ["Papa", "Quebec"]  # Sierra lists only itself
    for query in queries.values():
        assert query.gold == [URL.format("w")] and query.reachable == {URL.format("w")}
        assert query.exclude == (query.row,)


def test_date_filter_bounds(tmp_path: Path) -> None:
    # c is published at 2026-03-11T00:00Z exactly: "since" includes it, "until" excludes it.
    pool = build_pool(load_articles(tiny_archive(tmp_path / "archive")).articles)
    since = eval_queries(pool, published_between("2026-03-11", None))
    until = eval_queries(pool, published_between(None, "2026-03-11"))
    assert [q.article.title for q in since] == ["Charlie delta", "Golf hotel", "Hotel india"]
    assert [q.article.title for q in until] == ["Alpha bravo"]
