"""Evaluation results -> one self-contained HTML page (inline CSS and SVG, no script, no fonts).

The page reads top to bottom: what was evaluated, the metric tables and the paired comparison,
recall and nDCG by cut-off, nDCG per topic, how far in time suggestions stray, the queries the
product handles worst (curated list beside its suggestions), and what each metric means.
Every string from the data is escaped; the output depends only on the input.
"""

from __future__ import annotations

import html
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from recommender.report import LOWER_IS_BETTER, NO_BEST, SUMMARY_COLUMNS

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

CSS = """
:root { --ink: #1d2329; --muted: #5f6b76; --rule: #dde2e6; --soft: #f4f6f8;
  --good: #1b7a47; --bad: #b3261e; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  "Liberation Sans", sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 32px 28px 64px; }
h1 { font-size: 28px; line-height: 1.2; margin: 0 0 6px; }
h2 { font-size: 21px; margin: 44px 0 8px; padding-top: 14px; border-top: 2px solid var(--ink); }
h3 { font-size: 15px; margin: 26px 0 6px; }
p { margin: 6px 0 12px; max-width: 80ch; }
a { color: inherit; text-decoration-color: #9aa5ae; }
code { font: 13px/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono",
  monospace; background: var(--soft); padding: 1px 4px; border-radius: 3px;
  overflow-wrap: anywhere; }
.muted { color: var(--muted); }
.small { font-size: 13px; }
.lede { font-size: 17px; color: var(--muted); margin-bottom: 18px; }
.stats { display: grid; grid-template-columns: repeat(4, 1fr); gap: 12px; margin: 18px 0; }
.stats div { border: 1px solid var(--rule); border-radius: 6px; padding: 10px 14px; }
.stats dt { font-size: 12px; text-transform: uppercase; letter-spacing: .04em;
  color: var(--muted); }
.stats dd { margin: 2px 0 0; font-size: 26px; font-weight: 600;
  font-variant-numeric: tabular-nums; }
.stats dd span { display: block; font-size: 12px; font-weight: 400; color: var(--muted); }
.note { border-left: 3px solid var(--ink); padding: 4px 12px; background: var(--soft); }
nav ol { display: flex; flex-wrap: wrap; gap: 4px 20px; padding: 0; margin: 16px 0 0;
  list-style: none; font-size: 14px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums;
  font-size: 14px; }
th, td { padding: 6px 9px; border-bottom: 1px solid var(--rule); text-align: right;
  white-space: nowrap; }
th { font-size: 12px; font-weight: 600; color: var(--muted); border-bottom-color: var(--ink);
  vertical-align: bottom; white-space: normal; }
table.metrics th, table.metrics td { padding: 6px 7px; }
table.metrics th:first-child { width: 1%; }
td.plot svg { width: 180px; max-width: none; }
th:first-child, td:first-child { text-align: left; }
td.text { text-align: left; white-space: normal; min-width: 260px; }
tr.product td { background: var(--soft); }
.tag { font-size: 11px; color: var(--muted); border: 1px solid var(--rule);
  border-radius: 8px; padding: 0 6px; margin-left: 6px; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px;
  margin-right: 7px; vertical-align: -1px; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 22px; margin: 10px 0 14px; padding: 0;
  list-style: none; font-size: 14px; }
.better { color: var(--good); }
.worse { color: var(--bad); }
.charts { display: flex; flex-wrap: wrap; gap: 20px 36px; }
.grid { display: grid; grid-template-columns: repeat(3, 1fr); gap: 14px; }
.card { border: 1px solid var(--rule); border-radius: 6px; padding: 10px 12px;
  break-inside: avoid; page-break-inside: avoid; }
.card h3 { margin: 0 0 4px; font-size: 14px; }
.card h3 span { font-weight: 400; color: var(--muted); }
svg { display: block; max-width: 100%; height: auto; overflow: visible; }
svg text { font-size: 11px; fill: var(--ink); }
svg .axis { fill: var(--muted); }
.query { border: 1px solid var(--rule); border-radius: 6px; padding: 12px 16px;
  margin: 14px 0; break-inside: avoid; page-break-inside: avoid; }
.query h3 { margin: 0; font-size: 16px; }
.query .meta { font-size: 13px; color: var(--muted); margin: 2px 0 6px; }
.query .path { margin-bottom: 12px; }
.score { font-variant-numeric: tabular-nums; font-weight: 600; color: var(--bad); }
.cols { display: grid; grid-template-columns: 1fr 1fr; gap: 10px 28px; }
.cols h4 { margin: 0 0 4px; font-size: 12px; text-transform: uppercase; letter-spacing: .04em;
  color: var(--muted); }
.items { margin: 0; padding: 0; list-style: none; font-size: 13.5px; }
.items li { display: grid; grid-template-columns: 22px 1fr; padding: 3px 4px;
  border-bottom: 1px solid var(--soft); }
ol.items li { grid-template-columns: 34px 1fr; }
ol.items li.hit { background: #edf7f0; }
ol.items .other .mark { color: var(--muted); font-weight: 400; }
.items .mark { font-weight: 700; }
.items .hit .mark { color: var(--good); }
.items .miss .mark { color: var(--bad); }
.items .unreachable { color: #98a1a9; }
.items small { display: block; color: var(--muted); }
.items .unreachable small { color: #a9b1b8; }
details summary { cursor: pointer; font-size: 13px; color: var(--muted); margin: 4px 0; }
dl.glossary { display: grid; grid-template-columns: max-content 1fr; gap: 6px 18px; }
dl.glossary dt { font-weight: 600; }
dl.glossary dd { margin: 0; }
@media (max-width: 900px) { .grid, .stats { grid-template-columns: repeat(2, 1fr); }
  .cols { grid-template-columns: 1fr; } }
@media print { @page { margin: 12mm; }
  body { font-size: 11px; } main { max-width: none; padding: 0; } nav { display: none; }
  h2 { margin-top: 24px; break-after: avoid; } h3 { break-after: avoid; }
  .scroll { overflow: visible; } table { font-size: 10px; }
  th, td, table.metrics th, table.metrics td { padding: 3px 4px; }
  td.text { min-width: 0; } td.plot svg { width: 110px; }
  .stats { grid-template-columns: repeat(4, 1fr); } .grid { grid-template-columns: repeat(3, 1fr); }
  .cols { grid-template-columns: 1fr 1fr; } .charts { gap: 0 4%; } .charts > svg { width: 48%; }
  .items { font-size: 10.5px; }
  .query, .card, tr, svg { break-inside: avoid; } a { text-decoration: none; } }
"""


