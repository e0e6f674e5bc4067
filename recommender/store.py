"""An index on disk: a directory you can open and read, swapped in atomically.

``indexes/default`` is a symbolic link to the current generation, ``indexes/.default@<id>/``::

    manifest.json      format version, model identity, dimension, counts, sources, content hash
    candidates.jsonl   one JSON object per row: id, kind (file/stub), path, mentioned_by,
                       content hash, and the article's fields in the feed's schema
    offsets.npy        int64 byte offset of each row in candidates.jsonl (and its size)
    vectors.npy        float32 (rows x dim), L2-normalised embeddings of title + excerpt
    published.npy      float64 publication time per row (Unix seconds, NaN if unknown)
    faiss.index        FAISS index over vectors.npy (IndexFlatIP, or IndexHNSWFlat when large)
    bm25/              bm25s index over title + excerpt
    encoder/           the model exported to ONNX: model.onnx (graph), model.onnx.data (weights),
                       tokenizer.json, encoder.json

A build writes a new generation beside the current one and replaces the link with one
``rename``: readers see the old index or the new one, never a mix, and a crash or Ctrl-C at
any point leaves the old one in place. The previous generation is kept so that a reader that
opened it just before the swap can finish.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import mmap
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from recommender.articles import Article, format_datetime, parse_datetime
from recommender.defaults import DEFAULT_INDEX
from recommender.embedding import Encoder
from recommender.encoders import onnx_folder, query_encoder
from recommender.errors import RecommenderError
from recommender.index import VectorIndex
from recommender.lexical import Bm25Scorer
from recommender.pool import Candidate

FORMAT = "recommender-index"
FORMAT_VERSION = 1


def article_record(candidate: Candidate, content_hash: str) -> dict[str, Any]:
    """One row of ``candidates.jsonl``."""
    article = candidate.article
    return {
        "id": article.id,
        "aliases": list(article.aliases),
        "kind": "file" if candidate.is_file else "stub",
        "path": article.path,
        "mentioned_by": sorted(candidate.mentioned_by),
        "hash": content_hash,
        "topics": list(article.topics),
        **article.entry(),
    }


def record_candidate(record: dict[str, Any]) -> Candidate:
    """The pool candidate a row of ``candidates.jsonl`` stands for."""
    provider = record.get("provider") or {}
    article = Article(
        id=record["id"],
        title=record["title"],
        excerpt=record.get("excerpt", ""),
        published=parse_datetime(record.get("publishedDateTime")),
        url=record.get("webUrl"),
        provider=provider.get("name"),
        domain=provider.get("domain"),
        topics=tuple(record.get("topics", ())),
        quality=record.get("quality"),
        images=tuple(record.get("images", ())),
        amp_urls=tuple((key, record[key]) for key in ("ampWebUrl", "cdnAmpWebUrl")
                       if key in record),
        aliases=tuple(record.get("aliases", ())),
        path=record.get("path"),
    )
    return Candidate(article, record["kind"] == "file", frozenset(record.get("mentioned_by", ())))


class Records:
    """Rows of ``candidates.jsonl``, parsed on demand: a query needs only its top rows."""

    def __init__(self, path: Path) -> None:
        with open(path, "rb") as handle:
            self._data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if os.fstat(
                handle.fileno()).st_size else b""
        offsets_path = path.with_name("offsets.npy")
        if offsets_path.is_file():
            offsets = np.load(offsets_path, mmap_mode="r")
        else:  # an index written before offsets.npy: find the line ends
            ends = np.flatnonzero(np.frombuffer(self._data, dtype=np.uint8) == 10)
            offsets = np.concatenate(([0], ends + 1))
        self._starts, self._ends = offsets[:-1], offsets[1:] - 1
        self._cache: dict[int, dict[str, Any]] = {}

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, row: int) -> dict[str, Any]:
        record = self._cache.get(row)
        if record is None:
            record = json.loads(self._data[self._starts[row]:self._ends[row]])
            self._cache[row] = record
        return record

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (self[row] for row in range(len(self)))


@dataclass
class Index:
    """A loaded index generation. Everything is read from one generation directory."""

    folder: Path
    manifest: dict[str, Any]
    vectors: VectorIndex
    records: Records
    published: np.ndarray
    _query_encoder: tuple[Encoder, str | None] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.records)

    @cached_property
    def bm25(self) -> Bm25Scorer:
        return Bm25Scorer(self.folder / "bm25")

    @cached_property
    def row_by_url(self) -> dict[str, int]:
        """Every canonical URL and alias -> row (parses all rows: for batch work)."""
        rows: dict[str, int] = {}
        for row, record in enumerate(self.records):
            for url in (record["id"], *record.get("aliases", ())):
                rows.setdefault(url, row)
        return rows

    def candidates(self) -> list[Candidate]:
        return [record_candidate(record) for record in self.records]

    @property
    def encoder_folder(self) -> Path | None:
        return onnx_folder(self.folder)

    def query_encoder(self, model: str | None = None) -> tuple[Encoder, str | None]:
        """The encoder for queries against this index, and a note if it is the slow one
        (see ``encoders.query_encoder``). Loaded once per index."""
        if self._query_encoder is None or model is not None:
            self._query_encoder = query_encoder(self.manifest, self.folder, model)
        return self._query_encoder


def _manifest_error(path: Path, problem: str) -> RecommenderError:
    return RecommenderError(problem, str(path), "Rebuild it with: recommender build <archive>")


def load_index(path: str | os.PathLike[str] = DEFAULT_INDEX) -> Index:
    """Open the index at ``path`` (the link to its current generation is resolved once)."""
    path = Path(path)
    folder = Path(os.path.realpath(path))
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise RecommenderError(
            f"no index at {path}", "", "Build one first: recommender build <archive folder>"
            + ("" if path == DEFAULT_INDEX else f" --index {path}"))
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as exc:
        raise _manifest_error(path, f"unreadable manifest.json ({exc})") from None
    if manifest.get("format") != FORMAT or manifest.get("version") != FORMAT_VERSION:
        raise _manifest_error(path, f"index format {manifest.get('version')!r} is not "
                                    f"version {FORMAT_VERSION}")
    vectors = np.load(folder / "vectors.npy", mmap_mode="r")
    return Index(
        folder=folder,
        manifest=manifest,
        vectors=VectorIndex(vectors, folder, manifest["vector_index"]["kind"]),
        records=Records(folder / "candidates.jsonl"),
        published=np.load(folder / "published.npy"),
    )


def published_seconds(article: Article) -> float:
    return article.published.timestamp() if article.published else float("nan")


@contextlib.contextmanager
def _build_lock(path: Path) -> Iterator[None]:
    """One build at a time per index (a second waits); readers never wait."""
    lock_path = path.parent / f".{path.name}.lock"
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _fsync_tree(folder: Path) -> None:
    for file in folder.rglob("*"):
        if file.is_file():
            with open(file, "rb") as handle:
                os.fsync(handle.fileno())


@contextlib.contextmanager
def new_generation(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A fresh directory to write a generation into; swapped in at ``path`` on success.

    On any exception (Ctrl-C included) the partial directory is removed and the current
    index stays as it was.
    """
    path = Path(path)
    if path.exists() and not path.is_symlink():
        raise RecommenderError(
            f"{path} is a plain directory, not an index link", "",
            "Move it away or pass another --index")
    path.parent.mkdir(parents=True, exist_ok=True)
    with _build_lock(path):
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        name = f".{path.name}@{stamp}-{os.getpid()}-{time.monotonic_ns() % 10**6:06d}"
        staging = path.parent / f"{name}.partial"
        staging.mkdir()
        try:
            yield staging
            _fsync_tree(staging)
            final = path.parent / name
            staging.rename(final)
            link = path.parent / f"{name}.link"
            link.symlink_to(name)
            previous = os.path.realpath(path) if path.is_symlink() else None
            os.replace(link, path)  # the atomic step
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        _remove_old_generations(path, keep={name, os.path.basename(previous or "")})


def _remove_old_generations(path: Path, keep: set[str]) -> None:
    for old in path.parent.glob(f".{path.name}@*"):
        if old.name in keep:
            continue
        if old.is_symlink():
            old.unlink(missing_ok=True)
        elif old.is_dir():
            shutil.rmtree(old, ignore_errors=True)


def write_records(folder: Path, records: list[dict[str, Any]]) -> str:
    """Write ``candidates.jsonl``; returns the SHA-256 of its bytes (the content hash)."""
    lines = [(json.dumps(r, ensure_ascii=False) + "\n").encode("utf-8") for r in records]
    encoded = b"".join(lines)
    (folder / "candidates.jsonl").write_bytes(encoded)
    # Where each row starts (and the file ends): a query reads only its top rows.
    offsets = np.concatenate(([0], np.cumsum([len(line) for line in lines], dtype=np.int64)))
    np.save(folder / "offsets.npy", offsets)
    return hashlib.sha256(encoded).hexdigest()


def write_manifest(folder: Path, **fields: Any) -> dict[str, Any]:
    manifest = {"format": FORMAT, "version": FORMAT_VERSION,
                "built_at": format_datetime(datetime.now(timezone.utc).replace(microsecond=0)),
                **fields}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
