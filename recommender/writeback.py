"""Change a feed file's ``related:`` list in place: only that block changes, atomically.

The block is split into its items (each with the comment lines above it), so that items can be
kept byte for byte while others are dropped or added. The new text is parsed again and compared
with what was meant before anything is written: every other field, and every kept item, must
come back identical; otherwise the file is left alone.
"""

from __future__ import annotations

import contextlib
import difflib
import fcntl
import os
import re
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recommender.articles import parse_front_matter, read_text, split_front_matter
from recommender.errors import ArticleError, RecommenderError
from recommender.feedyaml import render_items

_RELATED_KEY = re.compile(r"related[ \t]*:")
_TEMP_PREFIX = ".recommender-"
STALE_TEMP_SECONDS = 600
"""A temporary file this old beside an article is a leftover of a killed run."""


def _is_content(line: str) -> bool:
    """A line that holds YAML (not blank, not only a comment)."""
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _holds_inline_value(key_line: str) -> bool:
    """``related: []``, a flow list or ``null`` on the key's own line."""
    value = key_line.split(":", 1)[1].strip()
    return bool(value) and not value.startswith("#")


@dataclass
class Block:
    """Where the ``related:`` list sits in a file's text, and its items' lines."""

    text: str
    start: int
    """Offset of the front matter's first character in ``text``."""
    end: int
    """Offset just past the front matter (where the closing ``---`` line starts)."""
    lines: list[str]
    """The front matter's lines, line endings kept."""
    first: int | None
    """Index of the ``related:`` line, or None if the file has no list."""
    last: int
    """Index just past the block's last content line."""
    items: list[tuple[int, int, int]]
    """Per item: (first line of its leading comments, first line of the item, end)."""
    dash: int
    """Indentation of the items' dashes (the feed uses 2)."""

    @property
    def newline(self) -> str:
        return "\r\n" if "\r\n" in self.text[:self.end] else "\n"

    @property
    def inline(self) -> bool:
        """The list is written on the key's line (``related: []``, a flow list, ``null``)."""
        assert self.first is not None
        return _holds_inline_value(self.lines[self.first])


def find_block(text: str) -> Block:
    """The ``related:`` block of a feed file's text (raises ValueError without front matter)."""
    start, end = split_front_matter(text)
    lines = text[start:end].splitlines(keepends=True)
    first = next((i for i, line in enumerate(lines) if _RELATED_KEY.match(line)), None)
    if first is None:
        return Block(text, start, end, lines, None, len(lines), [], 2)
    last = first + 1
    for i in range(first + 1, len(lines)):
        line = lines[i]
        if not _is_content(line):
            continue  # trailing blank and comment lines belong to what follows
        if not line[0].isspace() and not line.startswith("-"):
            break  # the next top-level key
        last = i + 1
    body = [i for i in range(first + 1, last) if _is_content(lines[i])]
    dash = min((len(lines[i]) - len(lines[i].lstrip(" ")) for i in body), default=2)
    starts = [i for i in body if lines[i][dash:dash + 1] == "-" and
              lines[i][dash + 1:dash + 2] in (" ", "\n", "\r", "")]
    if not starts and body:
        if _holds_inline_value(lines[first]):
            raise ValueError("the related list is written in flow style over several lines")
        raise ValueError("the related list is not a list of entries")
    items, lead = [], first + 1
    for n, item_start in enumerate(starts):
        item_end = starts[n + 1] if n + 1 < len(starts) else last
        # The comment and blank lines just above the next item go with it.
        while item_end - 1 > item_start and not _is_content(lines[item_end - 1]):
            item_end -= 1
        items.append((lead, item_start, item_end))
        lead = item_end
    return Block(text, start, end, lines, first, last, items, dash)


def _insertion_point(block: Block) -> tuple[int, str, str]:
    """(line index, text before, text after) for a new ``related:`` block: before ``secured:``
    where the file has one (as in every feed file), else at the end of the front matter; with
    a blank line on either side where the file separates its sections by blank lines."""
    nl = block.newline
    spaced = any(not line.strip() for line in block.lines)
    secured = next((i for i, line in enumerate(block.lines) if line.startswith("secured:")),
                   len(block.lines))
    before = nl if spaced and secured and block.lines[secured - 1].strip() else ""
    after = nl if spaced and secured < len(block.lines) else ""
    return secured, before, after


