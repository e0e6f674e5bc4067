"""Evaluation results -> the Markdown summary, ``results.json`` and ``report.html``.

``columns`` decides the tables' columns and best values for both ``markdown`` and ``html``;
``svg`` draws the HTML report's charts; ``report.css`` is its stylesheet (package data).
"""

from __future__ import annotations

import json
from pathlib import Path

from recommender.evaluate import EvaluationResults
from recommender.report.html import html_report
from recommender.report.markdown import metrics_table, significance_table, summary_markdown

__all__ = ["html_report", "metrics_table", "significance_table", "summary_markdown",
           "write_results"]


def write_results(results: EvaluationResults, folder: Path) -> list[Path]:
    """Write ``results.json`` and ``report.html`` into ``folder``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (("results.json",
                        json.dumps(results.to_json(), indent=1, ensure_ascii=False)),
                       ("report.html", html_report(results))):
        path = folder / name
        temporary = path.with_name(f".{name}.tmp")
        temporary.write_text(text + "\n", encoding="utf-8")
        temporary.replace(path)
        written.append(path)
    return written