@dataclass(frozen=True)
class _Page:
    """What every section needs: the data, the cut-offs and the methods with their colours."""

    results: dict[str, Any]
    k: int
    ks: list[int]
    methods: list[str]
    product: str | None
    colours: dict[str, str]


def html_report(results: dict[str, Any]) -> str:
    """One self-contained HTML page (no network, no external JS/CSS/fonts) for an evaluation."""
    page = _page(results)
    sections = (_header(page), _summary(page), _significance(page), _cutoff_charts(page),
                _topics(page), _time_gaps(page), _worst(page), _glossary(page))
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<title>Related-article evaluation</title>\n"
            f"<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
            + "\n".join(s for s in sections if s) + "\n</main>\n</body>\n</html>")


# -- shared pieces ---------------------------------------------------------------------------


def _page(results: dict[str, Any]) -> _Page:
    names = list(results.get("methods") or results.get("all_queries") or {})
    if not names:
        names = [m for m in results.get("time_gaps") or {} if m != "curated"]
    product = PRODUCT if PRODUCT in names else (names[0] if names else None)
    methods = ([product] if product else []) + [m for m in names if m != product]
    ks = sorted({int(k) for k in results.get("ks") or []})
    k = int(results.get("k") or (max(ks) if ks else 10))
    ks = ks or [k]
    colours = {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(methods)}
    return _Page(results, k, ks, methods, product, colours)


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return None if math.isnan(value) else float(value)


def _fmt(value: Any, digits: int = 3) -> str:
    number = _number(value)
    return "–" if number is None else f"{number:.{digits}f}"


def _pct(value: Any, digits: int = 1) -> str:
    number = _number(value)
    return "–" if number is None else f"{number:.{digits}%}"


def _days(value: Any) -> str:
    number = _number(value)
    if number is None:
        return "date unknown"
    return "0.0 d" if abs(number) < 0.05 else f"{number:+.1f} d".replace("-", "−")


def _count(value: Any) -> str:
    number = _number(value)
    return "–" if number is None else f"{int(number):,}"


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


