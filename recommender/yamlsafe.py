"""A YAML loader for third-party text: the safe tags only, with bounded aliases and nesting.

Feed files come from outside. ``yaml.safe_load`` runs no code, but it still accepts an alias
bomb (a few hundred bytes whose anchors refer to lists of references to the previous anchor:
every level multiplies the expanded size by its width, gigabytes by the ninth level) and
nesting deep enough to exhaust the recursion of anything that walks the result (JSON encoding,
pickling between processes). ``BoundedLoader`` measures while it composes, before anything is
constructed: every node gets its expanded size and height, an alias adds the size of the node
it names, and the load stops as soon as aliases have added more than ``MAX_ALIAS_NODES`` nodes
or the nesting, aliases included, passes ``MAX_DEPTH``. The work and memory of a refused file
are those of the text actually read, never of its expansion.

It also turns every failure of a tag's constructor (``!!timestamp notadate``, a date that does
not exist, ``!!int x``, ``!!binary`` that is not base64...) into a ``yaml.YAMLError`` naming
the value and the line, instead of whatever the constructor happened to raise.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import ConstructorError
from yaml.events import AliasEvent, MappingStartEvent, SequenceStartEvent
from yaml.nodes import Node, ScalarNode

MAX_DEPTH = 20
"""Nested lists and mappings, counted from the front matter's own mapping (the feed uses 5)."""
MAX_ALIAS_NODES = 1000
"""Nodes that aliases may add to a document, over all its aliases (feed files use none)."""

# libyaml's parser when available: the same safe subset as yaml.SafeLoader, much faster.
_BASE_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlLimitError(yaml.YAMLError):
    """The document is refused for its shape (aliases, nesting), not for its syntax."""

    def __init__(self, problem: str, problem_mark: Any = None) -> None:
        self.problem, self.problem_mark = problem, problem_mark
        super().__init__(problem)


class _BoundedComposer(Composer):
    """Composition (YAML events to nodes) that measures each node as it is made."""

    def __init__(self) -> None:
        Composer.__init__(self)
        # One [size, height] per open collection: size counts nodes with aliases expanded.
        self._open: list[list[int]] = []
        # id(anchored node) -> (size, height), recorded when the node is complete; an alias
        # to an anchor that is not in here yet names a node that contains the alias itself.
        self._measured: dict[int, tuple[int, int]] = {}
        self._alias_nodes = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            size, height = self._alias_measure(event)
            node = Composer.compose_node(self, parent, index)
        elif isinstance(event, SequenceStartEvent | MappingStartEvent):
            if len(self._open) >= MAX_DEPTH:
                raise YamlLimitError(f"nested more than {MAX_DEPTH} levels deep",
                                     event.start_mark)
            self._open.append([1, 0])
            node = Composer.compose_node(self, parent, index)
            size, height = self._open.pop()
            height += 1
        else:
            node = Composer.compose_node(self, parent, index)
            size, height = 1, 0
        if event.anchor is not None and not isinstance(event, AliasEvent):
            self._measured[id(node)] = (size, height)
        if self._open:
            self._open[-1][0] += size
            self._open[-1][1] = max(self._open[-1][1], height)
        return node

    def _alias_measure(self, event: AliasEvent) -> tuple[int, int]:
        node = self.anchors.get(event.anchor)
        if node is None:
            return 0, 0  # an undefined alias: Composer reports it
        measure = self._measured.get(id(node))
        if measure is None:
            raise YamlLimitError(f"alias *{event.anchor} refers to a node that contains it",
                                 event.start_mark)
        size, height = measure
        self._alias_nodes += size
        if self._alias_nodes > MAX_ALIAS_NODES:
            raise YamlLimitError(f"aliases expand to more than {MAX_ALIAS_NODES} values "
                                 "(an alias bomb?)", event.start_mark)
        if len(self._open) + height > MAX_DEPTH:
            raise YamlLimitError(f"alias *{event.anchor} nests more than {MAX_DEPTH} levels "
                                 "deep", event.start_mark)
        return size, height

    def compose_document(self) -> Node:
        node = Composer.compose_document(self)
        self._measured.clear()
        self._alias_nodes = 0
        return node


