from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from conftest import feed_file

from recommender.build import add_to_index, build_index
from recommender.embedding import HashingEncoder
from recommender.errors import ArticleError, RecommenderError
from recommender.onnx_export import ONNX_FILES
from recommender.store import load_index


def test_index_directory_is_readable(built, archive: Path) -> None:
    files = sorted(p.name for p in built.folder.iterdir() if not p.name.startswith("."))
    assert files == ["bm25", "candidates.jsonl", "faiss.index", "manifest.json",
                     "offsets.npy", "published.npy", "vectors.npy"]
    manifest = json.loads((built.folder / "manifest.json").read_text())
    assert manifest["count"] == 7 and manifest["files"] == 6 and manifest["stubs"] == 1
    assert manifest["model"]["name"] == "hashing" and manifest["dim"] == 256
    assert manifest["sources"] == [str(archive)]
    assert len(manifest["content_hash"]) == 64
    vectors = np.load(built.folder / "vectors.npy")
    assert vectors.shape == (7, 256)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    records = [json.loads(line) for line in (built.folder / "candidates.jsonl").open()]
    offsets = np.load(built.folder / "offsets.npy")
    data = (built.folder / "candidates.jsonl").read_bytes()
    assert offsets[-1] == len(data) and json.loads(data[offsets[3]:offsets[4]]) == records[3]
    assert [built.records[i] for i in range(7)] == records
    assert {r["kind"] for r in records} == {"file", "stub"}
    assert all({"id", "hash", "title", "mentioned_by"} <= set(r) for r in records)


def test_faiss_file_matches_the_vectors(built) -> None:
    import faiss

    index = faiss.read_index(str(built.folder / "faiss.index"))
    assert index.ntotal == len(built)
    scores, rows = index.search(np.asarray(built.vectors.vectors[:1]), 1)
    assert rows[0][0] == 0 and scores[0][0] == pytest.approx(1.0, abs=1e-5)


def test_rebuild_of_unchanged_archive_encodes_nothing(archive, tmp_path, encoder) -> None:
    target = tmp_path / "ix"
    first = build_index([archive], target, encoder=encoder)
    second = build_index([archive], target, encoder=encoder)
    assert (first.encoded, second.encoded, second.reused) == (7, 0, 7)
    assert first.manifest["content_hash"] == second.manifest["content_hash"]


DERIVED = ("vectors.npy", "faiss.index", "bm25/vocab.index.json", "bm25/data.csc.index.npy")


def _generation_files(index: Path) -> dict[str, tuple[int, bytes]]:
    folder = Path(os.path.realpath(index))
    return {name: ((folder / name).stat().st_ino, (folder / name).read_bytes())
            for name in DERIVED}


def test_unchanged_rows_copy_vectors_faiss_and_bm25(archive, tmp_path, encoder,
                                                     monkeypatch) -> None:
    import recommender.build

    target = tmp_path / "ix"
    build_index([archive], target, encoder=encoder)
    before = _generation_files(target)
    (archive / "c1.md").write_text((archive / "c1.md").read_text().replace(
        "2026-01-10T10:00:00Z", "2026-01-09T10:00:00Z"))  # a date changes, no text does

    def not_again(*args, **kwargs):
        raise AssertionError("rebuilt what could be copied")

    monkeypatch.setattr(recommender.build, "write_faiss", not_again)
    monkeypatch.setattr(recommender.build, "build_bm25", not_again)
    build_index([archive], target, encoder=encoder)
    after = _generation_files(target)
    # The same bytes in files of their own: damage to one generation cannot reach the other.
    assert {name: data for name, (_, data) in after.items()} == \
        {name: data for name, (_, data) in before.items()}
    assert all(after[name][0] != before[name][0] for name in DERIVED)
    index = load_index(target)
    row = next(r for r, rec in enumerate(index.records) if rec["title"].startswith("Bakery"))
    assert index.records[row]["publishedDateTime"].startswith("2026-01-09")


def test_changed_text_rebuilds_vectors_faiss_and_bm25(archive, tmp_path, encoder) -> None:
    target = tmp_path / "ix"
    build_index([archive], target, encoder=encoder)
    before = _generation_files(target)
    (archive / "c1.md").write_text((archive / "c1.md").read_text().replace(
        "birthday cakes", "wedding cakes"))
    build_index([archive], target, encoder=encoder)
    after = _generation_files(target)
    # (bm25/data.csc.index.npy may come out byte for byte the same: "wedding" weighs what
    # "birthday" did, and bm25s numbers words in set order.)
    assert all(after[name][1] != before[name][1] for name in DERIVED[:3])
    assert load_index(target).bm25.term_ids("wedding")


