"""Build and extend indexes: feed files -> candidate pool -> vectors + BM25 -> index directory.

Embeddings are cached by content (``vectors``): a row whose hash the current index already
holds keeps its vector. Rebuilding an unchanged archive, or adding a few files, encodes only
what is new.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from recommender.articles import LoadResult, load_articles
from recommender.embedding import (
    HASHING_MODEL,
    Encoder,
    OnnxEncoder,
    SentenceTransformerEncoder,
    load_encoder,
)
from recommender.errors import ArticleError, RecommenderError
from recommender.index import FAISS_FILE, HNSW_INFO, choose_kind, kind_info, write_faiss
from recommender.integrity import Damage, copy_verified
from recommender.lexical import build_bm25
from recommender.onnx_export import (
    ONNX_FILES,
    cached_export,
    export_checksums,
    export_onnx,
    is_complete_export,
)
from recommender.pool import Pool, build_pool
from recommender.store import (
    DEFAULT_INDEX,
    Index,
    article_record,
    load_index,
    new_generation,
    published_seconds,
    salvage_index,
    write_manifest,
    write_records,
    writer_lock,
)
from recommender.vectors import Progress, cached_vectors, embed

PathLike = str | os.PathLike[str]
Waiting = Callable[[], None]
"""Called once if the build must wait for another build of the same index."""


@dataclass
class BuildResult:
    index: Path
    manifest: dict[str, Any]
    files: int
    encoded: int
    reused: int
    skipped: list[ArticleError] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class PoolWrite:
    """What ``write_pool`` wrote: the new generation's manifest, how many texts it encoded,
    and notes for the user (an ONNX export that failed, ...)."""

    manifest: dict[str, Any]
    encoded: int
    notes: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator[Any]:
        # Unpacks as the tuple write_pool used to return, for evaluate.py until it reads the
        # fields by name.
        return iter((self.manifest, self.encoded, self.notes))


def _vector_info(index: Index) -> dict[str, Any]:
    """The index's vector index, as ``kind_info`` describes it."""
    return {k: v for k, v in index.manifest["vector_index"].items() if k != "requested"}


def _extendable(previous: Index | None, previous_hashes: Sequence[str], hashes: Sequence[str],
                kind: str) -> Path | None:
    """The previous generation's FAISS file if the new one can extend it (same kind, and the
    previous rows, unchanged, come first), else None."""
    if previous is None or previous.salvaged or kind != "hnsw" or not previous_hashes:
        return None
    faiss_file = previous.folder / FAISS_FILE
    if _vector_info(previous) != HNSW_INFO or not faiss_file.is_file():
        return None
    prefix = len(previous_hashes)
    return faiss_file if list(hashes[:prefix]) == list(previous_hashes) else None


def _previous(index: Path) -> Index | None:
    """The generation a build extends. A damaged one is ignored, except for the vectors of
    rows that still match their checksums."""
    try:
        return load_index(index)
    except RecommenderError:
        return salvage_index(index)


def _copy_part(source: Path, target: Path, recorded: dict[str, dict[str, Any]],
               prefix: str = "") -> bool:
    """Copy a generation's file (or, with ``prefix``, every file recorded under that folder)
    into the new generation, each checked against ``recorded`` on the way. Copies, never hard
    links: damage to one generation (or to the export cache) must not reach another.
    False (and nothing left behind) if anything is missing or differs."""
    names = [name for name in recorded if name.startswith(prefix)] if prefix else [""]
    if prefix and not names:
        return False
    try:
        for name in names:
            relative = name[len(prefix):]
            copy_verified(source / relative if prefix else source,
                          target / relative if prefix else target,
                          recorded[name] if prefix else recorded.get(source.name, {}))
    except Damage:
        if prefix:
            shutil.rmtree(target, ignore_errors=True)
        return False
    return True


def _export_into(reference: SentenceTransformerEncoder, target: Path) -> None:
    """The cached export, copied into the index (checked against the cache's checksums; a
    damaged cache entry is made again), or a fresh export if there is no writable cache."""
    try:
        cached = cached_export(reference)
        if not _copy_part(cached, target, _prefixed(export_checksums(cached)), "encoder/"):
            cached = cached_export(reference, discard=True)
            if not _copy_part(cached, target, _prefixed(export_checksums(cached)), "encoder/"):
                raise OSError(f"the cached export at {cached} does not match its checksums")
    except OSError:  # no writable cache: export straight into the index
        shutil.rmtree(target, ignore_errors=True)
        export_onnx(reference, target)


