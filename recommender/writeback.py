"""Write a ``related:`` list into a feed file: only that block changes, atomically.

The block is rendered in the feed's own style (two-space indents, double-quoted strings,
unquoted timestamps). The new text is parsed again and compared with the old before anything
is written: every other field must come back identical.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tempfile
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from recommender.articles import (
    format_datetime,
    parse_front_matter,
    read_text,
    split_front_matter,
)
from recommender.errors import ArticleError, RecommenderError

_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$")
_TOP_LEVEL = re.compile(r"^[^\s#-]")
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9 .&'()/_-]*[A-Za-z0-9.)]|[A-Za-z]")
_YAML_WORDS = frozenset({"yes", "no", "true", "false", "on", "off", "null", "y", "n"})
_ALWAYS_QUOTED = frozenset({"title", "excerpt", "webUrl", "url", "originalUrl", "ampWebUrl",
                            "cdnAmpWebUrl"})


def _scalar(value: Any, key: str = "") -> str:
    if value is None:
        return "null"
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    if key not in _ALWAYS_QUOTED and (_TIMESTAMP.match(text) or (
            _PLAIN.fullmatch(text) and text.lower() not in _YAML_WORDS)):
        return text  # as the feed writes them: names, domains, types, timestamps unquoted
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid YAML double-quoted one


def _render(value: Any, indent: int) -> list[str]:
    """YAML lines for a mapping or list value, indented by ``indent`` spaces."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                lines.append(f"{pad}{key}:")
                # A nested mapping indents its keys; a list's "  - " carries the indent itself.
                lines.extend(_render(item, indent + 2 if isinstance(item, dict) else indent))
            else:
                empty = "[]" if item == [] else "{}" if item == {} else None
                lines.append(f"{pad}{key}: {empty or _scalar(item, key)}")
    else:
        dash = " " * (indent + 2) + "- "  # items' dash at indent + 2, their keys at indent + 4
        for item in value:
            if isinstance(item, dict) and item:
                body = _render(item, indent + 4)
                lines.append(f"{dash}{body[0].lstrip()}")  # as wide as the body indent
                lines.extend(body[1:])
            else:
                lines.append(f"{dash}{_scalar(item)}")
    return lines


def render_related(entries: Sequence[dict[str, Any]], newline: str = "\n") -> str:
    """The ``related:`` block for ``entries``, ending with a newline."""
    lines = ["related: []"] if not entries else ["related:", *_render(list(entries), 0)]
    return newline.join(lines) + newline


def _related_lines(text: str) -> tuple[int, int, list[str], int | None, int]:
    """(front start, front end, front lines, first line of the block or None, end line)."""
    start, end = split_front_matter(text)
    lines = text[start:end].splitlines(keepends=True)
    first = next((i for i, line in enumerate(lines) if re.match(r"related\s*:", line)), None)
    last = len(lines)
    if first is not None:
        last = first + 1
        while last < len(lines) and not _TOP_LEVEL.match(lines[last]):
            last += 1
        while last - 1 > first and not lines[last - 1].strip():
            last -= 1  # blank lines before the next key stay where they are
    return start, end, lines, first, last


def replace_related(text: str, entries: Sequence[dict[str, Any]]) -> str:
    """``text`` with its front matter's ``related:`` block replaced (or added at the end)."""
    start, end, lines, first, last = _related_lines(text)
    newline = "\r\n" if "\r\n" in text[:end] else "\n"
    front = text[start:end]
    block = render_related(entries, newline)
    if first is None:
        before = front if not front or front.endswith("\n") else front + newline
        if before.strip() and before.splitlines()[-1].strip():
            before += newline  # a blank line between sections, as the feed has
        return text[:start] + before + block + text[end:]
    return text[:start] + "".join(lines[:first]) + block + "".join(lines[last:]) + text[end:]


def append_related(text: str, entries: Sequence[dict[str, Any]]) -> str:
    """``text`` with ``entries`` added after the existing items of its ``related:`` list;
    the existing items stay byte for byte. ``entries`` must be the items to add only."""
    start, end, lines, first, last = _related_lines(text)
    items = [line for line in lines[first + 1:last] if line.lstrip().startswith("- ")] \
        if first is not None else []
    if not entries:
        return text
    if not items:  # no list yet (or a flow-style one): write the block
        return replace_related(text, entries)
    newline = "\r\n" if "\r\n" in text[:end] else "\n"
    dash = len(items[0]) - len(items[0].lstrip())  # the file's own list indentation
    added = _render(list(entries), dash - 2)
    tail = "".join(lines[:last])
    tail += "" if tail.endswith("\n") else newline
    return text[:start] + tail + newline.join(added) + newline + "".join(lines[last:]) + \
        text[end:]


def _check(old: str, new: str, path: Path, count: int) -> None:
    refusal = RecommenderError("refusing to write: the rewritten front matter would change "
                               "other fields", str(path), "Please report this file")
    before = parse_front_matter(old, path)
    try:
        after = parse_front_matter(new, path)
    except ArticleError:
        raise refusal from None
    others_before = {k: v for k, v in before.items() if k != "related"}
    others_after = {k: v for k, v in after.items() if k != "related"}
    if others_before != others_after or len(after.get("related") or ()) != count:
        raise refusal


def atomic_write(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one rename, keeping its permissions."""
    mode = path.stat().st_mode & 0o7777
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_related(path: str | os.PathLike[str], entries: Sequence[dict[str, Any]],
                  dry_run: bool = False, append: bool = False) -> str:
    """Write ``entries`` as the ``related:`` list of the file at ``path``.

    With ``append``, ``entries`` is the whole new list but begins with the file's current
    entries, which are kept byte for byte; only the rest is written after them.
    Returns a unified diff of the change ('' if none). With ``dry_run`` nothing is written.
    """
    path = Path(path)
    old = read_text(path)
    if append:
        current = parse_front_matter(old, path).get("related") or []
        new = append_related(old, list(entries)[len(current):])
    else:
        new = replace_related(old, entries)
    if new == old:
        return ""
    _check(old, new, path, len(entries))
    diff = "".join(difflib.unified_diff(old.splitlines(keepends=True),
                                        new.splitlines(keepends=True),
                                        f"a/{path}", f"b/{path}"))
    if not dry_run:
        if read_text(path) != old:
            raise RecommenderError("file changed while suggestions were computed", str(path),
                                   "Run the command again")
        atomic_write(path, new)
    return diff
