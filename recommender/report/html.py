"""Evaluation results -> one self-contained HTML page (inline CSS and SVG, no script, no fonts).

The page reads top to bottom: what was evaluated, the metric tables and the paired comparison,
recall and nDCG by cut-off, nDCG per topic, how far in time suggestions stray, the queries the
product handles worst (curated list beside its suggestions), and what each metric means.
Every string from the data is escaped; the output depends only on the input.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

from recommender.evaluate import (
    EvaluationResults,
    GoldItem,
    QueryDetail,
    RankedItem,
    Scores,
    Significance,
    TopicScores,
)
from recommender.report import svg
from recommender.report.columns import Row, best_values, is_best, number, table_columns
from recommender.report.svg import escape as _e

PRODUCT = "recommender"
PALETTE = ("#1f5fa8", "#e08a00", "#2a9d6f", "#b5509b", "#8d8d8d", "#c2452d", "#4fa3d9",
           "#7a5c3e")
CURATED_COLOUR = "#2f3a44"
GAP_BINS = ((0.0, 1.0), (1.0, 2.0), (2.0, 3.0), (3.0, 5.0), (5.0, 7.0), (7.0, 14.0),
            (14.0, 30.0), (30.0, 90.0), (90.0, math.inf))
WEEK = 7.0
WORST = 15
CURATED_SHOWN = 12
LABELS = {"ndcg": "nDCG", "recall": "Recall", "precision": "Precision", "map": "MAP",
          "hit_rate": "Hit rate", "mrr": "MRR", "coverage": "Coverage",
          "median_gap_days": "Median gap (days)"}


@cache
def stylesheet() -> str:
    """The page's CSS, shipped as package data beside this module."""
    return resources.files("recommender.report").joinpath("report.css").read_text("utf-8")


@dataclass(frozen=True)
class _Page:
    """What every section needs: the data, the cut-offs and the methods with their colours."""

    results: EvaluationResults
    k: int
    ks: list[int]
    methods: list[str]
    product: str | None
    colours: dict[str, str]


def html_report(results: EvaluationResults) -> str:
    """One self-contained HTML page (no network, no external JS/CSS/fonts) for an evaluation."""
    page = _page(results)
    sections = (_header(page), _summary(page), _significance(page), _cutoff_charts(page),
                _topics(page), _time_gaps(page), _worst(page), _glossary(page))
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<title>Related-article evaluation</title>\n"
            f"<style>\n{stylesheet()}</style>\n</head>\n<body>\n<main>\n"
            + "\n".join(s for s in sections if s) + "\n</main>\n</body>\n</html>")


# -- shared pieces ---------------------------------------------------------------------------


def _page(results: EvaluationResults) -> _Page:
    names = list(results.methods or results.all_queries)
    if not names:
        names = [m for m in results.time_gaps if m != "curated"]
    product = PRODUCT if PRODUCT in names else (names[0] if names else None)
    methods = ([product] if product else []) + [m for m in names if m != product]
    ks = sorted(set(results.ks)) or [results.k]
    colours = {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(methods)}
    return _Page(results, results.k, ks, methods, product, colours)


def _fmt(value: float | None, digits: int = 3) -> str:
    value = number(value)
    return "–" if value is None else f"{value:.{digits}f}"


def _pct(value: float | None, digits: int = 1) -> str:
    value = number(value)
    return "–" if value is None else f"{value:.{digits}%}"


def _days(value: float | None) -> str:
    value = number(value)
    if value is None:
        return "date unknown"
    return "0.0 d" if abs(value) < 0.05 else f"{value:+.1f} d".replace("-", "−")


def _count(value: int) -> str:
    return f"{value:,}"


def _label(metric: str) -> str:
    name, _, cut = metric.partition("@")
    text = LABELS.get(name, name)
    return f"{text}@{cut}" if cut else text


def _swatch(colour: str) -> str:
    return f'<span class="swatch" style="background:{colour}"></span>'


def _method(page: _Page, method: str) -> str:
    tag = '<span class="tag">product</span>' if method == PRODUCT else ""
    return f"{_swatch(page.colours.get(method, CURATED_COLOUR))}{_e(method)}{tag}"


