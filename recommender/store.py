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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import IO, Any

import numpy as np

from recommender.articles import Article, format_datetime, parse_datetime
from recommender.defaults import DEFAULT_INDEX
from recommender.embedding import Encoder
from recommender.encoders import onnx_folder, query_encoder
from recommender.errors import RecommenderError
from recommender.index import FAISS_FILE, VectorIndex
from recommender.integrity import (
    Damage,
    check_hashes,
    check_sizes,
    checksums,
    manifest_digest,
)
from recommender.lexical import Bm25Scorer
from recommender.pool import Candidate

FORMAT = "recommender-index"
FORMAT_VERSION = 2  # 2: the manifest records every file's size and SHA-256
LEASE = ".lease"


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
    """A loaded index generation. Everything is read from one generation directory, which
    stays on disk while this object holds its lease (until ``close()`` or garbage collection)."""

    folder: Path
    manifest: dict[str, Any]
    vectors: VectorIndex
    records: Records
    published: np.ndarray
    bm25: Bm25Scorer | None = None
    path: Path | None = None
    """The path the user gave (errors name it, never the hidden generation folder)."""
    salvaged: bool = False
    """Only the rows and vectors were checked (a damaged generation a rebuild reuses vectors
    from): nothing else of it may be used."""
    lease: IO[bytes] | None = field(default=None, repr=False)
    _query_encoder: tuple[Encoder, str | None] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.records)

    def close(self) -> None:
        """Release the generation: a later build may delete it."""
        if self.lease is not None:
            self.lease.close()
            self.lease = None

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
            self._query_encoder = query_encoder(self.manifest, self.folder, model,
                                                str(self.path or self.folder))
        return self._query_encoder


def damaged(path: Path, what: str) -> RecommenderError:
    """The error for an index that does not hold what its manifest promises."""
    return RecommenderError(f"the index at {path} is damaged ({what})", "",
                            f"Rebuild it: recommender build <archive> --index {path}")


def _manifest_error(path: Path, problem: str) -> RecommenderError:
    return RecommenderError(problem, str(path),
                            f"Rebuild it: recommender build <archive> --index {path}")


def _take_lease(folder: Path) -> IO[bytes] | None:
    """A shared lock on the generation's lease file: the remover skips leased generations.
    None if the generation has no lease file and none can be made (read-only index)."""
    try:
        handle = open(folder / LEASE, "rb")  # noqa: SIM115 (held for the Index's life)
    except FileNotFoundError:
        if not (folder / "manifest.json").is_file():  # being removed, or not an index
            return None
        try:
            handle = open(folder / LEASE, "ab")  # noqa: SIM115 (an index from before leases)
        except OSError:
            return None
    except OSError:
        return None
    fcntl.flock(handle, fcntl.LOCK_SH)
    return handle


def _leased_generation(path: Path) -> tuple[Path, IO[bytes] | None]:
    """The current generation, leased. A generation being deleted under us (we resolved the
    link just before a swap and the removal) is dropped and the link resolved again."""
    for _ in range(10):
        folder = Path(os.path.realpath(path))
        lease = _take_lease(folder) if folder.is_dir() else None
        if lease is None and os.path.realpath(path) != str(folder):
            continue  # swapped and removed while we looked: look again
        if lease is None or os.fstat(lease.fileno()).st_nlink > 0:
            return folder, lease
        lease.close()
    return folder, None


REQUIRED = {"model": dict, "vector_index": dict, "count": int, "dim": int, "files": int,
            "stubs": int, "sources": list, "content_hash": str, "query_encoder": str,
            "checksums": dict, "manifest_sha256": str}
REQUIRED_MODEL = ("name", "fingerprint", "source", "dim")
BM25_FILES = ("data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy",
              "vocab.index.json", "params.index.json")


def _read_manifest(path: Path, folder: Path) -> dict[str, Any]:
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        if path.is_symlink():
            raise damaged(path, "manifest.json is missing" if folder.is_dir() else
                          "its current generation is missing")
        raise RecommenderError(
            f"no index at {path}", "", "Build one first: recommender build <archive folder>"
            + ("" if path == DEFAULT_INDEX else f" --index {path}"))
    try:
        manifest = json.loads(manifest_path.read_bytes())
    except (OSError, ValueError) as exc:
        raise damaged(path, f"manifest.json is unreadable: {exc}") from None
    if not isinstance(manifest, dict):
        raise damaged(path, "manifest.json is not an object")
    if manifest.get("format") != FORMAT or manifest.get("version") != FORMAT_VERSION:
        raise _manifest_error(path, f"index format {manifest.get('version')!r} is not "
                                    f"version {FORMAT_VERSION}")
    return manifest


