"""One exception type for everything a user can fix.

The CLI turns it into ``Error: <what>, <where>. <what to do>`` on stderr; the library raises it
and never prints.
"""

from __future__ import annotations


class RecommenderError(Exception):
    """A problem the user can fix: what went wrong, where, and what to do about it."""

    def __init__(self, what: str, where: str = "", fix: str = "") -> None:
        self.what, self.where, self.fix = what, where, fix
        super().__init__(str(self))

    def __str__(self) -> str:
        text = self.what + (f", {self.where}" if self.where else "") + "."
        return text + (f" {self.fix}" if self.fix else "")


class ArticleError(RecommenderError):
    """A feed file that cannot be read as an article."""

    def __init__(self, path: object, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(reason, str(path))