def _legend(page: _Page, extra: Sequence[tuple[str, str]] = ()) -> str:
    entries = [*extra, *((m, page.colours[m]) for m in page.methods)]
    items = "".join(f"<li>{_swatch(colour)}{_e(name)}</li>" for name, colour in entries)
    return f'<ul class="legend" aria-label="legend">{items}</ul>'


def _section(anchor: str, title: str, body: Iterable[str]) -> str:
    return f'<section id="{anchor}">\n<h2>{_e(title)}</h2>\n' + "\n".join(body) + "\n</section>"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- 1. header -------------------------------------------------------------------------------


def _header(page: _Page) -> str:
    r = page.results
    corpus = ", ".join(f"<code>{_e(p)}</code>" for p in r.corpus) or "–"
    model = f"<code>{_e(r.model)}</code>" if r.model else "–"
    return "\n".join([
        "<header>", "<h1>Related-article evaluation</h1>",
        '<p class="lede">How well each method finds the articles that editors listed as '
        "related, when every article with a curated <code>related:</code> list is used as a "
        "query and its own list is hidden.</p>",
        f'<p class="small">Corpus: {corpus} · Model: {model} · Cut-off k = {page.k}</p>',
        _stats(page), _ceiling_note(page), _at_a_glance(page), _nav(), "</header>"])


def _stats(page: _Page) -> str:
    r = page.results
    share = f"{r.reachable_queries / r.queries:.0%} of queries" if r.queries else ""
    cells = [("Queries", _count(r.queries), "articles with a curated list"),
             ("Reachable queries", _count(r.reachable_queries), share),
             ("Candidate pool", _count(r.pool), "articles"),
             ("Ceiling", _pct(r.ceiling),
              f"{_count(r.reachable_gold_items)} of {_count(r.gold_items)} "
              "curated items findable")]
    body = "".join(f"<div><dt>{title}</dt><dd>{value}<span>{_e(note)}</span></dd></div>"
                   for title, value, note in cells)
    return f'<dl class="stats">{body}</dl>'


def _ceiling_note(page: _Page) -> str:
    ceiling = _pct(page.results.ceiling)
    return (f'<p class="note small"><strong>Ceiling {ceiling}</strong>: the share of curated '
            "related items that are candidates at all. The rest are known only from the "
            "query's own related list (or are the query itself), so no method can ever suggest "
            "them; this caps every score over all queries.</p>")


def _at_a_glance(page: _Page) -> str:
    rows = _summary_rows(page.results)
    metric = f"ndcg@{page.k}"
    if page.product is None or number(rows.get(page.product, {}).get(metric)) is None:
        return ""
    text = (f"On the reachable queries, <strong>{_e(page.product)}</strong> reaches "
            f"{_label(metric)} <strong>{_fmt(rows[page.product][metric])}</strong>")
    others = [(m, number(rows.get(m, {}).get(metric))) for m in page.methods[1:]]
    scored = [(value, m) for m, value in others if value is not None]
    if scored:
        value, best = max(scored, key=lambda item: item[0])
        text += f"; the best other method, {_e(best)}, reaches {_fmt(value)}"
    return f"<p>{text}.</p>"


def _nav() -> str:
    links = (("summary", "Summary"), ("significance", "Significance"), ("cutoffs", "By cut-off"),
             ("topics", "By topic"), ("gaps", "Time gaps"), ("worst", "Worst queries"),
             ("glossary", "How to read this"))
    items = "".join(f'<li><a href="#{a}">{t}</a></li>' for a, t in links)
    return f'<nav aria-label="sections"><ol>{items}</ol></nav>'


# -- 2. tables -------------------------------------------------------------------------------


def _summary(page: _Page) -> str:
    r = page.results
    body = [f"<h3>{_count(r.reachable_queries)} reachable queries</h3>",
            "<p>Against the curated items each query could find: this measures the ranking "
            "itself. Best value per column in bold (coverage has no best: more is neither "
            "better nor worse).</p>",
            _metric_table(page, _summary_rows(r)),
            f"<h3>All {_count(r.queries)} queries</h3>",
            "<p>Against every curated item, findable or not, so the ceiling caps recall.</p>",
            _metric_table(page, r.all_queries)]
    return _section("summary", "Summary", body)