# -- small SVG helpers -----------------------------------------------------------------------


def _svg(width: int, height: int, label: str, body: Iterable[str]) -> str:
    return (f'<svg width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{_e(label)}">'
            + "".join(body) + "</svg>")


def _text(x: float, y: float, text: str, anchor: str = "start", css: str = "",
          extra: str = "") -> str:
    cls = f' class="{css}"' if css else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{cls}{extra}>'
            f"{_e(text)}</text>")


def _hline(x1: float, x2: float, y: float, colour: str = "#e3e7ea", dash: str = "") -> str:
    style = f' stroke-dasharray="{dash}"' if dash else ""
    return (f'<line x1="{x1:.1f}" y1="{y:.1f}" x2="{x2:.1f}" y2="{y:.1f}" '
            f'stroke="{colour}"{style}/>')


def _vline(x: float, y1: float, y2: float, colour: str = "#e3e7ea", dash: str = "") -> str:
    style = f' stroke-dasharray="{dash}"' if dash else ""
    return (f'<line x1="{x:.1f}" y1="{y1:.1f}" x2="{x:.1f}" y2="{y2:.1f}" '
            f'stroke="{colour}"{style}/>')


def _rect(x: float, y: float, width: float, height: float, colour: str, tip: str) -> str:
    return (f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width, 0.0):.1f}" '
            f'height="{max(height, 0.0):.1f}" fill="{colour}"><title>{_e(tip)}</title></rect>')


# -- 1. header -------------------------------------------------------------------------------


def _header(page: _Page) -> str:
    r = page.results
    corpus = ", ".join(f"<code>{_e(p)}</code>" for p in r.get("corpus") or []) or "–"
    model = f"<code>{_e(r['model'])}</code>" if r.get("model") else "–"
    return "\n".join([
        "<header>", "<h1>Related-article evaluation</h1>",
        '<p class="lede">How well each method finds the articles that editors listed as '
        "related, when every article with a curated <code>related:</code> list is used as a "
        "query and its own list is hidden.</p>",
        f'<p class="small">Corpus: {corpus} · Model: {model} · Cut-off k = {page.k}</p>',
        _stats(page), _ceiling_note(page), _at_a_glance(page), _nav(), "</header>"])


def _stats(page: _Page) -> str:
    r = page.results
    queries, reachable = _number(r.get("queries")), _number(r.get("reachable_queries"))
    share = f"{reachable / queries:.0%} of queries" if queries and reachable is not None else ""
    cells = [("Queries", _count(queries), "articles with a curated list"),
             ("Reachable queries", _count(reachable), share),
             ("Candidate pool", _count(r.get("pool")), "articles"),
             ("Ceiling", _pct(r.get("ceiling")),
              f"{_count(r.get('reachable_gold_items'))} of {_count(r.get('gold_items'))} "
              "curated items findable")]
    body = "".join(f"<div><dt>{title}</dt><dd>{value}<span>{_e(note)}</span></dd></div>"
                   for title, value, note in cells)
    return f'<dl class="stats">{body}</dl>'


def _ceiling_note(page: _Page) -> str:
    ceiling = _pct(page.results.get("ceiling"))
    return (f'<p class="note small"><strong>Ceiling {ceiling}</strong>: the share of curated '
            "related items that are candidates at all. The rest are known only from the "
            "query's own related list (or are the query itself), so no method can ever suggest "
            "them; this caps every score over all queries.</p>")


def _at_a_glance(page: _Page) -> str:
    rows = page.results.get("methods") or {}
    metric = f"ndcg@{page.k}"
    if page.product is None or _number(rows.get(page.product, {}).get(metric)) is None:
        return ""
    text = (f"On the reachable queries, <strong>{_e(page.product)}</strong> reaches "
            f"{_label(metric)} <strong>{_fmt(rows[page.product][metric])}</strong>")
    others = [(m, _number(rows.get(m, {}).get(metric))) for m in page.methods[1:]]
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
    body = [f"<h3>{_count(r.get('reachable_queries'))} reachable queries</h3>",
            "<p>Against the curated items each query could find: this measures the ranking "
            "itself. Best value per column in bold (coverage has no best: more is neither "
            "better nor worse).</p>",
            _metric_table(page, r.get("methods") or {}),
            f"<h3>All {_count(r.get('queries'))} queries</h3>",
            "<p>Against every curated item, findable or not, so the ceiling caps recall.</p>",
            _metric_table(page, r.get("all_queries") or {})]
    return _section("summary", "Summary", body)


