"""The HTML report: self-contained, escaped, ordered, robust to missing parts."""

from __future__ import annotations

import copy
import html
import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from recommender.evaluate import EvaluationResults
from recommender.report import html_report

EVIL = 'Chips <script>alert("x")</script> & "quotes" rise'
METHODS = ("recommender", "dense", "bm25")
# nDCG@10 per query (reachable) and method: the product is worst on "Quiet harbour".
NDCG = {"Quiet harbour": (0.2, 0.6, 0.4), EVIL: (0.9, 0.7, 0.8),
        "Port strike ends": (0.5, 0.5, 0.3)}
VOID = {"meta", "br", "hr", "img", "input", "link", "circle", "rect", "line", "polyline", "path"}


def _metrics(ndcg: float) -> dict[str, float]:
    row = {}
    for k in (1, 5, 10):
        row.update({f"recall@{k}": ndcg, f"precision@{k}": ndcg / 2, f"ndcg@{k}": ndcg,
                    f"map@{k}": ndcg / 3, f"hit_rate@{k}": 1.0})
    return {**row, "mrr": ndcg}


def _ranked(query: int, method: str) -> list[dict[str, Any]]:
    # The second suggestion is the query's reachable curated item.
    return [{"id": f"https://news.example/{query}/" + ("gold/a" if i == 2 else f"{method}/{i}"),
             "title": f"{method} pick {i}",
             "provider": "Wire & Co", "relevant": i == 2,
             "gap_days": 0.04 if i == 3 else i - 1.5, "score": 1 / i}
            for i in range(1, 4)]


def _query(index: int, title: str) -> dict[str, Any]:
    gold = [{"id": f"https://gone.example/{index}", "title": f"Gone {index}",
             "reachable": False, "gap_days": None},
            {"id": f"https://news.example/{index}/gold/a", "title": f"Curated {index} <a>",
             "reachable": True, "gap_days": 0.3},
            {"id": f"https://news.example/{index}/gold/b", "title": f"Missed {index}",
             "reachable": True, "gap_days": -2.25}]
    methods = {m: {"all": _metrics(NDCG[title][i] / 2), "reachable": _metrics(NDCG[title][i]),
                   "ranked": _ranked(index, m)} for i, m in enumerate(METHODS)}
    return {"path": f"data/{index}.md", "id": f"https://news.example/query/{index}",
            "title": title, "topic": "Ports" if index else "Chips & <Silicon>",
            "published": f"2026-03-0{index + 1}T10:00:00+00:00", "gold": gold, "methods": methods}


def report(data: dict[str, Any]) -> str:
    """The HTML report of results given in results.json's form."""
    return html_report(EvaluationResults.from_json(data))


@pytest.fixture()
def results() -> dict[str, Any]:
    summary = {m: {**_metrics(sum(v[i] for v in NDCG.values()) / 3),
                   "coverage": 0.5 + i / 10, "median_gap_days": 3.0 - i}
               for i, m in enumerate(METHODS)}
    return {
        "queries": 3, "reachable_queries": 3, "ceiling": 0.5, "gold_items": 6,
        "reachable_gold_items": 3, "pool": 12345, "k": 10, "ks": [1, 5, 10],
        "methods": summary,
        "all_queries": {m: {key: v / 2 for key, v in row.items()
                            if key not in ("coverage", "median_gap_days")}
                        for m, row in summary.items()},
        "significance": {m: {"metric": "ndcg@10", "against": "recommender",
                             "mean_difference": -0.1, "ci95": [-0.2, 0.05], "p_value": 0.2,
                             "significant": False} for m in METHODS[1:]},
        "per_topic": {"Ports": {"queries": 2, **{m: {"ndcg@10": 0.4, "recall@10": 0.5}
                                                 for m in METHODS}},
                      "Chips & <Silicon>": {"queries": 1, **{m: {"ndcg@10": 0.9,
                                                                 "recall@10": 1.0}
                                                             for m in METHODS}}},
        "time_gaps": {"curated": [0.5, 1.5, 6.0], "recommender": [0.2, 2.0, 40.0],
                      "dense": [100.0, 3.0, 7.0], "bm25": []},
        "per_query": [_query(i, title) for i, title in enumerate(NDCG)],
        "corpus": ["data/"], "model": "hashing <test>",
    }


def _section(page: str, anchor: str) -> str:
    start = page.index(f'<section id="{anchor}">')
    return page[start:page.index("</section>", start)]


def _data_strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _data_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _data_strings(v)]
    return [value] if isinstance(value, str) else []


class _Balance(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]}")
        else:
            self.stack.pop()


def test_page_is_self_contained(results) -> None:
    page = report(results)
    assert page.startswith("<!DOCTYPE html>")
    lowered = page.lower()
    for needle in ("<script", "<link", "src=", "@import", "url(", "<iframe", "<img"):
        assert needle not in lowered
    # Any http(s) left once every data-derived string is removed would be a resource.
    for text in sorted(set(_data_strings(results)), key=len, reverse=True):
        page = page.replace(html.escape(text, quote=True), "")
    assert "http://" not in page and "https://" not in page


