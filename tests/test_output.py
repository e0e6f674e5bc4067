"""What `suggest` prints, exactly: yaml, json and table, with and without --explain."""

from __future__ import annotations

import json

import pytest

from recommender.output import as_json, as_json_object, as_table, as_yaml, clip
from recommender.ranking import Suggestion

LONG = Suggestion(
    row=0, record={
        "id": "https://a.example/1", "kind": "file", "topics": ["AI"],
        "title": "Harbor council bans delivery drones over all city parks after long debate",
        "excerpt": "Über ruling", "publishedDateTime": "2026-01-11T08:00:00Z",
        "webUrl": "https://a.example/1", "type": "article",
        "provider": {"name": "The Extremely Long Provider Name Gazette", "domain": "a.example"},
        "quality": 47},
    score=1.23456, cosine=0.65432, bm25=7.2678, bm25_rank=4, gap_days=-0.74,
    time_factor=0.8234, contributions={"dense": 0.61234, "lexical": 0.62222},
    shared_words=["drones", "parks"])
SHORT = Suggestion(
    row=1, record={"id": "https://b.example/2", "title": "Short", "webUrl": "https://b.example/2",
                   "type": "article"},
    score=0.5, cosine=0.1, bm25=0.0, bm25_rank=9, gap_days=None, time_factor=0.16667,
    contributions={"dense": 0.5})

LONG_WHY = ("score 1.235 = dense 0.612 + lexical 0.622; cosine 0.654, BM25 7.27 (rank 4), "
            "time gap -0.7 d (factor 0.82); shared words: drones, parks")
SHORT_WHY = ("score 0.500 = dense 0.500; cosine 0.100, BM25 0.00 (rank 9), time gap unknown "
             "(factor 0.17); shared words: none")
YAML = """related:
  - title: "Harbor council bans delivery drones over all city parks after long debate"
    excerpt: "Über ruling"
    publishedDateTime: 2026-01-11T08:00:00Z
    webUrl: "https://a.example/1"
    type: article
    provider:
      name: The Extremely Long Provider Name Gazette
      domain: a.example
    quality: 47
  - title: "Short"
    webUrl: "https://b.example/2"
    type: article
"""


def test_yaml_is_the_feeds_related_list() -> None:
    assert as_yaml([LONG, SHORT]) == YAML
    assert as_yaml([]) == "related: []\n"


def test_yaml_explain_puts_a_comment_above_each_entry() -> None:
    lines = YAML.splitlines()
    expected = [lines[0], f"  # {LONG_WHY}", *lines[1:10], f"  # {SHORT_WHY}", *lines[10:]]
    assert as_yaml([LONG, SHORT], explain=True) == "\n".join(expected) + "\n"


def test_json_object_is_the_entry_and_its_score() -> None:
    plain = as_json_object("q.md", "https://q.example/", [SHORT])
    assert plain == {"input": "q.md", "webUrl": "https://q.example/", "related": [
        {"title": "Short", "webUrl": "https://b.example/2", "type": "article", "score": 0.5}]}
    explained = as_json_object("q.md", None, [LONG], explain=True)["related"][0]
    assert explained["score"] == 1.2346
    assert explained["explain"] == {
        "cosine": 0.6543, "bm25": 7.268, "bm25_rank": 4, "gap_days": -0.74,
        "time_factor": 0.8234, "contributions": {"dense": 0.6123, "lexical": 0.6222},
        "shared_words": ["drones", "parks"]}
    assert list(explained)[-2:] == ["score", "explain"]


def test_json_text_keeps_non_ascii_and_ends_with_a_newline() -> None:
    text = as_json([as_json_object("q.md", None, [LONG])])
    assert text.endswith("}\n]\n") and '"excerpt": "Über ruling"' in text
    assert text.startswith('[\n  {\n    "input": "q.md",\n    "webUrl": null,')
    assert json.loads(text)[0]["related"][0]["provider"]["domain"] == "a.example"


@pytest.fixture
def columns(monkeypatch):
    def set_width(width: int) -> None:
        monkeypatch.setenv("COLUMNS", str(width))
    return set_width


def test_table_rows_on_a_wide_terminal(columns) -> None:
    columns(100)
    assert as_table("q.md", [LONG, SHORT]) == (
        "q.md\n\n"
        "   #  score  published   provider              title\n"
        # 100 columns - 47 for the head = 53 for the title: 44 characters of words + " [...]"
        "   1  1.235  2026-01-11  The Extremely Long…   Harbor council bans delivery drones "
        "over all [...]\n"
        "   2  0.500                                    Short\n")


def test_table_titles_shrink_but_never_below_20_characters(columns) -> None:
    columns(5)  # narrower than a row: the table is laid out for 60 columns
    assert as_table("", [LONG]) == (
        "   #  score  published   provider              title\n"
        "   1  1.235  2026-01-11  The Extremely Long…   Harbor council [...]\n")


def test_table_explain_wraps_under_each_row(columns) -> None:
    columns(80)  # explanations wrap at 80 - 8 = 72 columns, 64 of them text
    assert as_table("q.md", [LONG, SHORT], explain=True).splitlines()[3:] == [
        "   1  1.235  2026-01-11  The Extremely Long…   Harbor council bans [...]",
        "        score 1.235 = dense 0.612 + lexical 0.622; cosine 0.654, BM25",
        "        7.27 (rank 4), time gap -0.7 d (factor 0.82); shared words:",
        "        drones, parks",
        "   2  0.500                                    Short",
        "        score 0.500 = dense 0.500; cosine 0.100, BM25 0.00 (rank 9),",
        "        time gap unknown (factor 0.17); shared words: none"]


def test_table_without_suggestions_says_so() -> None:
    assert as_table("q.md", []) == "q.md\n\n  (no suggestions)\n"
    assert as_table("", []) == "  (no suggestions)\n"


@pytest.mark.parametrize(("text", "width", "shown"), [
    ("abcd", 4, "abcd"), ("abcde", 4, "abc…"), ("ab  cdef", 5, "ab…"), ("", 3, "")])
def test_clip_marks_where_it_cut(text: str, width: int, shown: str) -> None:
    assert clip(text, width) == shown
