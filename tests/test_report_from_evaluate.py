"""A real ``evaluate`` on the hand-computed archive of test_evaluate_by_hand -> Markdown and
HTML: the numbers a reader sees, checked against the figures worked out there."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_evaluate_by_hand import URL, tiny_results

from recommender.evaluate import EvaluationResults
from recommender.report import html_report, summary_markdown, write_results

# Reachable means (see test_evaluate_by_hand): nDCG@2 recency 0.748, bm25 0.796; recall@2
# 5/6 both; P@2 1/2 both; MAP@2 2/3 vs 3/4; MRR 5/6 both; hit@2 1 both; nDCG@1 2/3 both;
# coverage 6/8 vs 5/8 (never bold); median gap 8.5 vs 9.5 days (lower is better).
# All queries: nDCG@2 0.464 vs 0.500; recall@2 1/2; P@2 3/8; MAP@2 3/8 vs 7/16 (0.4375
# rounds half to even: 0.438); MRR 5/8; hit@2 3/4; nDCG@1 1/2.
MARKDOWN = """\
4 queries (3 with a reachable curated item), pool of 8 articles; ceiling 66.7% of 6 curated \
items are findable.

Over the 3 reachable queries (gold = their findable curated items):

| method | ndcg@2 | recall@2 | precision@2 | map@2 | mrr | hit_rate@2 | ndcg@1 | coverage \
| median_gap_days |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
| recency | 0.748 | **0.833** | **0.500** | 0.667 | **0.833** | **1.000** | **0.667** | 0.750 \
| **8.500** |
| bm25 | **0.796** | **0.833** | **0.500** | **0.750** | **0.833** | **1.000** | **0.667** | 0.625 \
| 9.500 |

Over all 4 queries (gold = every curated item):

| method | ndcg@2 | recall@2 | precision@2 | map@2 | mrr | hit_rate@2 | ndcg@1 |
|---|---:|---:|---:|---:|---:|---:|---:|
| recency | 0.464 | **0.500** | **0.375** | 0.375 | **0.625** | **0.750** | **0.500** |
| bm25 | **0.500** | **0.500** | **0.375** | **0.438** | **0.625** | **0.750** | **0.500** |
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> EvaluationResults:
    return tiny_results(tmp_path_factory.mktemp("report-e2e"))


@pytest.fixture(scope="module")
def page(results: EvaluationResults) -> str:
    return html_report(results)