def _columns(page: _Page, rows: dict[str, dict[str, Any]]) -> list[str]:
    available = {key for row in rows.values() for key in row}
    wanted = dict.fromkeys(c.format(k=page.k) for c in SUMMARY_COLUMNS)
    return [c for c in wanted if c in available]


def _best(rows: dict[str, dict[str, Any]], column: str) -> float | None:
    values = [v for v in (_number(row.get(column)) for row in rows.values()) if v is not None]
    if len(values) < 2 or column in NO_BEST:
        return None
    return min(values) if column in LOWER_IS_BETTER else max(values)


def _value_cell(column: str, value: Any, best: float | None) -> str:
    if column == "coverage":
        text = _pct(value)
    elif column == "median_gap_days":
        text = _fmt(value, 1)
    else:
        text = _fmt(value)
    number = _number(value)
    bold = best is not None and number is not None and abs(number - best) < 1e-12
    return f"<td><strong>{text}</strong></td>" if bold else f"<td>{text}</td>"


def _metric_table(page: _Page, rows: dict[str, dict[str, Any]]) -> str:
    methods = [m for m in page.methods if m in rows]
    if not methods:
        return '<p class="muted">No metrics in these results.</p>'
    columns = _columns(page, rows)
    best = {c: _best(rows, c) for c in columns}
    head = "<tr><th>method</th>" + "".join(f"<th>{_e(_label(c))}</th>" for c in columns)
    lines = [f'<div class="scroll"><table class="metrics">\n<thead>{head}</tr></thead><tbody>']
    for method in methods:
        css = ' class="product"' if method == page.product else ""
        cells = "".join(_value_cell(c, rows[method].get(c), best[c]) for c in columns)
        lines.append(f"<tr{css}><td>{_method(page, method)}</td>{cells}</tr>")
    return "\n".join([*lines, "</tbody></table></div>"])


def _significance(page: _Page) -> str:
    rows = page.results.get("significance") or {}
    if not rows:
        return _section("significance", "Is the difference real?", [
            '<p class="muted">No paired comparison in these results: it needs the product '
            f"method ({_e(PRODUCT)}) and at least one other.</p>"])
    first = next(iter(rows.values()))
    metric, against = first.get("metric", f"ndcg@{page.k}"), first.get("against", page.product)
    body = [f"<p>Each method's {_e(_label(metric))} minus {_e(against)}'s, paired query by "
            "query over the reachable queries. The interval is a bootstrap 95% interval; p is "
            "from a randomisation test (the chance of a difference this large if the two "
            "methods were interchangeable).</p>", _significance_table(page, rows)]
    return _section("significance", "Is the difference real?", body)


def _significance_table(page: _Page, rows: dict[str, dict[str, Any]]) -> str:
    scale = max([abs(v) for row in rows.values() for v in _interval(row)] + [0.05])
    lines = ['<div class="scroll"><table class="significance"><thead><tr><th>method</th>'
             "<th>difference</th><th>95% interval</th>"
             '<th style="text-align:center">interval vs 0 (dashed)</th><th>p</th>'
             '<th style="text-align:left">verdict</th></tr></thead><tbody>']
    for method, row in rows.items():
        low, high = _interval(row)
        lines.append(f"<tr><td>{_method(page, method)}</td>"
                     f"<td>{_signed(row.get('mean_difference'))}</td>"
                     f"<td>[{_signed(low)}, {_signed(high)}]</td>"
                     f'<td class="plot">{_interval_plot(page, method, row, scale)}</td>'
                     f"<td>{_p_value(row.get('p_value'))}</td>"
                     f'<td class="text">{_verdict(method, row)}</td></tr>')
    return "\n".join([*lines, "</tbody></table></div>"])


def _interval(row: dict[str, Any]) -> tuple[float, float]:
    ci = row.get("ci95") or [None, None]
    mean = _number(row.get("mean_difference")) or 0.0
    low, high = (_number(v) for v in [*ci, None, None][:2])
    return (mean if low is None else low, mean if high is None else high)


def _signed(value: Any) -> str:
    number = _number(value)
    return "–" if number is None else f"{number:+.3f}".replace("-", "−")


