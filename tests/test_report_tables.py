"""The report package's pieces on exact output: columns and best values, the Markdown tables,
the stylesheet shipped as package data, and the package's import structure."""

from __future__ import annotations

import ast
import math
from importlib import resources
from pathlib import Path

import pytest

from recommender.evaluate import Significance
from recommender.report import columns, html_report, metrics_table, significance_table
from recommender.report.html import stylesheet

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "recommender" / "report"


def test_columns_in_display_order_without_repeats() -> None:
    rows = {"m": {"mrr": 1.0, "ndcg@5": 1.0, "recall@5": 1.0, "ndcg@1": 1.0, "coverage": 1.0,
                  "ndcg@10": 1.0, "hit_rate@10": 1.0, "median_gap_days": 1.0, "map@10": 1.0}}
    assert columns.table_columns(10, rows) == ["ndcg@10", "map@10", "mrr", "hit_rate@10",
                                               "ndcg@5", "recall@5", "ndcg@1", "coverage",
                                               "median_gap_days"]
    # k = 5: "ndcg@{k}" and "ndcg@5" are one column, shown once, first.
    assert columns.table_columns(5, rows) == ["ndcg@5", "recall@5", "mrr", "ndcg@1",
                                              "coverage", "median_gap_days"]
    # A column any row has is shown, even if the first row lacks it (k = 1: nDCG@1 first).
    assert columns.table_columns(1, {"a": {"mrr": 1.0}, "b": {"ndcg@1": 0.5}}) == ["ndcg@1",
                                                                                  "mrr"]


def test_best_values_rule() -> None:
    rows = {"a": {"ndcg@10": 0.5, "coverage": 0.9, "median_gap_days": 4.0, "mrr": None},
            "b": {"ndcg@10": 0.7, "coverage": 0.1, "median_gap_days": 2.0, "mrr": 0.3},
            "c": {"ndcg@10": 0.7, "coverage": 0.5, "median_gap_days": float("nan"),
                  "mrr": None}}
    best = columns.best_values(rows, ["ndcg@10", "coverage", "median_gap_days", "mrr"])
    # Highest nDCG (a tie); lowest gap, NaN ignored; no best coverage; mrr has one value only.
    assert best == {"ndcg@10": 0.7, "median_gap_days": 2.0}
    assert columns.is_best(0.7, "ndcg@10", best) and columns.is_best(0.7 + 1e-15, "ndcg@10",
                                                                      best)
    assert not columns.is_best(0.5, "ndcg@10", best)
    assert not columns.is_best(None, "ndcg@10", best) and not columns.is_best(0.9, "coverage",
                                                                               best)
    # One method alone has nothing to be best at.
    assert columns.best_values({"a": {"ndcg@10": 0.5}}, ["ndcg@10"]) == {}
    assert columns.number(True) is None and columns.number(math.nan) is None
    assert columns.number(3) == 3.0


def test_markdown_metrics_table_exact() -> None:
    rows = {"recommender": {"ndcg@10": 0.41234, "mrr": 0.5, "coverage": 0.25,
                            "median_gap_days": None},
            "dense": {"ndcg@10": 0.5, "mrr": 0.5, "coverage": 0.75, "median_gap_days": 3.25}}
    assert metrics_table(rows, 10) == (
        "| method | ndcg@10 | mrr | coverage | median_gap_days |\n"
        "|---|---:|---:|---:|---:|\n"
        "| recommender | 0.412 | **0.500** | 0.250 | – |\n"
        "| dense | **0.500** | **0.500** | 0.750 | 3.250 |")


def test_markdown_single_method_has_no_bold() -> None:
    # The rule shared with the HTML report: a lone method is not "best".
    assert metrics_table({"dense": {"ndcg@10": 0.5}}, 10) == (
        "| method | ndcg@10 |\n|---|---:|\n| dense | 0.500 |")
    page = html_report_single()
    assert "<strong>" not in page.split('<section id="summary">')[1].split("</section>")[0]


def html_report_single() -> str:
    from recommender.evaluate import EvaluationResults, MethodSummary

    return html_report(EvaluationResults(
        queries=1, reachable_queries=1, ceiling=1.0, gold_items=1, reachable_gold_items=1,
        pool=2, k=10, ks=[10], methods={"dense": MethodSummary({"ndcg@10": 0.5}, 0.5, 1.0)},
        all_queries={"dense": {"ndcg@10": 0.5}}, significance={}, per_topic={},
        time_gaps={}, per_query=[], corpus=[], model="m"))


def test_markdown_significance_table_exact() -> None:
    common = {"metric": "ndcg@10", "against": "recommender"}
    rows = {"dense": Significance(**common, mean_difference=-0.12345, low=-0.2, high=-0.05,
                                  p_value=0.00042, significant=True),
            "bm25": Significance(**common, mean_difference=0.01, low=-0.03, high=0.051,
                                 p_value=0.5, significant=False)}
    assert significance_table(rows) == (
        "ndcg@10 of each method minus recommender's, paired by query (bootstrap 95% interval, "
        "randomisation-test p):\n\n"
        "| method | difference | 95% interval | p |\n|---|---:|---:|---:|\n"
        "| dense | -0.123 | [-0.200, -0.050] | 0.0004 |\n"
        "| bm25 | +0.010 | [-0.030, +0.051] | 0.5000 |")
    assert significance_table({}) == ""


def test_stylesheet_is_package_data() -> None:
    css = resources.files("recommender.report").joinpath("report.css").read_text("utf-8")
    assert css.startswith(":root {") and stylesheet() == css
    assert f"<style>\n{css}</style>" in html_report_single()
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "report.css" in config["tool"]["setuptools"]["package-data"]["recommender.report"]


def _imports(path: Path) -> dict[str, set[str]]:
    """Module -> names imported from it (``*`` for a plain ``import module``)."""
    found: dict[str, set[str]] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.setdefault(node.module, set()).update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                found.setdefault(alias.name, set()).add("*")
    return found


@pytest.mark.parametrize("module", sorted(p.name for p in REPORT.glob("*.py")))
def test_report_imports_only_the_result_dataclasses(module: str) -> None:
    from recommender import evaluate

    dataclasses = {name for name, value in vars(evaluate).items()
                   if isinstance(value, type) and value.__module__ == evaluate.__name__
                   and hasattr(value, "__dataclass_fields__") and name != "Evaluation"}
    imports = _imports(REPORT / module)
    assert imports.get("recommender.evaluate", set()) <= dataclasses | {"Scores"}
    recommender = {m for m in imports if m.startswith("recommender")}
    allowed = {"recommender.evaluate", "recommender.report", "recommender.report.columns",
               "recommender.report.svg", "recommender.report.html",
               "recommender.report.markdown"}
    assert recommender <= allowed
    # Markdown and HTML share only columns: neither imports the other.
    other = {"html.py": "markdown", "markdown.py": "html"}.get(module)
    if other:
        assert f"recommender.report.{other}" not in imports
        assert other not in imports.get("recommender.report", set())
