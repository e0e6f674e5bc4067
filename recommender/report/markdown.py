"""Evaluation results -> the Markdown summary the CLI prints."""

from __future__ import annotations

from collections.abc import Mapping

from recommender.evaluate import EvaluationResults, Significance
from recommender.report.columns import Row, best_values, is_best, table_columns


def _cell(value: float | None, bold: bool) -> str:
    text = "–" if value is None else f"{value:.3f}"
    return f"**{text}**" if bold else text


def metrics_table(rows: Mapping[str, Row], k: int) -> str:
    """Methods × metrics as a Markdown table, the best value of each column in bold
    (the rule is in ``recommender.report.columns``)."""
    columns = table_columns(k, rows)
    best = best_values(rows, columns)
    lines = ["| method | " + " | ".join(columns) + " |",
             "|---|" + "---:|" * len(columns)]
    for method, row in rows.items():
        cells = [_cell(row.get(c), is_best(row.get(c), c, best)) for c in columns]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def significance_table(rows: Mapping[str, Significance]) -> str:
    """Each method's difference to the reference, its interval and p, as a Markdown table."""
    if not rows:
        return ""
    first = next(iter(rows.values()))
    lines = [f"{first.metric} of each method minus {first.against}'s, paired by query "
             "(bootstrap 95% interval, randomisation-test p):", "",
             "| method | difference | 95% interval | p |", "|---|---:|---:|---:|"]
    for method, row in rows.items():
        lines.append(f"| {method} | {row.mean_difference:+.3f} | [{row.low:+.3f}, "
                     f"{row.high:+.3f}] | {row.p_value:.4f} |")
    return "\n".join(lines)


def summary_markdown(results: EvaluationResults) -> str:
    """The terminal summary: counts, the two metric tables and the paired comparison."""
    r = results
    head = (f"{r.queries} queries ({r.reachable_queries} with a reachable curated item), "
            f"pool of {r.pool} articles; ceiling {r.ceiling:.1%} of {r.gold_items} curated "
            "items are findable.")
    reachable_rows = {m: summary.row() for m, summary in r.methods.items()}
    parts = [head, "",
             f"Over the {r.reachable_queries} reachable queries (gold = their "
             "findable curated items):", "", metrics_table(reachable_rows, r.k), "",
             f"Over all {r.queries} queries (gold = every curated item):", "",
             metrics_table(r.all_queries, r.k)]
    significance = significance_table(r.significance)
    if significance:
        parts += ["", significance]
    return "\n".join(parts) + "\n"