def splice(text: str, keep: Sequence[int], entries: Sequence[Mapping[str, Any]]) -> str:
    """``text`` whose related list holds the items at positions ``keep`` (their lines and the
    comments above them unchanged, in their order), then ``entries``, rendered new.

    Comment lines above an item that is dropped stay where they are.
    """
    block = find_block(text)
    nl = block.newline
    new_lines = [line + nl for line in render_items(entries, block.dash)]
    if block.first is None:
        if not new_lines:
            return text
        at, before, after = _insertion_point(block)
        added = before + "related:" + nl + "".join(new_lines) + after
        front = "".join(block.lines[:at]) + added + "".join(block.lines[at:])
        return text[:block.start] + front + text[block.end:]
    kept: list[str] = []
    for position, (lead, item, end) in enumerate(block.items):
        kept.extend(block.lines[lead:end] if position in keep else
                    [line for line in block.lines[lead:item] if line.strip()])
    body = kept + new_lines
    if block.inline and not body:
        return text  # `related: []` and nothing to add
    header = block.lines[block.first]
    if block.inline or not any(_is_content(line) for line in body):
        header = ("related:" if body else "related: []") + nl
    if body and not body[-1].endswith("\n"):
        body[-1] += nl
    front = "".join(block.lines[:block.first]) + header + "".join(body) + \
        "".join(block.lines[block.last:])
    if block.last == len(block.lines) and front and not front.endswith("\n"):
        front += nl
    return text[:block.start] + front + text[block.end:]


def check_rewrite(old: str, new: str, path: Path, expected: Sequence[Any]) -> None:
    """Refuse ``new`` unless every field but ``related`` reads back as in ``old`` and
    ``related`` reads back as ``expected``."""
    before = parse_front_matter(old, path)
    try:
        after = parse_front_matter(new, path)
    except ArticleError:
        after = None
    others_before = {k: v for k, v in before.items() if k != "related"}
    others_after = {k: v for k, v in (after or {}).items() if k != "related"}
    if after is None or others_before != others_after or \
            list(after.get("related") or []) != list(expected):
        raise RecommenderError("refusing to write: the rewritten front matter would not read "
                               "back as intended", str(path),
                               "The file is unchanged; please report it")


def _fsync_directory(folder: Path) -> None:
    with contextlib.suppress(OSError):  # some file systems cannot open a directory
        handle = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def remove_stale_temporaries(folder: Path, now: float | None = None) -> None:
    """Delete temporary files that a killed run left beside articles."""
    limit = (now or time.time()) - STALE_TEMP_SECONDS
    for leftover in folder.glob(f"{_TEMP_PREFIX}*.tmp"):
        with contextlib.suppress(OSError):
            if leftover.lstat().st_mtime < limit:
                leftover.unlink()


def atomic_write(path: Path, text: str) -> None:
    """Replace the file at ``path`` with ``text`` in one rename, keeping its permissions.

    A symbolic link is followed: its target is replaced and the link stays a link.
    """
    target = Path(os.path.realpath(path))
    mode = target.stat().st_mode & 0o7777
    # A short fixed prefix: the article's own name may already be near NAME_MAX.
    handle, temporary = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_directory(target.parent)  # the rename itself survives a power cut
    remove_stale_temporaries(target.parent)


def unified_diff(path: str | os.PathLike[str], old: str, new: str) -> str:
    """The change as a unified diff, both sides labelled with the path the user gave."""
    return "".join(difflib.unified_diff(old.splitlines(keepends=True),
                                        new.splitlines(keepends=True), str(path), str(path)))


def write_if_unchanged(path: Path, old: str, new: str) -> None:
    """Write ``new`` unless the file no longer holds ``old`` (an editor saved it meanwhile).

    Two writers of one file take turns (a lock on the file as it is): the second then finds
    the first one's text, not its own ``old``, and stops instead of overwriting it.
    """
    with open(os.path.realpath(path), "rb") as current:
        fcntl.flock(current, fcntl.LOCK_EX)
        if read_text(path) != old:
            raise RecommenderError("the file changed while suggestions were computed",
                                   str(path), "Run the command again")
        atomic_write(path, new)