def test_data_strings_are_escaped(results) -> None:
    page = report(results)
    assert "<script>" not in page and "<Silicon>" not in page and "Curated 0 <a>" not in page
    assert html.escape(EVIL, quote=True) in page
    assert "Chips &amp; &lt;Silicon&gt;" in page
    assert "hashing &lt;test&gt;" in page


def test_markup_is_balanced(results) -> None:
    parser = _Balance()
    parser.feed(report(results))
    assert parser.errors == [] and parser.stack == []


def test_worst_queries_lowest_ndcg_first(results) -> None:
    worst = _section(report(results), "worst")
    positions = [worst.index(html.escape(t, quote=True)) for t in
                 ("Quiet harbour", "Port strike ends", EVIL)]
    assert positions == sorted(positions)
    # The curated list marks what was found and greys what nobody could find.
    assert "suggested at #2" in worst and 'class="unreachable"' in worst
    # Per query: the found curated item and the relevant suggestion.
    assert worst.count('<li class="hit">') == 2 * 3
    # Found items are listed first, then the findable but missed, unreachable ones last.
    first = worst.index("Curated 0 &lt;a&gt;")
    assert first < worst.index("Missed 0") < worst.index("Gone 0") < worst.index(
        "Curated 1 &lt;a&gt;")
    assert "Missed 0<small>missed · −2.2 d</small>" in worst  # -2.25 rounds half to even


def test_worst_queries_fall_back_to_the_first_method(results) -> None:
    for method in ("recommender",):
        del results["methods"][method], results["all_queries"][method]
        for detail in results["per_query"]:
            del detail["methods"][method]
    results["significance"] = {}
    worst = _section(report(results), "worst")
    assert "dense top 3" in worst
    # dense: Port strike ends (0.5) < Quiet harbour (0.6) < EVIL (0.7).
    assert worst.index("Port strike ends") < worst.index("Quiet harbour")


def test_every_method_is_in_every_legend(results) -> None:
    page = report(results)
    legends = re.findall(r'<ul class="legend".*?</ul>', page, flags=re.S)
    assert len(legends) >= 2
    for legend in legends:
        for method in METHODS:
            assert f"</span>{method}</li>" in legend


def test_best_value_per_column_is_bold(results) -> None:
    table = _section(report(results), "summary").split("</table>")[0]
    rows = {m: row for row in table.split("<tr") for m in METHODS if f"</span>{m}<" in row}
    cells = {m: re.findall(r"<td>(.*?)</td>", row)[1:] for m, row in rows.items()}
    # Column 0 is nDCG@10: dense has the best mean (0.6); median gap (last): bm25 has 1.0.
    assert cells["dense"][0] == "<strong>0.600</strong>"
    assert cells["recommender"][0] == "0.533" and cells["bm25"][0] == "0.500"
    assert cells["bm25"][-1] == "<strong>1.0</strong>" and cells["dense"][-1] == "2.0"
    # Coverage has no best.
    assert not any("<strong>" in c for m in METHODS for c in cells[m][-2:-1])


def test_significance_verdicts(results) -> None:
    section = _section(report(results), "significance")
    assert section.count("No clear difference") == 2
    results["significance"]["dense"].update(mean_difference=-0.3, ci95=[-0.4, -0.2],
                                            p_value=0.00005, significant=True)
    section = _section(report(results), "significance")
    assert "recommender is better" in section and "&lt; 0.001" in section


def test_charts_have_a_series_per_method(results) -> None:
    page = report(results)
    charts = _section(page, "cutoffs")
    assert charts.count("<svg") == 2 and charts.count("<polyline") == 2 * len(METHODS)
    for label in ("k = 1", "k = 5", "k = 10", "Recall@k", "nDCG@k"):
        assert label in charts
    gaps = _section(page, "gaps")
    assert "curated lists" in gaps and "No dated items." in gaps  # bm25 has no gaps
    # Within a week means under 7 days: curated 0.5 1.5 6 all; dense 100 3 7 one of three.
    assert re.findall(r'<div class="muted small">(.*?)</div>', gaps) == [
        "3 items · median 1.5 d · 100% within a week",
        "3 items · median 2.0 d · 67% within a week",
        "3 items · median 7.0 d · 33% within a week"]
    topics = _section(page, "topics")
    assert topics.index("Ports") < topics.index("Chips &amp;")  # larger group first
    assert "2 queries" in topics and "1 query" in topics


