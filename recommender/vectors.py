"""The vector cache: vectors by content hash, so nothing is encoded twice.

A row's hash is SHA-1 of (model fingerprint, text). A build, an ``add``, a refresh or an
evaluation reuses the vector of every text whose hash an index already holds, and encodes only
the rest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from recommender.embedding import Encoder

Progress = Callable[[int, int], None]
"""Called with (texts encoded so far, texts to encode)."""


class _VectorRows(Protocol):
    """What the cache needs of an index (``store.Index`` is one; store sits above this module)."""

    manifest: dict[str, Any]
    records: Any
    vectors: Any


def content_hash(fingerprint: str, text: str) -> str:
    return hashlib.sha1(f"{fingerprint}\n{text}".encode()).hexdigest()


def cached_vectors(index: _VectorRows | None, fingerprint: str,
                   hashes: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """Vectors an index already holds, by content hash (none if built with another model).

    ``hashes`` are the index's row hashes, when the caller has read them already.
    """
    if index is None or index.manifest["model"]["fingerprint"] != fingerprint:
        return {}
    if hashes is None:
        hashes = [record["hash"] for record in index.records]
    return {digest: index.vectors.vectors[row] for row, digest in enumerate(hashes)}


def embed(texts: Sequence[str], encoder: Encoder, cache: dict[str, np.ndarray], *,
          batch_size: int = 64, progress: Progress | None = None,
          ) -> tuple[np.ndarray, list[str], int]:
    """(vectors, content hashes, how many were encoded) for ``texts``, reusing ``cache``."""
    hashes = [content_hash(encoder.identity["fingerprint"], text) for text in texts]
    missing = [row for row, digest in enumerate(hashes) if digest not in cache]
    done = 0

    def step(count: int) -> None:
        nonlocal done
        done += count
        if progress:
            progress(done, len(missing))

    fresh = encoder.encode([texts[row] for row in missing], batch_size, step) if missing else None
    dim = fresh.shape[1] if fresh is not None else len(next(iter(cache.values())))
    vectors = np.empty((len(texts), dim), dtype=np.float32)
    for row, digest in enumerate(hashes):
        if digest in cache:
            vectors[row] = cache[digest]
    if fresh is not None:
        vectors[missing] = fresh
    return vectors, hashes, len(missing)