def _prefixed(recorded: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f"encoder/{name}": info for name, info in recorded.items() if name in ONNX_FILES}


def _prepare_encoder(reference: Encoder, previous: Index | None, folder: Path, *,
                     backend: str, notes: list[str]) -> tuple[Encoder, str]:
    """The encoder to build with, and the query encoder the manifest records.

    The ONNX export is made once per model (kept in the export cache, see
    ``onnx_export.cached_export``) and copied from generation to generation.
    """
    if not isinstance(reference, SentenceTransformerEncoder):
        return reference, "hashing" if reference.identity["name"] == HASHING_MODEL else "custom"
    if backend == "sentence-transformers":
        return reference, "sentence-transformers"
    target = folder / "encoder"
    same_model = previous is not None and not previous.salvaged and \
        previous.manifest["model"]["fingerprint"] == reference.identity["fingerprint"]
    try:
        # An export in an older layout (weights inside model.onnx) is made again, from the cache.
        if not (same_model and previous.encoder_folder and is_complete_export(
                previous.encoder_folder) and _copy_part(
                previous.folder / "encoder", target, previous.manifest["checksums"],
                "encoder/")):
            _export_into(reference, target)
        return OnnxEncoder(target), "onnx"
    except Exception as exc:  # any exporter failure: fall back, do not fail the build
        notes.append(f"ONNX export failed ({type(exc).__name__}: {exc}); queries will use "
                     "sentence-transformers (slower start)")
        shutil.rmtree(target, ignore_errors=True)
        return reference, "sentence-transformers"


def write_pool(pool: Pool, index: Path, *, reference: Encoder, sources: Sequence[str],
               previous: Index | None = None, batch_size: int = 64, kind: str = "auto",
               backend: str = "auto", progress: Progress | None = None,
               model_source: str | None = None) -> PoolWrite:
    """Embed the pool (reusing cached vectors) and write it as a new index generation.

    A ``previous`` generation that was salvaged from damage lends its vectors only.
    """
    if not pool.candidates:
        raise RecommenderError("no articles to index", ", ".join(sources),
                               "Point build at a folder of feed files (.md, .txt, .yaml)")
    notes: list[str] = []
    previous_hashes = [r["hash"] for r in previous.records] if previous is not None else []
    cache = cached_vectors(previous, reference.identity["fingerprint"], previous_hashes)
    articles = pool.articles()
    with new_generation(index) as folder:
        encoder, query_encoder = _prepare_encoder(reference, previous, folder, backend=backend,
                                                   notes=notes)
        vectors, hashes, encoded = embed([a.text for a in articles], encoder, cache,
                                         batch_size=batch_size, progress=progress)
        # Same texts in the same order as the previous generation (an unchanged archive):
        # its vectors, FAISS file and BM25 index are already right; copy them (checked).
        same_rows = previous is not None and not previous.salvaged and hashes == previous_hashes
        recorded = previous.manifest.get("checksums", {}) if previous is not None else {}
        if not (same_rows and _copy_part(previous.folder / "vectors.npy",
                                         folder / "vectors.npy", recorded)):
            np.save(folder / "vectors.npy", vectors)
        np.save(folder / "published.npy",
                np.array([published_seconds(a) for a in articles], dtype=np.float64))
        records = [article_record(c, h) for c, h in zip(pool.candidates, hashes, strict=True)]
        content = write_records(folder, records)
        chosen = choose_kind(len(vectors), kind)
        if same_rows and _vector_info(previous) == kind_info(chosen) and _copy_part(
                previous.folder / FAISS_FILE, folder / FAISS_FILE, recorded):
            vector_index = {**kind_info(chosen), "requested": kind}
        else:
            extend = _extendable(previous, previous_hashes, hashes, chosen)
            vector_index = {**write_faiss(vectors, folder, chosen, extend), "requested": kind}
        if not (same_rows and _copy_part(previous.folder / "bm25", folder / "bm25", recorded,
                                         "bm25/")):
            build_bm25([a.text for a in articles], folder / "bm25")
        manifest = write_manifest(
            folder,
            model={**reference.identity, "dim": int(vectors.shape[1]),
                   "source": model_source or reference.identity["name"]},
            query_encoder=query_encoder,
            dim=int(vectors.shape[1]),
            count=len(records),
            files=sum(c.is_file for c in pool.candidates),
            stubs=sum(not c.is_file for c in pool.candidates),
            sources=list(sources),
            content_hash=content,
            vector_index=vector_index,
            text="title + '. ' + excerpt",
        )
    return PoolWrite(manifest, encoded, notes)