def _summary_rows(results: EvaluationResults) -> dict[str, Row]:
    return {m: summary.row() for m, summary in results.methods.items()}


def _value_cell(column: str, value: float | None, bold: bool) -> str:
    if column == "coverage":
        text = _pct(value)
    elif column == "median_gap_days":
        text = _fmt(value, 1)
    else:
        text = _fmt(value)
    return f"<td><strong>{text}</strong></td>" if bold else f"<td>{text}</td>"


def _metric_table(page: _Page, rows: Mapping[str, Row]) -> str:
    methods = [m for m in page.methods if m in rows]
    if not methods:
        return '<p class="muted">No metrics in these results.</p>'
    columns = table_columns(page.k, rows)
    best = best_values(rows, columns)
    head = "<tr><th>method</th>" + "".join(f"<th>{_e(_label(c))}</th>" for c in columns)
    lines = [f'<div class="scroll"><table class="metrics">\n<thead>{head}</tr></thead><tbody>']
    for method in methods:
        css = ' class="product"' if method == page.product else ""
        row = rows[method]
        cells = "".join(_value_cell(c, row.get(c), is_best(row.get(c), c, best))
                        for c in columns)
        lines.append(f"<tr{css}><td>{_method(page, method)}</td>{cells}</tr>")
    return "\n".join([*lines, "</tbody></table></div>"])


def _significance(page: _Page) -> str:
    rows = page.results.significance
    if not rows:
        return _section("significance", "Is the difference real?", [
            '<p class="muted">No paired comparison in these results: it needs the product '
            f"method ({_e(PRODUCT)}) and at least one other.</p>"])
    first = next(iter(rows.values()))
    metric, against = first.metric, first.against
    body = [f"<p>Each method's {_e(_label(metric))} minus {_e(against)}'s, paired query by "
            "query over the reachable queries. The interval is a bootstrap 95% interval; p is "
            "from a randomisation test (the chance of a difference this large if the two "
            "methods were interchangeable).</p>", _significance_table(page, rows)]
    return _section("significance", "Is the difference real?", body)


def _significance_table(page: _Page, rows: Mapping[str, Significance]) -> str:
    scale = max([abs(v) for row in rows.values() for v in (row.low, row.high)] + [0.05])
    lines = ['<div class="scroll"><table class="significance"><thead><tr><th>method</th>'
             "<th>difference</th><th>95% interval</th>"
             '<th style="text-align:center">interval vs 0 (dashed)</th><th>p</th>'
             '<th style="text-align:left">verdict</th></tr></thead><tbody>']
    for method, row in rows.items():
        lines.append(f"<tr><td>{_method(page, method)}</td>"
                     f"<td>{_signed(row.mean_difference)}</td>"
                     f"<td>[{_signed(row.low)}, {_signed(row.high)}]</td>"
                     f'<td class="plot">{_interval_plot(page, method, row, scale)}</td>'
                     f"<td>{_p_value(row.p_value)}</td>"
                     f'<td class="text">{_verdict(method, row)}</td></tr>')
    return "\n".join([*lines, "</tbody></table></div>"])


def _signed(value: float) -> str:
    return f"{value:+.3f}".replace("-", "−")


def _p_value(value: float) -> str:
    return "&lt; 0.001" if value < 0.001 else f"{value:.3f}"


def _verdict(method: str, row: Significance) -> str:
    against, mean = _e(row.against), row.mean_difference
    if not row.significant:
        return (f"No clear difference: the interval includes zero, so {_e(method)} and "
                f"{against} may be equally good.")
    if mean < 0:
        return (f'<span class="better">{against} is better</span>: {_e(method)} scores '
                f"{abs(mean):.3f} lower on average, more than chance explains.")
    return (f'<span class="worse">{_e(method)} is better</span> than {against} by {mean:.3f} '
            "on average, more than chance explains.")


