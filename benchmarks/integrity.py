"""What checking an index costs: loads, full checks, cold suggests and rebuilds by size.

    python benchmarks/integrity.py --sizes 1000 10000 20000 [--export DIR] [--out FILE]

Each size gets a synthetic archive (``synthetic.write_archive``) indexed with the hashing
encoder at 384 dimensions (the default model's width, so the files have the sizes a real
index has, without an hour of encoding). Timed: a rebuild of the unchanged archive (median of
3; it copies and hash-checks vectors, FAISS and BM25 files), ``load_index`` right after a
build (every file hashed), ``load_index`` once the files are stamped as checked (sizes and
inodes only), ``verify_index(full=True)`` (every byte), and the whole ``recommender suggest``
process (median of 5). ``--export`` times copying and hashing an ONNX export folder, which a
build with the real model adds (the hashing encoder has none). Runs against whichever
``recommender`` is importable, so the same command measures an older checkout for comparison
(the steps it lacks are skipped).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import write_archive


def _timed(step: Any) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def measure(n: int, work: Path) -> dict[str, Any]:
    from recommender import store
    from recommender.build import build_index
    from recommender.embedding import HashingEncoder

    archive = work / f"archive-{n}"
    files = write_archive(archive, n, seed=0)
    index = work / f"ix-{n}"
    encoder = HashingEncoder(384)
    result: dict[str, Any] = {"articles": n}
    result["build_s"] = _timed(lambda: build_index([archive], index, encoder=encoder))
    result["rebuild_s"] = statistics.median(
        _timed(lambda: build_index([archive], index, encoder=encoder)) for _ in range(3))
    result["first_load_s"] = _timed(lambda: store.load_index(index))
    if hasattr(store, "verify_index"):
        time.sleep(2.5)  # past the stamp margin: the next load stamps every file as checked
        store.load_index(index).close()
        result["stamped_load_s"] = statistics.median(
            _timed(lambda: store.load_index(index).close()) for _ in range(5))
        result["full_check_s"] = _timed(lambda: store.verify_index(index, full=True))
    command = [sys.executable, "-m", "recommender", "suggest", str(files[0]), "--index",
               str(index), "-k", "5"]
    subprocess.run(command, check=True, capture_output=True)
    result["cold_suggest_s"] = statistics.median(
        _timed(lambda: subprocess.run(command, check=True, capture_output=True))
        for _ in range(5))
    result["index_mb"] = sum(f.stat().st_size for f in Path(index).resolve().rglob("*")
                             if f.is_file()) / 1e6
    return result


def measure_export(folder: Path, work: Path) -> dict[str, Any]:
    from recommender.integrity import copy_verified, file_digest

    names = ["model.onnx", "model.onnx.data", "tokenizer.json", "encoder.json"]
    recorded = {name: file_digest(folder / name) for name in names}
    target = work / "export-copy"

    def copy() -> None:
        for name in names:
            copy_verified(folder / name, target / name, recorded[name])

    return {"export_mb": sum(r["bytes"] for r in recorded.values()) / 1e6,
            "copy_and_check_s": _timed(copy),
            "hash_s": _timed(lambda: [file_digest(target / name) for name in names])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 20000])
    parser.add_argument("--export", type=Path, help="An ONNX export folder to time copying.")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results: dict[str, Any] = {"sizes": []}
    with tempfile.TemporaryDirectory() as work:
        for n in args.sizes:
            results["sizes"].append(measure(n, Path(work)))
            print(json.dumps(results["sizes"][-1]), flush=True)
        if args.export:
            results["export"] = measure_export(args.export, Path(work))
            print(json.dumps(results["export"]), flush=True)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