def test_add_encodes_only_the_new_article(built, tmp_path, encoder) -> None:
    new = feed_file(tmp_path / "new", "n.md", "Harbor drones return to parks at night",
                    "Night flights over parks are allowed again.", "2026-01-20T09:00:00Z",
                    "https://seven.example/night-drones", "Seven")
    result = add_to_index([new], built.folder.parent / "default", encoder=encoder)
    assert (result.encoded, result.manifest["count"]) == (1, 8)
    reloaded = load_index(built.folder.parent / "default")
    assert reloaded.records[7]["title"] == "Harbor drones return to parks at night"


def test_add_to_hnsw_index_extends_the_graph(archive, tmp_path, encoder, monkeypatch) -> None:
    import faiss

    import recommender.build

    extended: list[Path | None] = []
    write_faiss = recommender.build.write_faiss

    def spy(vectors, folder, kind, extend=None):
        extended.append(extend)
        return write_faiss(vectors, folder, kind, extend)

    monkeypatch.setattr(recommender.build, "write_faiss", spy)
    target = tmp_path / "ix"
    first = build_index([archive], target, encoder=encoder, kind="hnsw")
    first_generation = load_index(target).folder
    new = feed_file(tmp_path / "new", "n.md", "Night drone flights return over harbor parks",
                    "", "2026-01-20T09:00:00Z", "https://seven.example/night-drones", "Seven")
    added = add_to_index([new], target, encoder=encoder)
    assert extended == [None, first_generation / "faiss.index"]
    graph = faiss.read_index(str(load_index(target).folder / "faiss.index"))
    assert graph.ntotal == added.manifest["count"] == first.manifest["count"] + 1
    vectors = load_index(target).vectors.vectors
    _, rows = graph.search(np.asarray(vectors[-1:]), 1)
    assert rows[0][0] == len(vectors) - 1  # the added article is found in the graph
    # A changed article that is not at the end: the graph cannot be extended, it is rebuilt.
    first_file = sorted(archive.glob("*.md"))[0]
    first_file.write_text(first_file.read_text().replace('title: "', 'title: "Update: ', 1))
    build_index([archive, new], target, encoder=encoder, kind="hnsw")
    assert extended[2] is None


class FailingEncoder(HashingEncoder):
    """Raises after ``batches`` batches, like a crash or Ctrl-C in the middle of a build."""

    def __init__(self, batches: int, error: type[BaseException] = RuntimeError) -> None:
        super().__init__()
        self.batches, self.error = batches, error

    def encode(self, texts, batch_size=64, progress=None):
        def step(count: int) -> None:
            self.batches -= 1
            if self.batches < 0:
                raise self.error("interrupted")

        return super().encode(texts, 1, step)


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_interrupted_build_leaves_the_old_index(built, tmp_path, error) -> None:
    target = built.folder.parent / "default"
    before = (built.manifest["content_hash"], os.readlink(target))
    for i in range(5):
        feed_file(tmp_path / "archive", f"extra{i}.md", f"Extra story number {i}")
    with pytest.raises(error):
        build_index([tmp_path / "archive"], target, encoder=FailingEncoder(3, error))
    after = load_index(target)
    assert (after.manifest["content_hash"], os.readlink(target)) == before
    assert len(after) == 7
    assert not [p for p in target.parent.iterdir() if p.name.endswith(".partial")]


def test_empty_archive_is_a_clear_error(tmp_path, encoder) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(RecommenderError, match="no articles found"):
        build_index([tmp_path / "empty"], tmp_path / "ix", encoder=encoder)


def test_broken_file_is_skipped_and_listed(archive, tmp_path, encoder) -> None:
    (archive / "broken.md").write_text("---\ntitle: [unclosed\n---\n")
    result = build_index([archive], tmp_path / "ix", encoder=encoder)
    assert [Path(e.path).name for e in result.skipped] == ["broken.md"]
    assert result.files == 6
    with pytest.raises(ArticleError, match="invalid YAML"):
        build_index([archive], tmp_path / "ix2", encoder=encoder, strict=True)
    assert not (tmp_path / "ix2").exists()


def test_missing_index_says_how_to_build(tmp_path) -> None:
    with pytest.raises(RecommenderError, match="recommender build"):
        load_index(tmp_path / "nothing")


def test_unknown_model_is_a_clear_error(archive, tmp_path) -> None:
    with pytest.raises(RecommenderError, match="unknown model 'no/such-model'"):
        build_index([archive], tmp_path / "ix", model="no/such-model")


