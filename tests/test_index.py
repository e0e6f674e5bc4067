"""The vector index: exact and HNSW search over a handful of vectors worked out by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recommender.index import VectorIndex, top_rows, write_faiss

# Five unit vectors in 3-D; the query is the first axis, so the cosines are the x components.
VECTORS = np.array([[1.0, 0.0, 0.0],        # cosine 1.0: row 0 is the best
                    [0.0, 1.0, 0.0],        # 0.0
                    [0.6, 0.8, 0.0],        # 0.6
                    [-1.0, 0.0, 0.0],       # -1.0
                    [0.8, 0.0, 0.6]],       # 0.8
                   dtype=np.float32)
QUERY = np.array([1.0, 0.0, 0.0], dtype=np.float32)
BEST_FIRST = [0, 4, 2, 1, 3]


@pytest.mark.parametrize(("depth", "rows"), [
    (0, []), (-3, []), (1, [0]), (3, [0, 4, 2]), (5, BEST_FIRST), (9, BEST_FIRST)])
def test_top_rows_are_the_best_first(depth: int, rows: list[int]) -> None:
    found = top_rows(VECTORS @ QUERY, depth)
    assert found.tolist() == rows and found.dtype == np.int64


def test_ties_keep_the_lower_position_first() -> None:
    assert top_rows(np.array([0.5, 0.9, 0.5, 0.9]), 3).tolist() == [1, 3, 0]


def test_exact_search_and_scores() -> None:
    index = VectorIndex(VECTORS)
    assert len(index) == 5
    assert index.scores(QUERY).tolist() == pytest.approx([1.0, 0.0, 0.6, -1.0, 0.8])
    assert index.scores(QUERY).dtype == np.float32
    assert index.scores(QUERY, np.array([4, 2])).tolist() == pytest.approx([0.8, 0.6])
    assert index.search(QUERY, 2).tolist() == [0, 4]
    assert index.search(QUERY, 50).tolist() == BEST_FIRST


def test_hnsw_search_finds_the_same_rows_row_0_included(tmp_path: Path) -> None:
    write_faiss(VECTORS, tmp_path, "hnsw")
    index = VectorIndex(VECTORS, tmp_path, "hnsw")
    assert index.search(QUERY, 3).tolist() == [0, 4, 2]  # through the graph: depth < rows
    assert index.search(QUERY.astype(np.float64), 4).tolist() == [0, 4, 2, 1]
    assert index.search(QUERY, 5).tolist() == BEST_FIRST  # every row: exact, no graph