def _p_value(value: Any) -> str:
    number = _number(value)
    if number is None:
        return "–"
    return "&lt; 0.001" if number < 0.001 else f"{number:.3f}"


def _verdict(method: str, row: dict[str, Any]) -> str:
    against = _e(row.get("against", PRODUCT))
    mean = _number(row.get("mean_difference")) or 0.0
    low, high = _interval(row)
    significant = row.get("significant", low > 0 or high < 0)
    if not significant:
        return (f"No clear difference: the interval includes zero, so {_e(method)} and "
                f"{against} may be equally good.")
    if mean < 0:
        return (f'<span class="better">{against} is better</span>: {_e(method)} scores '
                f"{abs(mean):.3f} lower on average, more than chance explains.")
    return (f'<span class="worse">{_e(method)} is better</span> than {against} by {mean:.3f} '
            "on average, more than chance explains.")


def _interval_plot(page: _Page, method: str, row: dict[str, Any], scale: float) -> str:
    width, height, pad = 180, 18, 6
    low, high = _interval(row)
    mean = _number(row.get("mean_difference")) or 0.0

    def x(value: float) -> float:
        return pad + (width - 2 * pad) * (value + scale) / (2 * scale)

    colour = page.colours.get(method, CURATED_COLOUR)
    body = [_vline(x(0), 1, height - 1, "#9aa5ae", "2 2"),
            f'<line x1="{x(low):.1f}" y1="9" x2="{x(high):.1f}" y2="9" stroke="{colour}" '
            'stroke-width="2"/>',
            f'<circle cx="{x(mean):.1f}" cy="9" r="3.5" fill="{colour}"/>']
    return _svg(width, height, f"{method}: interval {low:+.3f} to {high:+.3f}", body)


# -- 3. recall and nDCG by cut-off -----------------------------------------------------------


def _cutoff_charts(page: _Page) -> str:
    rows = page.results.get("methods") or {}
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


def _line_chart(page: _Page, rows: dict[str, dict[str, Any]], prefix: str, title: str) -> str:
    width, height, left, right, top, bottom = 500, 290, 46, 18, 28, 42
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(i: int) -> float:
        return left + plot_w * (i + 0.5) / len(page.ks)

    def y(value: float) -> float:
        return top + plot_h * (1 - value)

    body = [_text(left - 40, 14, title, extra=' font-weight="600" style="font-size:13px"')]
    for tick in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0):
        body += [_hline(left, width - right, y(tick)),
                 _text(left - 6, y(tick) + 4, f"{tick:.1f}", "end", "axis")]
    for i, k in enumerate(page.ks):
        body.append(_text(x(i), height - bottom + 16, f"k = {k}", "middle", "axis"))
    body.append(_text(left + plot_w / 2, height - 6, "cut-off k (suggestions shown)", "middle",
                      "axis"))
    for method in reversed(page.methods):
        body.append(_series(page, method, rows.get(method, {}), prefix, x, y))
    return _svg(width, height, f"{title} by cut-off, one line per method", body)


def _series(page: _Page, method: str, row: dict[str, Any], prefix: str, x: Any, y: Any) -> str:
    colour = page.colours[method]
    points = [(i, k, _number(row.get(f"{prefix}@{k}"))) for i, k in enumerate(page.ks)]
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
    topics = page.results.get("per_topic") or {}
    metric = f"ndcg@{page.k}"
    if not topics:
        return _section("topics", f"{_label(metric)} by topic",
                        ['<p class="muted">No per-topic breakdown in these results.</p>'])
    ordered = sorted(topics.items(), key=lambda item: (-(_number(item[1].get("queries")) or 0),
                                                       str(item[0])))
    cards = "".join(_topic_card(page, topic, row, metric) for topic, row in ordered)
    body = [f"<p>Reachable queries grouped by their article's first specific topic, largest "
            f"group first; bars show mean {_label(metric)} (0 to 1). Small groups are noisy.</p>",
            _legend(page), f'<div class="grid">{cards}</div>']
    return _section("topics", f"{_label(metric)} by topic", body)