def _model_source(model: str | None) -> str:
    """What the manifest records to find the model again: 'default', 'hashing' or a path."""
    if model in (None, "", "default"):
        return "default"
    return model if model == HASHING_MODEL else str(Path(model).resolve())


def _loaded(paths: Iterable[str | os.PathLike[str]], strict: bool) -> LoadResult:
    loaded = load_articles(list(paths), strict=strict)
    if not loaded.articles:
        where = ", ".join(str(p) for p in paths)
        reason = f" ({loaded.error_summary()})" if loaded.errors else ""
        raise RecommenderError(f"no articles found{reason}", where,
                               "Point at feed files (.md, .txt, .yaml, .yml) with front matter")
    return loaded


def build_index(paths: Sequence[PathLike], index: PathLike = DEFAULT_INDEX, *,
                model: str | None = None, batch_size: int = 64, strict: bool = False,
                kind: str = "auto", backend: str = "auto", progress: Progress | None = None,
                encoder: Encoder | None = None, on_wait: Waiting | None = None) -> BuildResult:
    """Index every article under ``paths`` (and their related entries) at ``index``.

    ``encoder`` replaces the model (tests pass fakes). Broken files are skipped and listed in
    the result, or raise under ``strict``. If another build or add of the same index is
    running, this one calls ``on_wait`` and waits for it, then reuses what it wrote.
    """
    index = Path(index)
    loaded = _loaded(paths, strict)
    pool = build_pool(loaded.articles)
    reference = encoder or load_encoder(model)
    source = _model_source(model) if encoder is None else encoder.identity["name"]
    with writer_lock(index, on_wait):
        previous = _previous(index)
        try:
            written = write_pool(
                pool, index, reference=reference, sources=[str(p) for p in paths],
                previous=previous, batch_size=batch_size, kind=kind, backend=backend,
                progress=progress, model_source=source)
        finally:
            if previous is not None:
                previous.close()
    return BuildResult(index, written.manifest, len(loaded.articles), written.encoded,
                       len(pool) - written.encoded, loaded.errors, pool.duplicates,
                       written.notes)


def add_to_index(paths: Sequence[PathLike], index: PathLike = DEFAULT_INDEX, *,
                 batch_size: int = 64, strict: bool = False, progress: Progress | None = None,
                 encoder: Encoder | None = None, on_wait: Waiting | None = None,
                 ) -> BuildResult:
    """Add (or update) the articles under ``paths`` in an existing index, without a rebuild.

    The existing rows keep their vectors; only new texts are encoded. Written atomically.
    Another build or add of the same index is waited for (``on_wait`` is called first), and
    this one then extends what it wrote: two adds at once both land.
    """
    index = Path(index)
    with writer_lock(index, on_wait), load_index(index) as current:
        return _add(current, paths, index, batch_size=batch_size, strict=strict,
                    progress=progress, encoder=encoder)


def _add(current: Index, paths: Sequence[PathLike], index: Path, *, batch_size: int,
         strict: bool, progress: Progress | None, encoder: Encoder | None) -> BuildResult:
    loaded = _loaded(paths, strict)
    pool = build_pool(loaded.articles, seed=current.candidates())
    source = current.manifest["model"]["source"]
    reference = encoder or load_encoder(None if source == "default" else source)
    sources = list(dict.fromkeys([*current.manifest["sources"], *(str(p) for p in paths)]))
    # Keep the index's own choices: its vector index kind ("auto" may now pick HNSW) and
    # whether it has an ONNX export.
    vector_index = current.manifest["vector_index"]
    backend = "sentence-transformers" if current.manifest["query_encoder"] == \
        "sentence-transformers" else "auto"
    written = write_pool(
        pool, index, reference=reference, sources=sources, previous=current,
        batch_size=batch_size, kind=vector_index.get("requested", vector_index["kind"]),
        backend=backend, progress=progress, model_source=source)
    return BuildResult(index, written.manifest, len(loaded.articles), written.encoded,
                       len(pool) - written.encoded, loaded.errors, pool.duplicates,
                       written.notes)
