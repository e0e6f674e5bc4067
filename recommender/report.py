"""Evaluation results -> a Markdown summary table, ``results.json`` and ``report.html``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SUMMARY_COLUMNS = ("ndcg@{k}", "recall@{k}", "precision@{k}", "map@{k}", "mrr", "hit_rate@{k}",
                   "ndcg@5", "recall@5", "ndcg@1", "coverage", "median_gap_days")
LOWER_IS_BETTER = frozenset({"median_gap_days"})
NO_BEST = frozenset({"coverage"})  # more coverage is not better or worse by itself


def _columns(k: int, available: Sequence[str]) -> list[str]:
    return [c for c in dict.fromkeys(c.format(k=k) for c in SUMMARY_COLUMNS) if c in available]


def _cell(value: float | None, bold: bool) -> str:
    text = "–" if value is None else f"{value:.3f}"
    return f"**{text}**" if bold else text


def metrics_table(rows: dict[str, dict[str, Any]], k: int) -> str:
    """Methods × metrics as a Markdown table, the best value of each column in bold."""
    methods = list(rows)
    columns = _columns(k, list(next(iter(rows.values()))))
    best = {}
    for column in columns:
        values = [rows[m].get(column) for m in methods if rows[m].get(column) is not None]
        if values and column not in NO_BEST:
            best[column] = min(values) if column in LOWER_IS_BETTER else max(values)
    lines = ["| method | " + " | ".join(columns) + " |",
             "|---|" + "---:|" * len(columns)]
    for method in methods:
        cells = [_cell(rows[method].get(c), c in best and rows[method].get(c) == best[c])
                 for c in columns]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def significance_table(results: dict[str, Any]) -> str:
    rows = results.get("significance") or {}
    if not rows:
        return ""
    first = next(iter(rows.values()))
    lines = [f"{first['metric']} of each method minus {first['against']}'s, paired by query "
             "(bootstrap 95% interval, randomisation-test p):", "",
             "| method | difference | 95% interval | p |", "|---|---:|---:|---:|"]
    for method, row in rows.items():
        low, high = row["ci95"]
        lines.append(f"| {method} | {row['mean_difference']:+.3f} | [{low:+.3f}, {high:+.3f}] "
                     f"| {row['p_value']:.4f} |")
    return "\n".join(lines)


def summary_markdown(results: dict[str, Any]) -> str:
    """The terminal summary: counts, the two metric tables and the paired comparison."""
    k = results["k"]
    head = (f"{results['queries']} queries ({results['reachable_queries']} with a reachable "
            f"curated item), pool of {results['pool']} articles; ceiling "
            f"{results['ceiling']:.1%} of {results['gold_items']} curated items are findable.")
    parts = [head, "",
             f"Over the {results['reachable_queries']} reachable queries (gold = their "
             "findable curated items):", "", metrics_table(results["methods"], k), "",
             f"Over all {results['queries']} queries (gold = every curated item):", "",
             metrics_table(results["all_queries"], k)]
    significance = significance_table(results)
    if significance:
        parts += ["", significance]
    return "\n".join(parts) + "\n"


def write_results(results: dict[str, Any], folder: Path) -> list[Path]:
    """Write ``results.json`` and ``report.html`` into ``folder``; returns their paths."""
    from recommender.report_html import html_report

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (("results.json", json.dumps(results, indent=1, ensure_ascii=False)),
                       ("report.html", html_report(results))):
        path = folder / name
        temporary = path.with_name(f".{name}.tmp")
        temporary.write_text(text + "\n", encoding="utf-8")
        temporary.replace(path)
        written.append(path)
    return written
