"""Which encoder answers queries against an index: its own ONNX export when it has one.

Kept beside the encoders rather than in ``store``: the index directory only says what it holds
(the manifest's model, an ``encoder/`` folder); choosing and loading an encoder is the
embedding layer's business.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from recommender.embedding import (
    Encoder,
    HashingEncoder,
    OnnxEncoder,
    load_encoder,
    model_fingerprint,
    resolve_model,
)
from recommender.errors import RecommenderError

SLOW_START_NOTE = ("this index has no ONNX export of its model; encoding with "
                   "sentence-transformers (about 6 s to start). Rebuild to add one")


def onnx_folder(folder: Path) -> Path | None:
    """The ``encoder/`` folder of an index generation, if it holds an ONNX export."""
    encoder = folder / "encoder"
    return encoder if (encoder / "model.onnx").is_file() else None


def query_encoder(index_manifest: dict[str, Any], folder: Path, model: str | None = None,
                  where: str | None = None) -> tuple[Encoder, str | None]:
    """The encoder for queries against the index generation in ``folder``, and a note if it is
    the slow one.

    ``model`` (a name or folder) must be the model the index was built with; ``where`` names
    the index in that error (default: the folder's name).
    """
    built = index_manifest["model"]
    if model is not None:
        _, model_folder = resolve_model(model)
        asked = model_fingerprint(model_folder) if model_folder else HashingEncoder().identity[
            "fingerprint"]
        if asked != built["fingerprint"]:
            raise RecommenderError(
                f"the index at {where or folder.name} was built with model '{built['name']}', "
                f"not '{model}'", "--model",
                "Drop --model to use the index's own model, or rebuild with this one")
    if built["source"] == "hashing":
        return HashingEncoder(built["dim"]), None
    export = onnx_folder(folder)
    if export is not None:
        return OnnxEncoder(export), None
    source = built["source"]
    return load_encoder(None if source == "default" else source), SLOW_START_NOTE