def _topic_card(page: _Page, topic: str, row: dict[str, Any], metric: str) -> str:
    count = _count(row.get("queries"))
    noun = "query" if count == "1" else "queries"
    bars = [(m, _number((row.get(m) or {}).get(metric))) for m in page.methods]
    chart = _bar_rows(page, [(m, v) for m, v in bars if v is not None], metric)
    return (f'<div class="card"><h3>{_e(topic)} <span>· {count} {noun}</span></h3>'
            f"{chart}</div>")


def _bar_rows(page: _Page, bars: Sequence[tuple[str, float]], metric: str) -> str:
    width, label_w, value_w, row_h, top = 330, 84, 40, 17, 4
    plot_w = width - label_w - value_w
    height = top + row_h * len(bars) + 4
    body = [_vline(label_w + plot_w * t, 0, height, "#e3e7ea") for t in (0.0, 0.5, 1.0)]
    for i, (method, value) in enumerate(bars):
        y = top + i * row_h
        body += [_text(label_w - 6, y + 12, _clip(method, 12), "end", "axis"),
                 _rect(label_w, y + 2, plot_w * max(0.0, min(value, 1.0)), row_h - 5,
                       page.colours[method], f"{method}: {_label(metric)} = {value:.3f}"),
                 _text(label_w + plot_w * max(0.0, min(value, 1.0)) + 4, y + 12, f"{value:.2f}")]
    return _svg(width, height, f"{_label(metric)} per method", body)


# -- 5. time gaps ----------------------------------------------------------------------------


def _time_gaps(page: _Page) -> str:
    gaps = page.results.get("time_gaps") or {}
    series = [("curated", CURATED_COLOUR)] if "curated" in gaps else []
    series += [(m, page.colours[m]) for m in page.methods if m in gaps]
    if not series:
        return _section("gaps", "How far apart in time",
                        ['<p class="muted">No publication-time gaps in these results.</p>'])
    shares = {name: _bin_shares(_gap_values(gaps[name])) for name, _ in series}
    peak = max([s for values in shares.values() for s in values] + [0.1])
    top = math.ceil(peak * 10) / 10
    panels = "".join(_gap_panel(name, colour, _gap_values(gaps[name]), shares[name], top)
                     for name, colour in series)
    body = [f"<p>Absolute gap in days between a query's publication and that of each curated "
            f"related item (<em>curated</em>) or each of a method's top-{page.k} suggestions. "
            "Bars are the share of items per bin, on the same scale in every panel; the dashed "
            "line marks one week.</p>", f'<div class="grid">{panels}</div>']
    return _section("gaps", "How far apart in time", body)


def _gap_values(values: Any) -> list[float]:
    numbers = (_number(v) for v in values or [])
    return [abs(v) for v in numbers if v is not None]


def _bin_shares(values: Sequence[float]) -> list[float]:
    counts = [sum(1 for v in values if low <= v < high) for low, high in GAP_BINS]
    return [c / len(values) if values else 0.0 for c in counts]


def _bin_label(low: float, high: float) -> str:
    return f"{low:g}+" if math.isinf(high) else f"{low:g}–{high:g}"