def _interval_plot(page: _Page, method: str, row: Significance, scale: float) -> str:
    width, height, pad = 180, 18, 6
    low, high, mean = row.low, row.high, row.mean_difference

    def x(value: float) -> float:
        return pad + (width - 2 * pad) * (value + scale) / (2 * scale)

    colour = page.colours.get(method, CURATED_COLOUR)
    body = [svg.vline(x(0), 1, height - 1, colour="#9aa5ae", dash="2 2"),
            f'<line x1="{x(low):.1f}" y1="9" x2="{x(high):.1f}" y2="9" stroke="{colour}" '
            'stroke-width="2"/>',
            f'<circle cx="{x(mean):.1f}" cy="9" r="3.5" fill="{colour}"/>']
    return svg.svg(width, height, f"{method}: interval {low:+.3f} to {high:+.3f}", body)


# -- 3. recall and nDCG by cut-off -----------------------------------------------------------


def _cutoff_charts(page: _Page) -> str:
    rows = _summary_rows(page.results)
    if not rows:
        return _section("cutoffs", "Recall and nDCG by cut-off",
                        ['<p class="muted">No metrics in these results.</p>'])
    ks = ", ".join(str(k) for k in page.ks)
    charts = [_line_chart(page, rows, "recall", "Recall@k"),
              _line_chart(page, rows, "ndcg", "nDCG@k")]
    body = [f"<p>Reachable queries, for each cut-off k in {ks}. Recall grows with k by "
            "construction; nDCG also rewards putting the right articles first.</p>",
            _legend(page), f'<div class="charts">{"".join(charts)}</div>']
    return _section("cutoffs", "Recall and nDCG by cut-off", body)


def _line_chart(page: _Page, rows: Mapping[str, Row], prefix: str, title: str) -> str:
    width, height, left, right, top, bottom = 500, 290, 46, 18, 28, 42
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(i: int) -> float:
        return left + plot_w * (i + 0.5) / len(page.ks)

    def y(value: float) -> float:
        return top + plot_h * (1 - value)

    body = [svg.text(left - 40, 14, title, extra=' font-weight="600" style="font-size:13px"')]
    for tick in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0):
        body += [svg.hline(left, width - right, y(tick)),
                 svg.text(left - 6, y(tick) + 4, f"{tick:.1f}", anchor="end", css="axis")]
    for i, k in enumerate(page.ks):
        body.append(svg.text(x(i), height - bottom + 16, f"k = {k}", anchor="middle",
                             css="axis"))
    body.append(svg.text(left + plot_w / 2, height - 6, "cut-off k (suggestions shown)",
                         anchor="middle", css="axis"))
    for method in reversed(page.methods):
        body.append(_series(page, method, rows.get(method, {}), prefix=prefix, x=x, y=y))
    return svg.svg(width, height, f"{title} by cut-off, one line per method", body)


def _series(page: _Page, method: str, row: Row, *, prefix: str, x: Callable[[int], float],
            y: Callable[[float], float]) -> str:
    colour = page.colours[method]
    points = [(i, k, number(row.get(f"{prefix}@{k}"))) for i, k in enumerate(page.ks)]
    points = [(i, k, v) for i, k, v in points if v is not None]
    path = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, _, v in points)
    width = 3 if method == page.product else 2
    line = (f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="{width}" '
            'stroke-linejoin="round"/>') if len(points) > 1 else ""
    dots = "".join(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="4" fill="{colour}" '
                   f'stroke="#fff" stroke-width="1.5"><title>{_e(method)}: '
                   f"{_e(_label(f'{prefix}@{k}'))} = {v:.3f}</title></circle>"
                   for i, k, v in points)
    return f"<g>{line}{dots}</g>"


# -- 4. per topic ----------------------------------------------------------------------------


def _topics(page: _Page) -> str:
    topics = page.results.per_topic
    metric = f"ndcg@{page.k}"
    if not topics:
        return _section("topics", f"{_label(metric)} by topic",
                        ['<p class="muted">No per-topic breakdown in these results.</p>'])
    ordered = sorted(topics.items(), key=lambda item: (-item[1].queries, item[0]))
    cards = "".join(_topic_card(page, topic, row, metric) for topic, row in ordered)
    body = [f"<p>Reachable queries grouped by their article's first specific topic, largest "
            f"group first; bars show mean {_label(metric)} (0 to 1). Small groups are noisy.</p>",
            _legend(page), f'<div class="grid">{cards}</div>']
    return _section("topics", f"{_label(metric)} by topic", body)