def test_index_built_with_another_model_is_refused(built) -> None:
    with pytest.raises(RecommenderError, match="was built with model 'hashing'"):
        built.query_encoder("default")


def test_old_generations_are_cleaned_up(archive, tmp_path, encoder) -> None:
    target = tmp_path / "ix"
    for _ in range(4):
        build_index([archive], target, encoder=encoder)
    generations = [p for p in tmp_path.iterdir() if p.name.startswith(".ix@")]
    assert len(generations) == 2  # the current one and the one before it


def _fake_export(calls: list[Path]):
    def export(encoder, folder: Path) -> None:
        calls.append(folder)
        folder.mkdir(parents=True)
        for name in ONNX_FILES:
            (folder / name).write_text(encoder.identity["fingerprint"])
    return export


def test_export_cache_exports_each_model_once(tmp_path, monkeypatch) -> None:
    from recommender import embedding, onnx_export

    calls: list[Path] = []
    monkeypatch.setattr(onnx_export, "export_onnx", _fake_export(calls))
    monkeypatch.setenv("RECOMMENDER_CACHE", str(tmp_path / "cache"))
    model = embedding.SentenceTransformerEncoder(embedding.default_model_path())
    first = onnx_export.cached_export(model)
    assert onnx_export.cached_export(model) == first and len(calls) == 1
    assert first == tmp_path / "cache" / "onnx" / model.identity["fingerprint"]
    assert sorted(p.name for p in first.parent.iterdir()) == [first.name]  # no partial left
    (first / "model.onnx").unlink()  # damaged: made again
    assert onnx_export.cached_export(model) == first and len(calls) == 2
    assert (first / "model.onnx").is_file()


def test_failed_export_leaves_nothing_in_the_cache(tmp_path, monkeypatch) -> None:
    from recommender import embedding, onnx_export

    def broken(encoder, folder: Path) -> None:
        folder.mkdir(parents=True)
        (folder / "model.onnx").write_text("half")
        raise RuntimeError("exporter crashed")

    monkeypatch.setattr(onnx_export, "export_onnx", broken)
    monkeypatch.setenv("RECOMMENDER_CACHE", str(tmp_path / "cache"))
    with pytest.raises(RuntimeError):
        onnx_export.cached_export(embedding.SentenceTransformerEncoder(
            embedding.default_model_path()))
    assert list((tmp_path / "cache" / "onnx").iterdir()) == []


@pytest.mark.parametrize("value", ["off", ""])
def test_export_cache_can_be_turned_off(monkeypatch, value: str) -> None:
    from recommender import embedding, onnx_export

    monkeypatch.setenv("RECOMMENDER_CACHE", value)
    assert onnx_export.export_cache() is None
    with pytest.raises(OSError, match="off"):
        onnx_export.cached_export(embedding.SentenceTransformerEncoder(
            embedding.default_model_path()))


def test_export_cache_defaults_to_the_user_cache(monkeypatch, tmp_path) -> None:
    from recommender import onnx_export

    monkeypatch.delenv("RECOMMENDER_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert onnx_export.export_cache() == tmp_path / "recommender"


def test_add_carries_every_field_of_every_existing_row(tmp_path: Path, encoder) -> None:
    """`add` rebuilds the pool from the index's own rows: each row must come back whole."""
    folder = tmp_path / "a"
    feed_file(folder, "rich.md", "Rich article", "With every field.", "2026-01-10T09:00:00Z",
              "https://rich.example/a", "Rich",
              extra=("ampWebUrl: \"https://rich.example/amp/a\"\n"
                     "cdnAmpWebUrl: \"https://cdn.example/c/rich.example/amp/a\"\n"
                     "quality: 71\ntopics: [AI, Chips]\nimages:\n"
                     "  - {url: \"https://img.example/a.jpg\", width: 10, height: 5, "
                     "isCached: true}"),
              related=[{"title": "Listed elsewhere", "webUrl": "https://other.example/b",
                        "excerpt": "Only known from the list.", "date": "2026-01-11T08:00:00Z",
                        "provider": "Other"}])
    build_index([folder], tmp_path / "ix", encoder=encoder)
    before = list(load_index(tmp_path / "ix").records)
    assert {r["kind"] for r in before} == {"file", "stub"}
    new = feed_file(tmp_path / "n", "n.md", "Newcomer", url="https://new.example/n")
    add_to_index([new], tmp_path / "ix", encoder=encoder)
    after = list(load_index(tmp_path / "ix").records)
    assert after[:len(before)] == before
    assert after[-1]["title"] == "Newcomer"
