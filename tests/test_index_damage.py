"""A damaged index says so, in one line naming the path the user gave, and `build` repairs it.

Every file of a generation x {truncated, emptied, one byte flipped in place, deleted}: suggest
fails with the damaged-index error (no traceback, no other error type), and a build into the
same index succeeds and gives exactly the suggestions of the undamaged index.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import story_archive
from typer.testing import CliRunner

from recommender import integrity
from recommender.build import build_index
from recommender.embedding import HashingEncoder
from recommender.errors import RecommenderError
from recommender.store import load_index, verify_index

runner = CliRunner()
FILES = ["manifest.json", "candidates.jsonl", "offsets.npy", "vectors.npy", "published.npy",
         "faiss.index", "bm25/data.csc.index.npy", "bm25/indices.csc.index.npy",
         "bm25/indptr.csc.index.npy", "bm25/vocab.index.json", "bm25/params.index.json"]


def cli(*args: object):
    return runner.invoke(_app(), [str(a) for a in args])


def _app():
    from recommender.cli import app

    return app


def damage(file: Path, how: str) -> None:
    data = file.read_bytes()
    if how == "truncate":
        file.write_bytes(data[: len(data) // 2])
    elif how == "zero":
        file.write_bytes(b"")
    elif how == "flip":  # in place: the same inode, as bit rot or a stray write would leave it
        with open(file, "r+b") as handle:
            handle.seek(len(data) // 2)
            handle.write(bytes([data[len(data) // 2] ^ 0x01]))
    else:
        file.unlink()


def error_pattern(index: Path) -> re.Pattern[str]:
    where = re.escape(str(index))
    return re.compile(rf"Error: the index at {where} is damaged \((?P<what>[^\n]+)\)\. "
                      rf"Rebuild it: recommender build <archive> --index {where}\n")


@pytest.fixture(scope="module")
def indexed_once(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    folder = tmp_path_factory.mktemp("damage")
    archive = story_archive(folder / "archive")
    index = folder / "built" / "ix"
    assert cli("build", archive, "--index", index, "--model", "hashing").exit_code == 0
    answer = cli("suggest", archive / "a1.md", "--index", index, "-f", "json", "-k", "4")
    assert answer.exit_code == 0, answer.output
    return archive, index, answer.stdout


@pytest.fixture
def indexed(indexed_once: tuple[Path, Path, str], tmp_path: Path) -> tuple[Path, Path, str]:
    """(the archive, a private copy of its index to damage, the undamaged index's answer).

    The archive is shared and only read; the index is a link to a generation folder beside
    it, so the folder holding both is copied.
    """
    archive, index, answer = indexed_once
    shutil.copytree(index.parent, tmp_path / "copy", symlinks=True)
    return archive, tmp_path / "copy" / index.name, answer


@pytest.mark.campaign
@pytest.mark.parametrize("how", ["truncate", "zero", "flip", "delete"])
@pytest.mark.parametrize("name", FILES)
def test_damaged_file_is_reported_and_build_repairs_it(indexed, name: str, how: str) -> None:
    archive, index, answer = indexed
    generation = Path(os.path.realpath(index))
    damage(generation / name, how)

    failed = cli("suggest", archive / "a1.md", "--index", index, "-f", "json", "-k", "4")
    assert failed.exit_code == 1 and failed.stdout == ""
    match = error_pattern(index).fullmatch(failed.stderr)
    assert match, failed.stderr
    assert name in match["what"] and ".ix@" not in failed.stderr
    assert isinstance(failed.exception, SystemExit)  # not a traceback, nor click's "Aborted!"

    rebuilt = cli("build", archive, "--index", index, "--model", "hashing")
    assert rebuilt.exit_code == 0, rebuilt.output
    again = cli("suggest", archive / "a1.md", "--index", index, "-f", "json", "-k", "4")
    assert again.exit_code == 0, again.output
    assert again.stdout == answer
    verify_index(index)  # every byte of the repaired generation is what it records


def test_manifest_records_every_file_with_its_size_and_sha256(built) -> None:
    manifest = json.loads((built.folder / "manifest.json").read_text())
    expected = {}
    for file in sorted(built.folder.rglob("*")):
        name = file.relative_to(built.folder).as_posix()
        if file.is_file() and name != "manifest.json" and not file.name.startswith("."):
            data = file.read_bytes()
            expected[name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    assert manifest["checksums"] == expected
    assert set(expected) == {"candidates.jsonl", "offsets.npy", "vectors.npy", "published.npy",
                             "faiss.index", *(f"bm25/{n}" for n in (
                                 "data.csc.index.npy", "indices.csc.index.npy",
                                 "indptr.csc.index.npy", "vocab.index.json",
                                 "params.index.json"))}
    assert manifest["content_hash"] == expected["candidates.jsonl"]["sha256"]


def _rewrite_manifest(index: Path, change) -> None:
    path = Path(os.path.realpath(index)) / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    manifest["manifest_sha256"] = integrity.manifest_digest(manifest)  # a consistent lie
    path.write_text(json.dumps(manifest))


@pytest.mark.parametrize(("change", "what"), [
    (lambda m: m.pop("model"), "manifest.json has no valid 'model'"),
    (lambda m: m.pop("vector_index"), "manifest.json has no valid 'vector_index'"),
    (lambda m: m["model"].pop("fingerprint"), "manifest.json has no 'fingerprint'"),
    (lambda m: m.update(content_hash="0" * 64),
     "content_hash differs from the SHA-256 of candidates.jsonl"),
    (lambda m: m.update(count=6), "vectors.npy holds (7, 256) float32, not (6, 256) float32"),
    (lambda m: m["checksums"].pop("faiss.index"), "manifest.json records no faiss.index"),
])
def test_manifest_without_what_a_load_needs_is_damage(indexed, change, what: str) -> None:
    _, index, _ = indexed
    _rewrite_manifest(index, change)
    with pytest.raises(RecommenderError) as caught:
        load_index(index)
    assert caught.value.what == f"the index at {index} is damaged ({what})"


def test_edited_manifest_is_detected_by_its_own_digest(indexed) -> None:
    _, index, _ = indexed
    path = Path(os.path.realpath(index)) / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["model"]["name"] = "another-model"  # valid JSON, plausible, wrong
    path.write_text(json.dumps(manifest))
    with pytest.raises(RecommenderError, match=r"damaged \(manifest.json does not match its "
                                               r"recorded SHA-256\)"):
        load_index(index)


def test_rows_that_disagree_are_damage_even_with_matching_checksums(indexed) -> None:
    _, index, _ = indexed
    folder = Path(os.path.realpath(index))
    np.save(folder / "published.npy", np.zeros(5))
    _rewrite_manifest(index, lambda m: m["checksums"].update(
        {"published.npy": integrity.file_digest(folder / "published.npy")}))
    with pytest.raises(RecommenderError, match=r"damaged \(published.npy holds 5 rows, not 7\)"):
        load_index(index)


def test_unreadable_array_with_matching_checksums_is_damage(indexed) -> None:
    """Even a file the manifest vouches for cannot escape as an EOFError ("Aborted!")."""
    _, index, _ = indexed
    folder = Path(os.path.realpath(index))
    (folder / "vectors.npy").write_bytes(b"")
    _rewrite_manifest(index, lambda m: m["checksums"].update(
        {"vectors.npy": integrity.file_digest(folder / "vectors.npy")}))
    failed = cli("suggest", "--title", "drones", "--index", index)
    assert failed.exit_code == 1 and isinstance(failed.exception, SystemExit)
    assert error_pattern(index).fullmatch(failed.stderr)["what"] == \
        "EOFError: No data left in file"


def test_changes_after_a_check_are_hashed_again(indexed, monkeypatch) -> None:
    _, index, _ = indexed
    monkeypatch.setattr(integrity, "STAMP_MARGIN_NS", 0)
    time.sleep(0.05)  # past the coarse timestamp tick of the build's writes
    load_index(index).close()  # hashes, stamps
    hashed: list[Path] = []
    real = integrity.file_digest
    monkeypatch.setattr(integrity, "file_digest", lambda p: hashed.append(p) or real(p))
    load_index(index).close()
    assert hashed == []  # nothing changed since the stamp: sizes and inodes only
    time.sleep(0.05)
    damage(Path(os.path.realpath(index)) / "vectors.npy", "flip")
    with pytest.raises(RecommenderError, match=r"damaged \(vectors.npy does not match"):
        load_index(index)
    assert [p.name for p in hashed] == ["vectors.npy"]


def test_full_check_ignores_the_stamp(indexed, monkeypatch) -> None:
    _, index, _ = indexed
    folder = Path(os.path.realpath(index))
    monkeypatch.setattr(integrity, "STAMP_MARGIN_NS", 0)
    time.sleep(0.05)
    load_index(index).close()
    damage(folder / "faiss.index", "flip")
    # Bit rot that no timestamp shows: the stamp still describes the file as checked.
    stamp = json.loads((folder / integrity.STAMP).read_text())
    stat = (folder / "faiss.index").stat()
    stamp["files"]["faiss.index"] = [stat.st_ino, stat.st_size, stat.st_mtime_ns,
                                     stat.st_ctime_ns]
    stamp["at_ns"] = time.time_ns()
    (folder / integrity.STAMP).write_text(json.dumps(stamp))
    load_index(index).close()
    with pytest.raises(RecommenderError, match=r"damaged \(faiss.index does not match"):
        verify_index(index, full=True)


class CountingEncoder(HashingEncoder):
    def __init__(self) -> None:
        super().__init__()
        self.encoded = 0

    def encode(self, texts, batch_size=64, progress=None):
        self.encoded += len(texts)
        return super().encode(texts, batch_size, progress)


@pytest.mark.parametrize(("name", "encoded"), [("bm25/vocab.index.json", 0),
                                                ("faiss.index", 0),
                                                ("vectors.npy", 7),
                                                ("candidates.jsonl", 7)])
def test_rebuild_of_damaged_index_reuses_only_verified_vectors(tmp_path, name: str,
                                                               encoded: int) -> None:
    archive = story_archive(tmp_path / "archive")
    build_index([archive], tmp_path / "ix", encoder=HashingEncoder())
    damage(Path(os.path.realpath(tmp_path / "ix")) / name, "flip")
    counting = CountingEncoder()
    result = build_index([archive], tmp_path / "ix", encoder=counting)
    assert (result.encoded, counting.encoded) == (encoded, encoded)
    verify_index(tmp_path / "ix")


def test_generations_and_indexes_share_no_inodes(tmp_path) -> None:
    archive = story_archive(tmp_path / "archive")
    for _ in range(2):
        build_index([archive], tmp_path / "a", encoder=HashingEncoder())
    build_index([archive], tmp_path / "b", encoder=HashingEncoder())
    inodes = [file.stat().st_ino for file in tmp_path.glob(".[ab]@*/**/*") if file.is_file()]
    assert len(inodes) >= 3 * 11 and len(set(inodes)) == len(inodes)
    # Damage to the current generation leaves the kept previous one intact.
    current = Path(os.path.realpath(tmp_path / "a"))
    previous = next(p for p in tmp_path.glob(".a@*") if p != current)
    damage(current / "vectors.npy", "truncate")
    assert integrity.check_hashes(previous, json.loads(
        (previous / "manifest.json").read_text())["checksums"], full=True) is None


def test_missing_generation_behind_the_link_is_damage(indexed) -> None:
    _, index, _ = indexed
    shutil.rmtree(os.path.realpath(index))
    with pytest.raises(RecommenderError) as caught:
        load_index(index)
    assert caught.value.what == f"the index at {index} is damaged (its current generation is " \
                                "missing)"


def test_model_mismatch_names_the_given_path(built) -> None:
    with pytest.raises(RecommenderError) as caught:
        built.query_encoder("default")
    assert caught.value.what.startswith(f"the index at {built.path} was built with model")


def test_leftover_partial_generations_are_removed_by_the_next_build(tmp_path) -> None:
    archive = story_archive(tmp_path / "archive")
    build_index([archive], tmp_path / "ix", encoder=HashingEncoder())
    leftover = tmp_path / ".ix@20260101T000000-999999-000000.partial"
    (leftover / "bm25").mkdir(parents=True)
    (leftover / "vectors.npy").write_bytes(b"half")
    build_index([archive], tmp_path / "ix", encoder=HashingEncoder())
    assert not leftover.exists()
    assert len(list(tmp_path.glob(".ix@*"))) == 2


def test_leftover_export_partials_of_dead_runs_are_removed(tmp_path, monkeypatch) -> None:
    from recommender import embedding, onnx_export

    def fake_export(encoder, folder: Path) -> None:
        folder.mkdir(parents=True)
        for name in onnx_export.ONNX_FILES:
            (folder / name).write_text(name)

    monkeypatch.setattr(onnx_export, "export_onnx", fake_export)
    monkeypatch.setenv("RECOMMENDER_CACHE", str(tmp_path / "cache"))
    model = embedding.SentenceTransformerEncoder(embedding.default_model_path())
    done = subprocess.run([sys.executable, "-c", "pass"], check=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert done.returncode == 0
    onnx = tmp_path / "cache" / "onnx"
    gone = onnx / f".{model.identity['fingerprint']}.partial-{dead.pid}"
    alive = onnx / f".{model.identity['fingerprint']}.partial-{os.getppid()}"
    for folder in (gone, alive):
        folder.mkdir(parents=True)
        (folder / "model.onnx.data").write_bytes(b"x" * 1000)
    folder = onnx_export.cached_export(model)
    assert not gone.exists() and alive.exists()  # another run may still be writing that one
    assert json.loads((folder / onnx_export.CHECKSUMS).read_text())["encoder.json"] == {
        "bytes": len("encoder.json"),
        "sha256": hashlib.sha256(b"encoder.json").hexdigest()}