def _topic_card(page: _Page, topic: str, row: TopicScores, metric: str) -> str:
    count = _count(row.queries)
    noun = "query" if row.queries == 1 else "queries"
    bars = [(m, number(row.methods.get(m, {}).get(metric))) for m in page.methods]
    chart = _bar_rows(page, [(m, v) for m, v in bars if v is not None], metric)
    return (f'<div class="card"><h3>{_e(topic)} <span>· {count} {noun}</span></h3>'
            f"{chart}</div>")


def _bar_rows(page: _Page, bars: Sequence[tuple[str, float]], metric: str) -> str:
    width, label_w, value_w, row_h, top = 330, 84, 40, 17, 4
    plot_w = width - label_w - value_w
    height = top + row_h * len(bars) + 4
    body = [svg.vline(label_w + plot_w * t, 0, height) for t in (0.0, 0.5, 1.0)]
    for i, (method, value) in enumerate(bars):
        y = top + i * row_h
        length = plot_w * max(0.0, min(value, 1.0))
        body += [svg.text(label_w - 6, y + 12, _clip(method, 12), anchor="end", css="axis"),
                 svg.rect(label_w, y + 2, length, row_h - 5, colour=page.colours[method],
                          tip=f"{method}: {_label(metric)} = {value:.3f}"),
                 svg.text(label_w + length + 4, y + 12, f"{value:.2f}")]
    return svg.svg(width, height, f"{_label(metric)} per method", body)


# -- 5. time gaps ----------------------------------------------------------------------------


def _time_gaps(page: _Page) -> str:
    gaps = page.results.time_gaps
    series = [("curated", CURATED_COLOUR)] if "curated" in gaps else []
    series += [(m, page.colours[m]) for m in page.methods if m in gaps]
    if not series:
        return _section("gaps", "How far apart in time",
                        ['<p class="muted">No publication-time gaps in these results.</p>'])
    shares = {name: _bin_shares(_gap_values(gaps[name])) for name, _ in series}
    peak = max([s for values in shares.values() for s in values] + [0.1])
    top = math.ceil(peak * 10) / 10
    panels = "".join(_gap_panel(name, colour, values=_gap_values(gaps[name]),
                                shares=shares[name], top=top)
                     for name, colour in series)
    body = [f"<p>Absolute gap in days between a query's publication and that of each curated "
            f"related item (<em>curated</em>) or each of a method's top-{page.k} suggestions. "
            "Bars are the share of items per bin, on the same scale in every panel; the dashed "
            "line marks one week.</p>", f'<div class="grid">{panels}</div>']
    return _section("gaps", "How far apart in time", body)


def _gap_values(values: Sequence[float]) -> list[float]:
    return [abs(v) for v in (number(v) for v in values) if v is not None]


def _bin_shares(values: Sequence[float]) -> list[float]:
    counts = [sum(1 for v in values if low <= v < high) for low, high in GAP_BINS]
    return [c / len(values) if values else 0.0 for c in counts]


def _bin_label(low: float, high: float) -> str:
    return f"{low:g}+" if math.isinf(high) else f"{low:g}–{high:g}"


def _gap_panel(name: str, colour: str, *, values: Sequence[float], shares: Sequence[float],
               top: float) -> str:
    title = "curated lists" if name == "curated" else name
    if not values:
        return (f'<div class="card"><h3>{_swatch(colour)}{_e(title)}</h3>'
                '<p class="muted small">No dated items.</p></div>')
    within = sum(1 for v in values if v < WEEK) / len(values)
    middle = statistics.median(values)
    note = (f"{len(values):,} items · median {middle:.1f} d · "
            f"{within:.0%} within a week")
    return (f'<div class="card"><h3>{_swatch(colour)}{_e(title)}</h3>'
            f'<div class="muted small">{note}</div>{_histogram(name, colour, shares, top)}</div>')


