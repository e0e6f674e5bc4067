"""Entries rendered as the feed writes its ``related:`` lists, byte for byte.

Two-space indents; titles, excerpts and URLs double-quoted; names, domains, types, numbers
and timestamps plain unless YAML would read them as something else. Every value is written so
that it reads back identically: characters YAML treats as line breaks or cannot carry raw are
escaped, non-finite numbers are refused.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import yaml

from recommender.articles import format_datetime

ALWAYS_QUOTED = frozenset({"title", "excerpt", "webUrl", "url", "originalUrl", "ampWebUrl",
                           "cdnAmpWebUrl"})
"""Keys whose values the feed always double-quotes."""
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$")
# What a double-quoted YAML scalar cannot hold raw: line and paragraph separators (YAML 1.1
# reads them as line breaks), NEL, the BOM, and what PyYAML's reader refuses as unprintable.
_ESCAPE = re.compile("[\u0085\u2028\u2029\ufeff\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def quoted(text: str) -> str:
    """``text`` as a double-quoted YAML scalar (a JSON string, with the few characters JSON
    leaves raw but YAML cannot carry escaped)."""
    return _ESCAPE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(text, ensure_ascii=False))


def _reads_back_plain(text: str) -> bool:
    """Whether ``key: text`` unquoted reads back as the same string."""
    if not text or _ESCAPE.search(text) or any(ord(c) < 0x20 for c in text):
        return False  # control characters only survive escaped
    try:
        return yaml.load(f"k: {text}\n", Loader=_SAFE_LOADER) == {"k": text}
    except yaml.YAMLError:
        return False


def scalar(value: Any, key: str = "") -> str:
    """One value as the feed writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{key or 'a value'} is {value}, which YAML cannot carry back as read")
    if isinstance(value, int | float):
        return repr(value)
    if not isinstance(value, str):
        raise ValueError(f"{key or 'a value'} is {type(value).__name__}, not text or a number")
    if key not in ALWAYS_QUOTED and (_TIMESTAMP.match(value) or _reads_back_plain(value)):
        return value
    return quoted(value)


def render(value: Mapping[str, Any] | Sequence[Any], indent: int) -> list[str]:
    """YAML lines for an entry (a mapping of scalars, mappings and lists of mappings or
    scalars: what ``feed_entry`` makes), indented by ``indent`` spaces."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(item, Mapping | list):
                lines.append(f"{pad}{key}:")
                # A nested mapping indents its keys; a list's "  - " carries the indent itself.
                lines.extend(render(item, indent + 2 if isinstance(item, Mapping) else indent))
            else:
                lines.append(f"{pad}{key}: {scalar(item, key)}")
        return lines
    dash = " " * (indent + 2) + "- "  # items' dash at indent + 2, their keys at indent + 4
    for item in value:
        if isinstance(item, Mapping):
            body = render(item, indent + 4)
            lines.append(f"{dash}{body[0].lstrip()}")  # as wide as the body indent
            lines.extend(body[1:])
        else:
            lines.append(f"{dash}{scalar(item)}")
    return lines


def render_items(entries: Sequence[Mapping[str, Any]], dash_indent: int = 2) -> list[str]:
    """The lines of list items for ``entries``, their dashes ``dash_indent`` spaces in."""
    return render(list(entries), dash_indent - 2)


def read_back(entries: Sequence[Mapping[str, Any]]) -> list[Any]:
    """``entries`` as YAML will read them once written (datetimes parsed, and so on)."""
    if not entries:
        return []
    return yaml.load("\n".join(render_items(entries)) + "\n", Loader=_SAFE_LOADER)


def render_related(entries: Sequence[Mapping[str, Any]], newline: str = "\n") -> str:
    """A whole ``related:`` block for ``entries``, ending with a newline."""
    lines = ["related: []"] if not entries else ["related:", *render_items(entries)]
    return newline.join(lines) + newline
