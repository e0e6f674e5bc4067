"""The ONNX export of a sentence-transformers model, and the cache that keeps one per model.

``export_onnx`` needs torch (about 8-10 s with the model load); ``cached_export`` makes it once
per model on a machine and keeps it in ``export_cache()``, so later builds into any index start
from the export and never import torch. ``embedding.OnnxEncoder`` runs the result.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from recommender.embedding import SentenceTransformerEncoder, model_dimension
from recommender.errors import RecommenderError
from recommender.integrity import file_digest

ONNX_FILES = ("model.onnx", "model.onnx.data", "tokenizer.json", "encoder.json")
CHECKSUMS = "checksums.json"
"""In a cached export: size and SHA-256 of each file, checked whenever an index copies it."""


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
        "dim": model_dimension(model),
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


def export_checksums(folder: Path) -> dict[str, dict[str, Any]]:
    """The sizes and SHA-256 a cached export recorded when it was made ({} if none)."""
    try:
        recorded = json.loads((folder / CHECKSUMS).read_text())
    except (OSError, ValueError):
        return {}
    return recorded if isinstance(recorded, dict) else {}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _remove_dead_partials(folder: Path) -> None:
    """Half-made exports (up to 300 MB each) of runs that were killed: their pid is gone."""
    for partial in folder.glob(".*.partial-*"):
        pid = partial.name.rpartition("-")[2]
        if pid.isdigit() and not _pid_alive(int(pid)):
            shutil.rmtree(partial, ignore_errors=True)


def cached_export(encoder: SentenceTransformerEncoder, *, discard: bool = False) -> Path:
    """The ONNX export of ``encoder``'s model, made once per model and kept in ``export_cache()``.

    A new index then starts from the export without importing torch (about 7 s saved per
    build). ``discard`` throws away a cached export found damaged and makes it again. Raises
    ``OSError`` if the cache cannot be written (callers export into the index instead) and
    whatever ``export_onnx`` raises.
    """
    cache = export_cache()
    if cache is None:
        raise OSError("the export cache is off (RECOMMENDER_CACHE=off)")
    folder = cache / "onnx" / encoder.identity["fingerprint"]
    if discard:
        shutil.rmtree(folder, ignore_errors=True)
    if folder.parent.is_dir():
        _remove_dead_partials(folder.parent)
    if _is_cached(folder):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = folder.with_name(f".{folder.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        export_onnx(encoder, partial)
        recorded = {name: file_digest(partial / name) for name in ONNX_FILES}
        (partial / CHECKSUMS).write_text(json.dumps(recorded, indent=2) + "\n")
        if folder.is_dir() and not _is_cached(folder):
            shutil.rmtree(folder)  # damaged by hand, or made before checksums: replace it
        partial.rename(folder)  # atomic: other builds see all of the export or none of it
    except OSError:
        if not _is_cached(folder):
            raise
        # Another build finished the same export first: use that one.
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return folder


def _is_cached(folder: Path) -> bool:
    return is_complete_export(folder) and (folder / CHECKSUMS).is_file()
