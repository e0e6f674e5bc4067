"""SVG primitives for the HTML report's charts; every text is escaped."""

from __future__ import annotations

import html
from collections.abc import Iterable


def escape(value: object) -> str:
    """``value`` as text safe in HTML/SVG content and attribute values."""
    return html.escape(str(value), quote=True)


def svg(width: int, height: int, label: str, body: Iterable[str]) -> str:
    return (f'<svg width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">'
            + "".join(body) + "</svg>")


def text(x: float, y: float, content: str, *, anchor: str = "start", css: str = "",
         extra: str = "") -> str:
    cls = f' class="{css}"' if css else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{cls}{extra}>'
            f"{escape(content)}</text>")


def hline(x1: float, x2: float, y: float, *, colour: str = "#e3e7ea", dash: str = "") -> str:
    style = f' stroke-dasharray="{dash}"' if dash else ""
    return (f'<line x1="{x1:.1f}" y1="{y:.1f}" x2="{x2:.1f}" y2="{y:.1f}" '
            f'stroke="{colour}"{style}/>')


def vline(x: float, y1: float, y2: float, *, colour: str = "#e3e7ea", dash: str = "") -> str:
    style = f' stroke-dasharray="{dash}"' if dash else ""
    return (f'<line x1="{x:.1f}" y1="{y1:.1f}" x2="{x:.1f}" y2="{y2:.1f}" '
            f'stroke="{colour}"{style}/>')


def rect(x: float, y: float, width: float, height: float, *, colour: str, tip: str) -> str:
    return (f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width, 0.0):.1f}" '
            f'height="{max(height, 0.0):.1f}" fill="{colour}"><title>{escape(tip)}</title></rect>')