def _histogram(name: str, colour: str, shares: Sequence[float], top: float) -> str:
    width, height, left, right, head, bottom = 330, 170, 34, 4, 10, 34
    plot_w, plot_h = width - left - right, height - head - bottom
    step = plot_w / len(GAP_BINS)
    body = []
    for tick in (0.0, top / 2, top):
        y = head + plot_h * (1 - tick / top)
        body += [svg.hline(left, width - right, y),
                 svg.text(left - 4, y + 4, f"{tick:.0%}", anchor="end", css="axis")]
    for i, ((low, high), share) in enumerate(zip(GAP_BINS, shares, strict=True)):
        bar_h = plot_h * share / top
        label = _bin_label(low, high)
        body += [svg.rect(left + i * step + 2, head + plot_h - bar_h, step - 4, bar_h,
                          colour=colour, tip=f"{name}: {share:.1%} of items {label} days apart"),
                 svg.text(left + (i + 0.5) * step, height - bottom + 13, label, anchor="middle",
                          css="axis", extra=' style="font-size:10px"')]
    week = left + step * next(i for i, (low, _) in enumerate(GAP_BINS) if low >= WEEK)
    body += [svg.vline(week, head - 4, head + plot_h, colour="#5f6b76", dash="3 3"),
             svg.text(left + plot_w / 2, height - 4, "days apart", anchor="middle", css="axis")]
    return svg.svg(width, height, f"{name}: distribution of time gaps", body)


# -- 6. worst queries ------------------------------------------------------------------------


def _worst(page: _Page) -> str:
    title = "Worst queries"
    method = page.product
    queries = _worst_queries(page)
    if method is None or not queries:
        return _section("worst", title, ['<p class="muted">No per-query detail with reachable '
                                         "curated items in these results.</p>"])
    metric = _label(f"ndcg@{page.k}")
    body = [f"<p>The {len(queries)} reachable queries where {_e(method)}'s {metric} is lowest, "
            "lowest first. Left: the curated list, found items first: <strong>✓</strong> with "
            "the rank the suggestions gave it, <strong>✗</strong> if findable but missed, "
            "greyed if no method could find it. Right: the top "
            f"suggestions of {_e(method)}, <strong>✓</strong> where the curated list has them. "
            "Gaps are days from the query's publication (− before, + after).</p>"]
    body += [_worst_card(page, rank, detail, method) for rank, detail in enumerate(queries, 1)]
    return _section("worst", title, body)


def _worst_queries(page: _Page) -> list[QueryDetail]:
    metric = f"ndcg@{page.k}"
    scored = []
    for index, detail in enumerate(page.results.per_query):
        run = detail.methods.get(page.product) if page.product else None
        value = number((run.reachable_gold or {}).get(metric)) if run else None
        if value is not None:
            scored.append((value, index, detail))
    scored.sort(key=lambda item: (item[0], item[1]))
    return [detail for _, _, detail in scored[:WORST]]


def _linked(title: str, url: str | None) -> str:
    """``title`` (already escaped) as a link to the article's webUrl, when it has one."""
    if url and url.startswith(("https://", "http://")):
        return f'<a href="{_e(url)}">{title}</a>'
    return title


def _query_title(detail: QueryDetail) -> str:
    return _linked(_e(detail.title or detail.path or "(untitled)"), detail.url)


def _worst_card(page: _Page, rank: int, detail: QueryDetail, product: str) -> str:
    run = detail.methods[product]
    scores: Scores = run.reachable_gold or {}
    gold = detail.gold
    reachable = sum(1 for g in gold if g.reachable)
    date = (detail.published or "")[:10] or "date unknown"
    meta = (f"{_e(date)} · {_e(detail.topic or '(no topic)')} · "
            f"{_label(f'ndcg@{page.k}')} <span class=\"score\">{_fmt(scores.get(f'ndcg@{page.k}'))}"
            f"</span> · {_label(f'recall@{page.k}')} {_fmt(scores.get(f'recall@{page.k}'))} · "
            f"{reachable} of {len(gold)} curated items findable")
    path = f'<div class="path small"><code>{_e(detail.path)}</code></div>' if detail.path else ""
    ranked = run.ranked
    found = {item.id: i for i, item in enumerate(ranked, 1) if item.relevant}
    return (f'<article class="query"><h3>{rank}. {_query_title(detail)}</h3>'
            f'<div class="meta">{meta}</div>{path}<div class="cols">'
            f"<div><h4>Curated list ({len(gold)})</h4>{_curated_list(gold, found)}</div>"
            f"<div><h4>{_e(product)} top {len(ranked)}</h4>{_suggestions(ranked)}</div>"
            "</div></article>")


