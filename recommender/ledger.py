"""The record of the ``related:`` entries the product wrote, per feed file.

Editors' entries are never touched by default, so the product must know which entries are
its own: it keeps, per file, a fingerprint of each entry it wrote. The record lives outside the
index (it survives rebuilds and moves of the index) and outside the feed files (their schema
stays the feed's): a JSON Lines file, by default ``~/.local/state/recommender/written.jsonl``
(``RECOMMENDER_LEDGER`` or ``--ledger`` moves it). Each line gives a file's current set of own
entries; the last line for a file wins. An entry an editor changed no longer matches its
fingerprint and so counts as the editor's from then on.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from recommender.articles import format_datetime
from recommender.errors import RecommenderError

COMPACT_FROM = 50_000
"""Lines past which the file is rewritten with only each file's last line."""


def default_ledger() -> Path:
    """``RECOMMENDER_LEDGER``, else ``$XDG_STATE_HOME/recommender/written.jsonl``."""
    configured = os.environ.get("RECOMMENDER_LEDGER")
    if configured:
        return Path(configured)
    state = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(state) / "recommender" / "written.jsonl"


def fingerprint(entry: Mapping[str, Any]) -> str:
    """What identifies an entry's content: a hash of its fields as YAML reads them."""
    text = json.dumps(entry, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def file_key(path: str | os.PathLike[str]) -> str:
    """A feed file's key in the ledger: its absolute path, links resolved."""
    return os.path.realpath(path)


class Ledger:
    """Which entries of which files the product wrote. Read once, appended to per write."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_ledger()
        self._own: dict[str, set[str]] | None = None
        self._lines = 0

    def _load(self) -> dict[str, set[str]]:
        if self._own is None:
            self._own = {}
            with contextlib.suppress(FileNotFoundError, NotADirectoryError), \
                    self._locked(fcntl.LOCK_SH) as handle:
                for line in handle:
                    self._lines += 1
                    try:
                        record = json.loads(line)
                        self._own[str(record["file"])] = set(record["entries"])
                    except (ValueError, KeyError, TypeError):
                        continue  # a line cut short by a crash: that write is not recorded
        return self._own

    @contextlib.contextmanager
    def _locked(self, mode: int, create: bool = False) -> Iterator[Any]:
        if create:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise RecommenderError(f"cannot create the ledger folder ({exc.strerror})",
                                       str(self.path.parent),
                                       "Set RECOMMENDER_LEDGER to a writable file") from None
        with open(self.path, "a+" if create else "r", encoding="utf-8") as handle:
            fcntl.flock(handle, mode)
            handle.seek(0)
            yield handle

    def ensure_writable(self) -> None:
        """Fail now, before any feed file changes, if the ledger cannot be written."""
        try:
            with self._locked(fcntl.LOCK_SH, create=True):
                pass
        except OSError as exc:
            raise RecommenderError(f"cannot write the ledger ({exc.strerror})", str(self.path),
                                   "Set RECOMMENDER_LEDGER or --ledger to a writable file"
                                   ) from None

    def own(self, path: str | os.PathLike[str]) -> set[str]:
        """Fingerprints of the entries the product wrote into the file at ``path``."""
        return set(self._load().get(file_key(path), ()))

    def record(self, path: str | os.PathLike[str], entries: Iterable[Mapping[str, Any]]) -> None:
        """The product's entries in the file at ``path`` are now exactly ``entries``."""
        own = self._load()
        key, prints = file_key(path), sorted({fingerprint(e) for e in entries})
        if set(prints) == own.get(key, set()):
            return
        line = json.dumps({"file": key, "entries": prints,
                           "at": format_datetime(datetime.now(timezone.utc))}) + "\n"
        with self._locked(fcntl.LOCK_EX, create=True) as handle:
            handle.seek(0, os.SEEK_END)
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        own[key] = set(prints)
        self._lines += 1
        if self._lines > COMPACT_FROM and self._lines > 2 * len(own):
            self._compact()

    def _compact(self) -> None:
        """Rewrite the file with one line per file (another writer's lines are kept)."""
        with self._locked(fcntl.LOCK_EX, create=True) as handle:
            latest: dict[str, str] = {}
            for line in handle:
                with contextlib.suppress(ValueError, KeyError, TypeError):
                    latest[str(json.loads(line)["file"])] = line
            temporary = self.path.with_name(self.path.name + ".compact")
            temporary.write_text("".join(latest.values()), encoding="utf-8")
            os.replace(temporary, self.path)
        self._lines = len(latest)
