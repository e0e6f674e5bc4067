"""BM25 over title + excerpt: built with ``bm25s`` at build time, scored with NumPy at query time.

``bm25s`` stores its index as a term x document CSC matrix of precomputed BM25 weights
(``data``/``indices``/``indptr`` ``.npy`` files plus ``vocab.index.json``). A query's scores are
the column sums over its terms, which is a few lines of NumPy; reading the files directly
spares every ``suggest`` the ~0.45 s that importing ``bm25s`` (and numba) costs.
A test checks that these scores equal ``bm25s``'s own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

_WORD = re.compile(r"\b\w\w+\b")
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    says said say also""".split()  # noqa: SIM905 (a word list reads better as text)
)


def tokenize(text: str) -> list[str]:
    """Lowercase words of two or more characters, English stop words removed.

    Changing this changes every saved BM25 index: bump ``store.FORMAT_VERSION`` with it (a
    rebuild of an unchanged archive links the previous generation's BM25 files).
    """
    return [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


def build_bm25(texts: Sequence[str], folder: Path) -> None:
    """Index ``texts`` with ``bm25s`` (Lucene BM25, k1=1.5, b=0.75) and save it in ``folder``."""
    import bm25s

    retriever = bm25s.BM25()
    # An empty document would break bm25s's vocabulary; a placeholder token matches nothing.
    retriever.index([tokenize(t) or ["\x00"] for t in texts], show_progress=False)
    retriever.save(str(folder), show_progress=False)


class Bm25Scorer:
    """Scores every document of a saved ``bm25s`` index for a query, with NumPy only."""

    def __init__(self, folder: Path) -> None:
        self.data = np.load(folder / "data.csc.index.npy", mmap_mode="r")
        self.indices = np.load(folder / "indices.csc.index.npy", mmap_mode="r")
        self.indptr = np.load(folder / "indptr.csc.index.npy")
        self.vocab: dict[str, int] = json.loads((folder / "vocab.index.json").read_text("utf-8"))
        self.num_docs = int(json.loads((folder / "params.index.json").read_text())["num_docs"])

    def term_ids(self, text: str) -> list[int]:
        """Vocabulary ids of the query's distinct words (unknown words are dropped)."""
        return [self.vocab[w] for w in dict.fromkeys(tokenize(text)) if w in self.vocab]

    def scores(self, text: str) -> np.ndarray:
        """BM25 score of every document for the query ``text``: shape (num_docs,), float32."""
        scores = np.zeros(self.num_docs, dtype=np.float32)
        for term in self.term_ids(text):
            start, end = self.indptr[term], self.indptr[term + 1]
            scores[self.indices[start:end]] += self.data[start:end]  # rows unique per term
        return scores
