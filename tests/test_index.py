"""The vector index: exact and HNSW search over a handful of vectors worked out by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recommender.index import VectorIndex, choose_kind, kind_info, top_rows, write_faiss

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


@pytest.mark.parametrize("depth", [1, 10, 100, 999])
def test_top_rows_of_many_scores_are_exactly_the_sorted_ones(depth: int) -> None:
    # Rounded to give many ties: the expected order is a stable sort (lower position first).
    scores = np.round(np.random.default_rng(7).random(1000), 2)
    assert top_rows(scores, depth).tolist() == np.argsort(-scores, kind="stable")[:depth].tolist()


def test_ties_keep_the_lower_position_first() -> None:
    assert top_rows(np.array([0.5, 0.9, 0.5, 0.9]), 3).tolist() == [1, 3, 0]


def test_exact_search_and_scores() -> None:
    index = VectorIndex(VECTORS)
    assert len(index) == 5
    assert index.scores(QUERY).tolist() == pytest.approx([1.0, 0.0, 0.6, -1.0, 0.8])
    assert index.scores(QUERY).dtype == np.float32
    assert index.scores(QUERY.astype(np.float64)).dtype == np.float32
    assert index.scores(QUERY, np.array([4, 2])).tolist() == pytest.approx([0.8, 0.6])
    assert index.search(QUERY, 2).tolist() == [0, 4]
    assert index.search(QUERY, 50).tolist() == BEST_FIRST


def test_hnsw_search_finds_the_same_rows_row_0_included(tmp_path: Path) -> None:
    write_faiss(VECTORS, tmp_path, "hnsw")
    index = VectorIndex(VECTORS, tmp_path, "hnsw")
    assert index.search(QUERY, 3).tolist() == [0, 4, 2]  # through the graph: depth < rows
    assert index.search(QUERY.astype(np.float64), 4).tolist() == [0, 4, 2, 1]
    assert index.search(QUERY, 5).tolist() == BEST_FIRST  # every row: exact, no graph


@pytest.mark.parametrize(("count", "asked", "kind"), [
    (1, "auto", "exact"), (100_000, "auto", "exact"), (100_001, "auto", "hnsw"),
    (10, "hnsw", "hnsw"), (10**7, "exact", "exact")])
def test_exact_up_to_100k_vectors_unless_asked(count: int, asked: str, kind: str) -> None:
    assert choose_kind(count, asked) == kind
    assert choose_kind(count) == choose_kind(count, "auto")


def test_the_manifest_records_what_a_graph_is_reused_for() -> None:
    assert kind_info("exact") == {"kind": "exact", "faiss": "IndexFlatIP"}
    assert kind_info("hnsw") == {"kind": "hnsw", "faiss": "IndexHNSWFlat", "M": 32,
                                 "efConstruction": 80, "efSearch": 128}
    kind_info("hnsw")["M"] = 4  # a caller's copy: the recorded settings stay
    assert kind_info("hnsw")["M"] == 32


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_written_faiss_index_holds_every_vector(tmp_path: Path, kind: str) -> None:
    import faiss

    assert write_faiss(VECTORS, tmp_path, kind) == kind_info(kind)
    index = faiss.read_index(str(tmp_path / "faiss.index"))
    assert index.ntotal == 5 and index.d == 3
    assert type(index).__name__ == kind_info(kind)["faiss"]
    _, rows = index.search(QUERY[None, :], 5)
    assert rows[0].tolist() == BEST_FIRST
    if kind == "hnsw":
        assert index.hnsw.efConstruction == 80


def test_extending_a_faiss_index_adds_only_the_new_rows(tmp_path: Path) -> None:
    import faiss

    write_faiss(VECTORS[:3], tmp_path, "hnsw")
    (tmp_path / "faiss.index").rename(tmp_path / "old.index")
    write_faiss(VECTORS, tmp_path, "hnsw", extend=tmp_path / "old.index")
    index = faiss.read_index(str(tmp_path / "faiss.index"))
    assert index.ntotal == 5
    _, rows = index.search(QUERY[None, :], 5)
    assert rows[0].tolist() == BEST_FIRST
    with pytest.raises(ValueError, match=r"old\.index does not hold a prefix"):
        write_faiss(VECTORS[:2], tmp_path, "hnsw", extend=tmp_path / "old.index")
    with pytest.raises(ValueError, match=r"old\.index does not hold a prefix"):
        write_faiss(np.zeros((5, 4), dtype=np.float32), tmp_path, "hnsw",
                    extend=tmp_path / "old.index")