def _check_manifest(manifest: dict[str, Any]) -> None:
    """The keys a load relies on are there, with the right types, and the manifest is the
    one the build wrote."""
    for key, kind in REQUIRED.items():
        if not isinstance(manifest.get(key), kind):
            raise Damage(f"manifest.json has no valid {key!r}")
    missing = [key for key in REQUIRED_MODEL if key not in manifest["model"]]
    if missing or "kind" not in manifest["vector_index"]:
        raise Damage(f"manifest.json has no {(missing or ['vector_index.kind'])[0]!r}")
    if manifest_digest(manifest) != manifest["manifest_sha256"]:
        raise Damage("manifest.json does not match its recorded SHA-256")
    recorded = manifest["checksums"]
    needed = ["candidates.jsonl", "offsets.npy", "vectors.npy", "published.npy", FAISS_FILE,
              *(f"bm25/{name}" for name in BM25_FILES)]
    if manifest["query_encoder"] == "onnx":
        needed += [f"encoder/{name}" for name in ("model.onnx", "encoder.json",
                                                  "tokenizer.json")]
    for name in needed:
        if name not in recorded:
            raise Damage(f"manifest.json records no {name}")
    if recorded["candidates.jsonl"]["sha256"] != manifest["content_hash"]:
        raise Damage("content_hash differs from the SHA-256 of candidates.jsonl")


def _open_rows(folder: Path, manifest: dict[str, Any], with_bm25: bool,
               ) -> tuple[np.ndarray, Records, np.ndarray, Bm25Scorer | None]:
    """The arrays, checked against each other and the manifest's counts."""
    count, dim = manifest["count"], manifest["dim"]
    vectors = np.load(folder / "vectors.npy", mmap_mode="r")
    if vectors.shape != (count, dim) or vectors.dtype != np.float32:
        raise Damage(f"vectors.npy holds {vectors.shape} {vectors.dtype}, not ({count}, {dim}) "
                     "float32")
    published = np.load(folder / "published.npy")
    if published.shape != (count,):
        raise Damage(f"published.npy holds {published.shape[0] if published.ndim else 0} rows, "
                     f"not {count}")
    offsets = np.load(folder / "offsets.npy", mmap_mode="r")
    size = (folder / "candidates.jsonl").stat().st_size
    if offsets.shape != (count + 1,) or offsets[0] != 0 or offsets[-1] != size or (
            count and not np.all(np.diff(offsets) > 0)):
        raise Damage(f"offsets.npy does not describe the {count} rows of candidates.jsonl")
    records = Records(folder / "candidates.jsonl")
    bm25 = None
    if with_bm25:
        bm25 = Bm25Scorer(folder / "bm25")
        if bm25.num_docs != count:
            raise Damage(f"bm25/ describes {bm25.num_docs} documents, not {count}")
        if len(bm25.indptr) < max(bm25.vocab.values(), default=0) + 1 or \
                bm25.indptr[-1] != len(bm25.data) or len(bm25.data) != len(bm25.indices):
            raise Damage("bm25/ matrix and vocabulary do not agree")
    return vectors, records, published, bm25


LOAD_ERRORS = (Damage, OSError, ValueError, EOFError, KeyError, TypeError, IndexError)
"""What a damaged file can raise while it is opened (a 0-byte .npy raises EOFError)."""


def load_index(path: str | os.PathLike[str] = DEFAULT_INDEX, *, full: bool = False) -> Index:
    """Open the index at ``path`` (the link to its current generation is resolved once).

    Checks what the manifest promises: its keys, every file's size and SHA-256 (see
    ``integrity``; ``full`` re-hashes even files unchanged since the last check), the arrays'
    shapes. Any difference raises ``RecommenderError`` naming ``path``.
    """
    path = Path(path)
    folder, lease = _leased_generation(path)
    try:
        manifest = _read_manifest(path, folder)
        try:
            _check_manifest(manifest)
            check_sizes(folder, manifest["checksums"])
            check_hashes(folder, manifest["checksums"], full)
            vectors, records, published, bm25 = _open_rows(folder, manifest, True)
        except LOAD_ERRORS as exc:
            raise damaged(path, _describe(exc)) from None
    except BaseException:
        if lease is not None:
            lease.close()
        raise
    return Index(folder=folder, manifest=manifest,
                 vectors=VectorIndex(vectors, folder, manifest["vector_index"]["kind"]),
                 records=records, published=published, bm25=bm25, path=path, lease=lease)


def verify_index(path: str | os.PathLike[str] = DEFAULT_INDEX, full: bool = True) -> None:
    """Check an index completely (every byte of every file is hashed, whatever was checked
    before); raises ``RecommenderError`` if anything differs from its manifest."""
    load_index(path, full=full).close()


