"""The index on disk as a reader sees it: rows read back, leases, and the errors it names."""

from __future__ import annotations

import fcntl
import json
from pathlib import Path

import pytest

from recommender.articles import Article
from recommender.errors import RecommenderError
from recommender.integrity import Damage
from recommender.pool import Candidate
from recommender.store import (
    LEASE,
    _describe,
    load_index,
    new_generation,
    record_candidate,
    verify_index,
)


def test_a_minimal_row_reads_back_with_empty_defaults() -> None:
    # A stub row as the oldest indexes wrote it: only what every row must have.
    record = {"id": "https://a.example/x", "title": "X", "kind": "stub"}
    assert record_candidate(record) == Candidate(
        Article(id="https://a.example/x", title="X", excerpt="", published=None, url=None,
                provider=None, domain=None, topics=(), quality=None, images=(), amp_urls=(),
                aliases=(), path=None),
        False, frozenset())


def test_a_full_row_reads_back_field_by_field() -> None:
    record = {"id": "https://a.example/x", "aliases": ["https://amp.a.example/x"],
              "kind": "file", "path": "feed/x.md", "mentioned_by": ["https://b.example/y"],
              "topics": ["AI", "Chips"], "title": "X", "excerpt": "An excerpt.",
              "publishedDateTime": "2026-01-02T03:04:05Z", "webUrl": "https://a.example/x?s=1",
              "ampWebUrl": "https://amp.a.example/x",
              "provider": {"name": "A", "domain": "a.example"}, "quality": 80}
    candidate = record_candidate(record)
    article = candidate.article
    assert candidate.is_file and candidate.mentioned_by == frozenset({"https://b.example/y"})
    assert (article.excerpt, article.topics, article.aliases, article.path) == (
        "An excerpt.", ("AI", "Chips"), ("https://amp.a.example/x",), "feed/x.md")
    assert (article.provider, article.domain, article.quality) == ("A", "a.example", 80)
    assert article.amp_urls == (("ampWebUrl", "https://amp.a.example/x"),)
    assert article.published is not None and article.published.isoformat() == (
        "2026-01-02T03:04:05+00:00")


def _lease_is_free(folder: Path) -> bool:
    # flock locks belong to an open file: a second open in this process conflicts like
    # another process would.
    with open(folder / LEASE, "ab") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


def test_an_open_index_holds_its_lease_until_closed(built) -> None:
    folder = built.folder
    assert built.lease is not None and not _lease_is_free(folder)
    built.close()
    assert built.lease is None and _lease_is_free(folder)
    built.close()  # a second close is harmless
    assert _lease_is_free(folder)


def test_the_query_encoder_is_loaded_once_unless_another_model_is_named(built) -> None:
    first = built.query_encoder()
    assert built.query_encoder() is first
    other = built.query_encoder("hashing")
    assert other is not first and other[0].identity == first[0].identity


def test_an_index_of_another_format_version_says_to_rebuild(built, tmp_path: Path) -> None:
    path = tmp_path / "indexes" / "default"
    manifest = json.loads((built.folder / "manifest.json").read_text())
    manifest["version"] = 7
    (built.folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(RecommenderError) as caught:
        load_index(path)
    assert str(caught.value) == (
        f"index format 7 is not version 2, {path}. "
        f"Rebuild it: recommender build <archive> --index {path}")


def test_a_missing_index_says_how_to_build_one(tmp_path: Path) -> None:
    with pytest.raises(RecommenderError) as caught:
        load_index(tmp_path / "nothing")
    assert str(caught.value) == (
        f"no index at {tmp_path / 'nothing'}. Build one first: recommender build "
        f"<archive folder> --index {tmp_path / 'nothing'}")


def test_verify_index_hashes_every_byte_by_default(built, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Bit rot that no timestamp shows (the stamp still vouches for the file) is found by
    ``verify_index`` as called, not only with ``full=True``, and missed by a plain load."""
    import os
    import time

    from recommender import integrity

    path = tmp_path / "indexes" / "default"
    folder = built.folder
    built.close()
    monkeypatch.setattr(integrity, "STAMP_MARGIN_NS", 0)
    time.sleep(0.05)
    load_index(path).close()
    target = folder / "published.npy"
    with open(target, "r+b") as handle:
        handle.seek(-1, os.SEEK_END)
        last = handle.read(1)
        handle.seek(-1, os.SEEK_END)
        handle.write(bytes([last[0] ^ 0x01]))
    stamp = json.loads((folder / integrity.STAMP).read_text())
    stat = target.stat()
    stamp["files"]["published.npy"] = [stat.st_ino, stat.st_size, stat.st_mtime_ns,
                                       stat.st_ctime_ns]
    stamp["at_ns"] = time.time_ns()
    (folder / integrity.STAMP).write_text(json.dumps(stamp))
    load_index(path).close()
    with pytest.raises(RecommenderError, match=r"damaged \(published.npy does not match"):
        verify_index(path)


def test_failures_are_described_in_one_short_phrase() -> None:
    assert _describe(Damage("vectors.npy is short")) == "vectors.npy is short"
    assert _describe(FileNotFoundError(2, "No such file or directory", "/ix/g/faiss.index")) == (
        "faiss.index: No such file or directory")
    without_reason = OSError()
    without_reason.filename = "/ix/g/offsets.npy"
    assert _describe(without_reason) == "offsets.npy: OSError"
    assert _describe(ValueError("cannot reshape")) == "ValueError: cannot reshape"
    assert _describe(KeyError()) == "KeyError"


def test_a_generation_from_before_leases_is_removed_by_the_next_build(tmp_path: Path) -> None:
    """Old generations without a lease file were never leased: a new one replaces them."""
    path = tmp_path / "ix"
    for _ in range(3):
        with new_generation(path) as folder:
            (folder / "manifest.json").write_text("{}")
            if (folder / LEASE).exists():
                (folder / LEASE).unlink()
        if _ == 0:
            first = path.resolve()
    generations = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".ix@"))
    # The current generation and the one before it stay (a reader may have just opened it).
    assert len(generations) == 2 and first.name not in generations
    assert path.resolve().name in generations


def test_a_generation_a_reader_holds_outlives_rebuilds_until_it_is_closed(
        built, archive: Path, tmp_path: Path, encoder) -> None:
    from recommender.build import build_index

    path = tmp_path / "indexes" / "default"
    held = built.folder
    for _ in range(2):
        build_index([archive], path, encoder=encoder)
    assert held.is_dir() and len(built.records) == 7  # still readable (6 files, 1 stub)
    built.close()
    build_index([archive], path, encoder=encoder)
    assert not held.exists()