def test_missing_optional_parts_do_not_crash(results) -> None:
    single = copy.deepcopy(results)
    for key in ("methods", "all_queries"):
        single[key] = {"dense": single[key]["dense"]}
    single.update(significance={}, per_topic={}, time_gaps={}, per_query=[], corpus=[],
                  model="")
    page = report(single)
    assert "No paired comparison" in page and "dense" in page
    # One method: nothing to be best at; not the product, so no product tag.
    assert "<strong>" not in _section(page, "summary") and 'class="tag"' not in page
    bare = report({"queries": 0, "reachable_queries": 0, "ceiling": 0.0, "gold_items": 0,
                   "reachable_gold_items": 0, "pool": 0, "k": 6, "ks": [1, 5, 6], "methods": {},
                   "all_queries": {}, "significance": {}, "per_topic": {}, "time_gaps": {},
                   "per_query": [], "corpus": [], "model": ""})
    assert "No metrics in these results" in bare and "nDCG@6" in bare


def test_other_cutoffs_and_missing_values(results) -> None:
    results["k"], results["ks"] = 6, [1, 5, 6]
    results["methods"]["dense"]["median_gap_days"] = None
    results["methods"]["bm25"]["median_gap_days"] = float("nan")
    page = report(results)
    assert "nDCG@6" in page and "k = 6" in page and "–" in _section(page, "summary")


def test_output_is_deterministic(results) -> None:
    assert report(results) == report(copy.deepcopy(results))


def test_header_and_headline_figures(results) -> None:
    page = report(results)
    assert ('<p class="small">Corpus: <code>data/</code> · Model: <code>hashing &lt;test&gt;'
            "</code> · Cut-off k = 10</p>") in page
    assert "<dt>Candidate pool</dt><dd>12,345<span>articles</span>" in page


def test_gaps_in_days(results) -> None:
    worst = _section(report(results), "worst")
    # Signed, one decimal, a true minus sign; under 0.05 days reads 0.0 d.
    assert "suggested at #2 · +0.3 d" in worst
    assert "Wire &amp; Co · −0.5 d · score 1.00" in worst
    assert "Wire &amp; Co · 0.0 d · score 0.33" in worst


def test_product_leads_wherever_it_is_listed(results) -> None:
    results["methods"] = {m: results["methods"][m] for m in ("dense", "bm25", "recommender")}
    page = report(results)
    rows = re.findall(r'<tr(?: class="product")?><td><span class="swatch"[^>]*></span>(\w+)',
                      _section(page, "summary"))
    assert rows[:3] == ["recommender", "dense", "bm25"]
    assert "recommender top 3" in _section(page, "worst")
    # The product's line is the thicker one in both cut-off charts.
    assert _section(page, "cutoffs").count('stroke-width="3"') == 2


def test_p_values_below_a_thousandth_are_bounded(results) -> None:
    results["significance"]["dense"]["p_value"] = 0.005
    results["significance"]["bm25"]["p_value"] = 0.0009
    section = _section(report(results), "significance")
    assert re.findall(r"<td>([^<]*\d[^<]*|&lt; 0.001)</td>", section)[-1] == "&lt; 0.001"
    assert "<td>0.005</td>" in section and "<td>&lt; 0.001</td>" in section


def test_query_titles_link_only_web_addresses(results) -> None:
    # People follow the webUrl as the feed wrote it, never the canonical id.
    results["per_query"][0]["id"] = "https://plain.example/q"
    results["per_query"][0]["url"] = "http://www.plain.example/q/?utm_source=rss"
    results["per_query"][2]["url"] = None
    worst = _section(report(results), "worst")
    assert '<a href="http://www.plain.example/q/?utm_source=rss">Quiet harbour</a>' in worst
    assert "<h3>2. Port strike ends</h3>" in worst


def test_at_most_15_worst_queries(results) -> None:
    template = results["per_query"][0]
    results["per_query"] = [{**copy.deepcopy(template), "title": f"Query {i}"}
                            for i in range(16)]
    worst = _section(report(results), "worst")
    assert worst.count('<article class="query">') == 15
    assert "The 15 reachable queries" in worst and "Query 14<" in worst
    assert "Query 15<" not in worst  # equal scores: the earlier query comes first


def test_long_curated_lists_fold_after_12(results) -> None:
    gold = results["per_query"][0]["gold"]
    extra = [{"id": f"https://more.example/{i}", "title": f"More {i}", "reachable": False,
              "gap_days": None} for i in range(12 - len(gold))]
    results["per_query"][0]["gold"] = gold + extra  # exactly 12: nothing folded
    assert "more curated items" not in _section(report(results), "worst")
    results["per_query"][0]["gold"].append({"id": "https://more.example/x", "title": "Last",
                                            "reachable": False, "gap_days": None})
    worst = _section(report(results), "worst")
    folded = worst[worst.index("<details>"):worst.index("</details>")]
    assert "<summary>1 more curated items</summary>" in folded and "Last" in folded


def test_long_method_names_are_clipped_in_bar_labels(results) -> None:
    long_name = "bm25-with-long-name"  # 19 characters: 11 kept, then an ellipsis
    renamed = json.loads(json.dumps(results).replace('"bm25"', f'"{long_name}"'))
    topics = _section(report(renamed), "topics")
    assert ">bm25-with-l…</text>" in topics and f"{long_name}: nDCG@10 = 0.400" in topics