def _gap_panel(name: str, colour: str, values: Sequence[float], shares: Sequence[float],
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
        body += [_hline(left, width - right, y), _text(left - 4, y + 4, f"{tick:.0%}", "end",
                                                       "axis")]
    for i, ((low, high), share) in enumerate(zip(GAP_BINS, shares, strict=True)):
        bar_h = plot_h * share / top
        label = _bin_label(low, high)
        body += [_rect(left + i * step + 2, head + plot_h - bar_h, step - 4, bar_h, colour,
                       f"{name}: {share:.1%} of items {label} days apart"),
                 _text(left + (i + 0.5) * step, height - bottom + 13, label, "middle", "axis",
                       ' style="font-size:10px"')]
    week = left + step * next(i for i, (low, _) in enumerate(GAP_BINS) if low >= WEEK)
    body += [_vline(week, head - 4, head + plot_h, "#5f6b76", "3 3"),
             _text(left + plot_w / 2, height - 4, "days apart", "middle", "axis")]
    return _svg(width, height, f"{name}: distribution of time gaps", body)


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
    body += [_worst_card(page, rank, detail) for rank, detail in enumerate(queries, 1)]
    return _section("worst", title, body)


def _worst_queries(page: _Page) -> list[dict[str, Any]]:
    metric = f"ndcg@{page.k}"
    scored = []
    for index, detail in enumerate(page.results.get("per_query") or []):
        entry = (detail.get("methods") or {}).get(page.product) or {}
        value = _number((entry.get("reachable") or {}).get(metric))
        if value is not None:
            scored.append((value, index, detail))
    scored.sort(key=lambda item: (item[0], item[1]))
    return [detail for _, _, detail in scored[:WORST]]


def _query_title(detail: dict[str, Any]) -> str:
    title = _e(detail.get("title") or detail.get("path") or "(untitled)")
    url = str(detail.get("id") or "")
    if url.startswith(("https://", "http://")):
        return f'<a href="{_e(url)}">{title}</a>'
    return title


def _worst_card(page: _Page, rank: int, detail: dict[str, Any]) -> str:
    entry = detail["methods"][page.product]
    scores = entry.get("reachable") or {}
    gold = detail.get("gold") or []
    reachable = sum(1 for g in gold if g.get("reachable"))
    date = str(detail.get("published") or "")[:10] or "date unknown"
    meta = (f"{_e(date)} · {_e(detail.get('topic') or '(no topic)')} · "
            f"{_label(f'ndcg@{page.k}')} <span class=\"score\">{_fmt(scores.get(f'ndcg@{page.k}'))}"
            f"</span> · {_label(f'recall@{page.k}')} {_fmt(scores.get(f'recall@{page.k}'))} · "
            f"{reachable} of {len(gold)} curated items findable")
    path = f'<div class="path small"><code>{_e(detail["path"])}</code></div>' if detail.get(
        "path") else ""
    ranked = entry.get("ranked") or []
    found = {item.get("id"): i for i, item in enumerate(ranked, 1) if item.get("relevant")}
    return (f'<article class="query"><h3>{rank}. {_query_title(detail)}</h3>'
            f'<div class="meta">{meta}</div>{path}<div class="cols">'
            f"<div><h4>Curated list ({len(gold)})</h4>{_curated_list(gold, found)}</div>"
            f"<div><h4>{_e(page.product)} top {len(ranked)}</h4>{_suggestions(ranked)}</div>"
            "</div></article>")


def _curated_item(item: dict[str, Any], found: dict[Any, int]) -> str:
    title = _e(item.get("title") or item.get("id") or "(untitled)")
    gap = _days(item.get("gap_days"))
    if not item.get("reachable"):
        return (f'<li class="unreachable"><span class="mark">–</span><span>{title}'
                "<small>unreachable: known only from this list, no method can find it"
                "</small></span></li>")
    rank = found.get(item.get("id"))
    if rank is None:
        return (f'<li class="miss"><span class="mark">✗</span><span>{title}'
                f"<small>missed · {gap}</small></span></li>")
    return (f'<li class="hit"><span class="mark">✓</span><span>{title}'
            f"<small>suggested at #{rank} · {gap}</small></span></li>")


def _curated_list(gold: Sequence[dict[str, Any]], found: dict[Any, int]) -> str:
    if not gold:
        return '<p class="muted small">Empty.</p>'
    def order(item: dict[str, Any]) -> tuple[int, int]:
        rank = found.get(item.get("id"))
        if rank is not None:
            return (0, rank)
        return (1, 0) if item.get("reachable") else (2, 0)

    items = [_curated_item(item, found) for item in sorted(gold, key=order)]
    shown = '<ul class="items">' + "".join(items[:CURATED_SHOWN]) + "</ul>"
    if len(items) <= CURATED_SHOWN:
        return shown
    rest = len(items) - CURATED_SHOWN
    return (f'{shown}<details><summary>{rest} more curated items</summary><ul class="items">'
            + "".join(items[CURATED_SHOWN:]) + "</ul></details>")


def _suggestions(ranked: Sequence[dict[str, Any]]) -> str:
    if not ranked:
        return '<p class="muted small">No suggestions.</p>'
    items = []
    for i, item in enumerate(ranked, 1):
        title = _e(item.get("title") or item.get("id") or "(untitled)")
        provider = _e(item.get("provider") or "unknown provider")
        mark, css = (f"✓ {i}", "hit") if item.get("relevant") else (f"{i}.", "other")
        items.append(f'<li class="{css}"><span class="mark">{mark}</span><span>{title}<small>'
                     f"{provider} · {_days(item.get('gap_days'))} · score "
                     f"{_fmt(item.get('score'), 2)}</small></span></li>")
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