def salvage_index(path: str | os.PathLike[str]) -> Index | None:
    """The rows and vectors of a damaged index, if those still match their manifest (a
    rebuild reuses them instead of encoding again), else None. An index of format version 1,
    which records no checksums, is trusted as it was before checksums existed."""
    path = Path(path)
    folder, lease = _leased_generation(path)
    try:
        manifest = json.loads((folder / "manifest.json").read_bytes())
        legacy = manifest.get("version") == 1
        if not legacy:
            _check_manifest(manifest)
            rows = {name: manifest["checksums"][name]
                    for name in ("candidates.jsonl", "offsets.npy", "vectors.npy",
                                 "published.npy")}
            check_hashes(folder, rows, full=True)
        vectors, records, published, _ = _open_rows(folder, manifest, False)
        if not isinstance(manifest["model"]["fingerprint"], str):
            raise Damage("manifest.json has no model fingerprint")
    except (*LOAD_ERRORS, AttributeError):
        if lease is not None:
            lease.close()
        return None
    return Index(folder=folder, manifest=manifest, vectors=VectorIndex(vectors, folder, "exact"),
                 records=records, published=published, path=path, salvaged=True, lease=lease)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, Damage):
        return str(exc)
    if isinstance(exc, OSError) and exc.filename:
        return f"{Path(exc.filename).name}: {exc.strerror or type(exc).__name__}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def published_seconds(article: Article) -> float:
    return article.published.timestamp() if article.published else float("nan")


_held_locks: dict[str, int] = {}
"""Writer locks this process holds, by lock file: taking one again is a no-op (build_index
holds it around write_pool, whose new_generation takes it too)."""


@contextlib.contextmanager
def writer_lock(path: str | os.PathLike[str],
                on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """One writer at a time per index; a second waits (``on_wait`` is called first, so that
    the CLI can say so). Readers never wait. Take it BEFORE reading the generation you extend.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.parent / f".{path.name}.lock"
    key = os.path.realpath(lock_path)
    if key in _held_locks:
        _held_locks[key] += 1
        try:
            yield
        finally:
            _held_locks[key] -= 1
        return
    with open(lock_path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        _held_locks[key] = 1
        try:
            yield
        finally:
            del _held_locks[key]


def _fsync_tree(folder: Path) -> None:
    for file in folder.rglob("*"):
        if file.is_file():
            with open(file, "rb") as handle:
                os.fsync(handle.fileno())


@contextlib.contextmanager
def new_generation(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A fresh directory to write a generation into; swapped in at ``path`` on success.

    On any exception (Ctrl-C included) the partial directory is removed and the current
    index stays as it was. Generations left half-written by killed runs are removed first.
    """
    path = Path(path)
    if path.exists() and not path.is_symlink():
        raise RecommenderError(
            f"{path} is a plain directory, not an index link", "",
            "Move it away or pass another --index")
    with writer_lock(path):
        _remove_partial_generations(path)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        name = f".{path.name}@{stamp}-{os.getpid()}-{time.monotonic_ns() % 10**6:06d}"
        staging = path.parent / f"{name}.partial"
        staging.mkdir()
        try:
            (staging / LEASE).touch()
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


def _remove_partial_generations(path: Path) -> None:
    """Half-written generations of killed runs. Only called under the writer lock, so no
    live writer owns one."""
    for partial in path.parent.glob(f".{path.name}@*.partial"):
        shutil.rmtree(partial, ignore_errors=True)


def _remove_old_generations(path: Path, keep: set[str]) -> None:
    """Every generation but ``keep`` that no reader holds (a reader's shared lease blocks our
    exclusive lock; it is removed by a later build once the reader is done)."""
    for old in path.parent.glob(f".{path.name}@*"):
        if old.name in keep or old.name.endswith(".partial"):
            continue
        if old.is_symlink():
            old.unlink(missing_ok=True)
        elif old.is_dir():
            _remove_unleased(old)


def _remove_unleased(folder: Path) -> None:
    try:
        # Created if missing (a generation from before leases), so that a reader opening it
        # now and this remover agree through the same lock.
        handle = open(folder / LEASE, "ab")  # noqa: SIM115
    except OSError:  # not even openable: leave the folder to a later build
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return
        (folder / LEASE).unlink(missing_ok=True)  # a reader arriving now sees it is gone
        shutil.rmtree(folder, ignore_errors=True)


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
    """Write ``manifest.json`` last: it records the size and SHA-256 of every file already in
    ``folder`` and a digest of itself."""
    manifest = {"format": FORMAT, "version": FORMAT_VERSION,
                "built_at": format_datetime(datetime.now(timezone.utc).replace(microsecond=0)),
                **fields, "checksums": checksums(folder)}
    manifest["manifest_sha256"] = manifest_digest(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