def _curated_item(item: GoldItem, found: Mapping[str, int]) -> str:
    title = _linked(_e(item.title or item.id or "(untitled)"), item.url)
    gap = _days(item.gap_days)
    if not item.reachable:
        return (f'<li class="unreachable"><span class="mark">–</span><span>{title}'
                "<small>unreachable: known only from this list, no method can find it"
                "</small></span></li>")
    rank = found.get(item.id)
    if rank is None:
        return (f'<li class="miss"><span class="mark">✗</span><span>{title}'
                f"<small>missed · {gap}</small></span></li>")
    return (f'<li class="hit"><span class="mark">✓</span><span>{title}'
            f"<small>suggested at #{rank} · {gap}</small></span></li>")


def _curated_list(gold: Sequence[GoldItem], found: Mapping[str, int]) -> str:
    if not gold:
        return '<p class="muted small">Empty.</p>'
    def order(item: GoldItem) -> tuple[int, int]:
        rank = found.get(item.id)
        if rank is not None:
            return (0, rank)
        return (1, 0) if item.reachable else (2, 0)

    items = [_curated_item(item, found) for item in sorted(gold, key=order)]
    shown = '<ul class="items">' + "".join(items[:CURATED_SHOWN]) + "</ul>"
    if len(items) <= CURATED_SHOWN:
        return shown
    rest = len(items) - CURATED_SHOWN
    return (f'{shown}<details><summary>{rest} more curated items</summary><ul class="items">'
            + "".join(items[CURATED_SHOWN:]) + "</ul></details>")


def _suggestions(ranked: Sequence[RankedItem]) -> str:
    if not ranked:
        return '<p class="muted small">No suggestions.</p>'
    items = []
    for i, item in enumerate(ranked, 1):
        title = _linked(_e(item.title or item.id or "(untitled)"), item.url)
        provider = _e(item.provider or "unknown provider")
        mark, css = (f"✓ {i}", "hit") if item.relevant else (f"{i}.", "other")
        items.append(f'<li class="{css}"><span class="mark">{mark}</span><span>{title}<small>'
                     f"{provider} · {_days(item.gap_days)} · score "
                     f"{_fmt(item.score, 2)}</small></span></li>")
    return '<ol class="items">' + "".join(items) + "</ol>"


# -- 7. glossary -----------------------------------------------------------------------------


def _glossary(page: _Page) -> str:
    k = page.k
    terms = (
        (f"Recall@{k}", f"Share of a query's curated items that appear in the top {k}."),
        (f"Precision@{k}", f"Share of the top {k} suggestions that are curated items."),
        (f"nDCG@{k}", f"Binary gain (1 for a curated item, 0 otherwise), discounted by log2 of "
                      f"the rank and divided by the best possible score, so 1 = every curated "
                      f"item as high as it can be in the top {k}."),
        ("MRR", f"1 / the rank of the first curated item (0 if none in the top {k}), averaged."),
        (f"MAP@{k}", f"Mean over queries of the average precision at each curated item found in "
                     f"the top {k}, divided by the number of curated items."),
        (f"Hit rate@{k}", f"Share of queries with at least one curated item in the top {k}."),
        ("Coverage", "Share of the candidate pool that a method ever suggests across all "
                     "queries: low means it keeps proposing the same articles."),
        ("Median time gap", f"Median absolute distance in days between a query and its top-{k} "
                            "suggestions; curated lists mostly sit within a week."),
        ("Ceiling", "Share of all curated items that are candidates at all, the best recall any "
                    "method could reach over all queries."),
        ("Reachable", "A curated item is reachable if it is in the pool for that query; a query "
                      "is reachable if at least one of its items is. Tables marked reachable "
                      "score only those."),
    )
    rows = "".join(f"<dt>{_e(term)}</dt><dd>{_e(text)}</dd>" for term, text in terms)
    return _section("glossary", "How to read this", [f'<dl class="glossary">{rows}</dl>'])