def _reading(constructor: Callable[[Any, ScalarNode], Any]) -> Callable[[Any, ScalarNode], Any]:
    """``constructor``, whose every failure becomes a ``yaml.YAMLError`` naming the value."""

    def construct(loader: Any, node: ScalarNode) -> Any:
        try:
            return constructor(loader, node)
        except yaml.YAMLError:
            raise
        except Exception:  # any constructor's failure is the value's fault
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            shown = node.value if len(node.value) <= 40 else node.value[:40] + "..."
            raise ConstructorError(None, None, f"cannot read {shown!r} as {tag}",
                                   node.start_mark) from None

    return construct


# The safe constructors that can fail with something other than a YAMLError: those that
# convert text (AttributeError, ValueError, KeyError, binascii.Error...). Only they are
# wrapped, since a wrapper costs a call per value.
_CONVERTING = [f"tag:yaml.org,2002:{name}" for name in
               ("bool", "int", "float", "binary", "timestamp")]


def _read_values_safely(loader: type) -> type:
    for tag in _CONVERTING:
        loader.add_constructor(tag, _reading(yaml.SafeLoader.yaml_constructors[tag]))
    return loader


@_read_values_safely
class BoundedLoader(_BoundedComposer, _BASE_LOADER):  # type: ignore[misc]
    """``yaml.CSafeLoader`` (or ``SafeLoader``) with bounded aliases and nesting.

    libyaml still scans and parses; composition runs here, in Python, over libyaml's events,
    so that it can be measured (libyaml's own composer cannot be).
    """

    def __init__(self, stream: str | bytes) -> None:
        _BASE_LOADER.__init__(self, stream)
        _BoundedComposer.__init__(self)


@_read_values_safely
class _AnchorFreeLoader(_BASE_LOADER):  # type: ignore[misc]
    """libyaml's own composer (faster), for text in which no anchor can start."""


# An anchor (`&name`) starts a node: after a space or line break, `[`, `{`, `,`, a JSON-like
# key's `:`, or at the very start, and its name follows at once. Neither "Q&A" nor
# "Johnson & Johnson" can hold one.
_MAYBE_ANCHOR = re.compile(r"(?:^|[\s\[{,:\ufeff])&\S")


class _SharedValue(Exception):
    """A list or mapping reached twice: the document has aliases after all."""


def _depth(value: Any) -> int:
    """Nesting of lists and mappings, walked once each, without recursion.

    Raises ``_SharedValue`` when a list or mapping is reached twice (only an alias does
    that), so the walk never expands anything.
    """
    if not isinstance(value, dict | list):
        return 0
    deepest, stack, seen = 0, [(value, 1)], set()
    while stack:
        item, level = stack.pop()
        if id(item) in seen:
            raise _SharedValue
        seen.add(id(item))
        deepest = max(deepest, level)
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


def load(text: str) -> Any:
    """The one YAML document in ``text``; raises ``yaml.YAMLError`` (or ``YamlLimitError``).

    Text in which no anchor can start has nothing to expand: libyaml composes it (faster
    than composing in Python, and libyaml stops nesting at 1,000 levels itself) and the
    nesting is checked on the result, whose size is that of the text. Any other text, and
    text that fails there, is composed by ``BoundedLoader``, which counts as it goes.
    """
    if _BASE_LOADER is not yaml.SafeLoader and ("&" not in text
                                                 or not _MAYBE_ANCHOR.search(text)):
        # On an error, an anchor the pattern missed, or nesting past the limit, compose again
        # in Python: the same errors, and the same words for them, as every other text.
        with contextlib.suppress(yaml.YAMLError, _SharedValue):
            value = yaml.load(text, Loader=_AnchorFreeLoader)
            if _depth(value) <= MAX_DEPTH:
                return value
    return yaml.load(text, Loader=BoundedLoader)
