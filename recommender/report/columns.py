"""Which columns the metric tables show, and which value of each column is best.

Both the Markdown table and the HTML report use this module, so they always agree.

The rule for "best": a column has a best value only when at least two methods have a value
in it (a lone method is not better than anything) and the column is not in ``NO_BEST``. The
best is the highest value (the lowest for ``LOWER_IS_BETTER``); every method whose value
equals it (ties) is best.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

SUMMARY_COLUMNS = ("ndcg@{k}", "recall@{k}", "precision@{k}", "map@{k}", "mrr", "hit_rate@{k}",
                   "ndcg@5", "recall@5", "ndcg@1", "coverage", "median_gap_days")
LOWER_IS_BETTER = frozenset({"median_gap_days"})
NO_BEST = frozenset({"coverage"})  # more coverage is not better or worse by itself
TIE = 1e-12
"""Values closer than this are equal: means of the same numbers in another order."""

Row = Mapping[str, float | None]
"""One method's figures by column name."""


def number(value: object) -> float | None:
    """``value`` as a float, or None if it is missing, not a number, or NaN."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return None if math.isnan(value) else float(value)


def table_columns(k: int, rows: Mapping[str, Row]) -> list[str]:
    """The summary columns for cut-off ``k`` that at least one row has, in display order."""
    available = {key for row in rows.values() for key in row}
    return [c for c in dict.fromkeys(c.format(k=k) for c in SUMMARY_COLUMNS) if c in available]


def best_values(rows: Mapping[str, Row], columns: Sequence[str]) -> dict[str, float]:
    """The best value of each column that has one (see the module's rule)."""
    best = {}
    for column in columns:
        values = [v for v in (number(row.get(column)) for row in rows.values()) if v is not None]
        if len(values) >= 2 and column not in NO_BEST:
            best[column] = min(values) if column in LOWER_IS_BETTER else max(values)
    return best


def is_best(value: float | None, column: str, best: Mapping[str, float]) -> bool:
    """Whether ``value`` is the best of ``column`` (or ties with it)."""
    number_ = number(value)
    return column in best and number_ is not None and abs(number_ - best[column]) < TIE