class _Tables(HTMLParser):
    """Each ``<table class="metrics">`` as rows of cells; a bold cell reads ``*text*``."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._inside = ("class", "metrics") in attrs
            if self._inside:
                self.tables.append([])
        elif self._inside and tag == "tr":
            self.tables[-1].append([])
        elif self._inside and tag in ("td", "th"):
            self._cell = []
        elif self._cell is not None and tag == "strong":
            self._cell.append("*")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._inside = False
        elif self._cell is not None and tag in ("td", "th"):
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None
        elif self._cell is not None and tag == "strong":
            self._cell.append("*")

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _section(page: str, anchor: str) -> str:
    start = page.index(f'<section id="{anchor}">')
    return page[start:page.index("</section>", start)]


def test_markdown_summary(results: EvaluationResults) -> None:
    assert summary_markdown(results) == MARKDOWN


def test_html_headline_figures(page: str) -> None:
    stats = re.search(r'<dl class="stats">(.*?)</dl>', page).group(1)
    cells = re.findall(r"<dt>(.*?)</dt><dd>(.*?)<span>(.*?)</span>", stats)
    assert cells == [("Queries", "4", "articles with a curated list"),
                     ("Reachable queries", "3", "75% of queries"),
                     ("Candidate pool", "8", "articles"),
                     ("Ceiling", "66.7%", "4 of 6 curated items findable")]
    assert "<strong>Ceiling 66.7%</strong>" in page
    # The product is missing, so the first method leads the glance line.
    assert ("<strong>recency</strong> reaches nDCG@2 <strong>0.748</strong>; the best other "
            "method, bm25, reaches 0.796.") in page


def test_html_metric_tables(page: str) -> None:
    parser = _Tables()
    parser.feed(_section(page, "summary"))
    reachable, every = parser.tables
    assert reachable == [
        ["method", "nDCG@2", "Recall@2", "Precision@2", "MAP@2", "MRR", "Hit rate@2", "nDCG@1",
         "Coverage", "Median gap (days)"],
        ["recency", "0.748", "*0.833*", "*0.500*", "0.667", "*0.833*", "*1.000*", "*0.667*",
         "75.0%", "*8.5*"],
        ["bm25", "*0.796*", "*0.833*", "*0.500*", "*0.750*", "*0.833*", "*1.000*", "*0.667*",
         "62.5%", "9.5"]]
    assert every[1:] == [
        ["recency", "0.464", "*0.500*", "*0.375*", "0.375", "*0.625*", "*0.750*", "*0.500*"],
        ["bm25", "*0.500*", "*0.500*", "*0.375*", "*0.438*", "*0.625*", "*0.750*", "*0.500*"]]


def test_html_topics_and_time_gaps(page: str) -> None:
    topics = _section(page, "topics")
    assert re.findall(r"<h3>(.*?) <span>· (.*?)</span></h3>", topics) == [
        ("Energy", "2 queries"), ("AI", "1 query")]
    # Bar labels per card, recency then bm25: Energy (1 + 0.613)/2, (1 + 0.387)/2; AI L, 1.
    assert re.findall(r'<text [^>]*>([0-9.]+)</text>', topics) == ["0.81", "0.69", "0.63",
                                                                    "1.00"]
    gaps = _section(page, "gaps")
    # Curated 1 2 3 10 1 9: median 2.5, 4 of 6 under 7 days. recency 1 3 8 8 9 9 10 17: 2 of 8.
    # bm25 1 9 9 9 10 10 21 30: 1 of 8 (12.5% rounds half to even).
    assert re.findall(r'<div class="muted small">(.*?)</div>', gaps) == [
        "6 items · median 2.5 d · 67% within a week",
        "8 items · median 8.5 d · 25% within a week",
        "8 items · median 9.5 d · 12% within a week"]
    # Bins are [low, high) days: recency's 1 3 8 8 9 9 10 17 fill 1–2, 3–5, 7–14 (five of
    # eight) and 14–30. The tallest bar (62.5%, also bm25's 7–14) sets a shared axis rounded up
    # to the next tenth: 0%, 35%, 70% in every panel.
    assert re.findall(r"<title>recency: ([^<]*) days apart</title>", gaps) == [
        "0.0% of items 0–1", "12.5% of items 1–2", "0.0% of items 2–3", "12.5% of items 3–5",
        "0.0% of items 5–7", "62.5% of items 7–14", "12.5% of items 14–30",
        "0.0% of items 30–90", "0.0% of items 90+"]
    assert re.findall(r'class="axis">(\d+%)</text>', gaps) == ["0%", "35%", "70%"] * 3


def test_html_worst_query_cards(page: str) -> None:
    worst = _section(page, "worst")
    # recency's nDCG@2 over reachable gold: c 1/(1+L) = 0.613 < f L = 0.631 < a 1.
    assert re.findall(r'<h3>(\d+)\. <a href="[^"]*">(.*?)</a></h3>', worst) == [
        ("1", "Charlie delta"), ("2", "Hotel india"), ("3", "Alpha bravo")]
    assert re.findall(r'<div class="meta">(.*?)</div>', worst) == [
        '2026-03-11 · Energy · nDCG@2 <span class="score">0.613</span> · Recall@2 0.500 · '
        "2 of 2 curated items findable",
        '2026-03-22 · AI · nDCG@2 <span class="score">0.631</span> · Recall@2 1.000 · '
        "1 of 1 curated items findable",
        '2026-03-01 · Energy · nDCG@2 <span class="score">1.000</span> · Recall@2 1.000 · '
        "1 of 2 curated items findable"]
    cards = worst.split('<article class="query">')[1:]
    # c: d found at #1 (+3 days), a findable but missed (-10 days); suggestions d, then x.
    assert re.findall(r'<li class="(\w+)"><span class="mark">(.*?)</span><span>'
                      r'<a href="(.*?)">(.*?)</a><small>(.*?)</small>', cards[0]) == [
        ("hit", "✓", URL.format("d"), "Echo foxtrot", "suggested at #1 · +3.0 d"),
        ("miss", "✗", URL.format("a"), "Alpha bravo", "missed · −10.0 d"),
        ("hit", "✓ 1", URL.format("d"), "Echo foxtrot",
         "unknown provider · +3.0 d · score -3.00"),
        ("other", "2.", URL.format("x"), "Juliet kilo",
         "unknown provider · −8.0 d · score -8.00")]
    # a: x is known only from a's own list.
    assert ('<li class="unreachable"><span class="mark">–</span><span>'
            f'<a href="{URL.format("x")}">Juliet kilo</a>' in cards[2])


def test_write_results_writes_the_json_and_the_page(results: EvaluationResults,
                                                    page: str, tmp_path: Path) -> None:
    written = write_results(results, tmp_path / "out")
    assert [p.name for p in written] == ["results.json", "report.html"]
    assert json.loads(written[0].read_text(encoding="utf-8")) == results.to_json()
    assert written[1].read_text(encoding="utf-8") == page + "\n"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.html",
                                                                    "results.json"]
