"""Nearest-neighbour search over paper embeddings.

Exact (one matrix product) up to search/hybrid.py's ANN_THRESHOLD vectors; above it an HNSW graph (usearch, half-precision
vectors: about 900 bytes a paper with the graph;
int8 lost too much recall) built incrementally and saved beside the database. Keys are the
rowids of the `embeddings` table, so the index never holds paper ids in memory."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np


class ExactIndex:
    def __init__(self, dim: int):
        self.dim = dim
        self.keys = np.zeros(0, dtype=np.int64)
        self.matrix = np.zeros((0, dim), dtype=np.float32)
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []

    def __len__(self) -> int:
        return len(self.keys) + sum(len(k) for k, _ in self._pending)

    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        self._pending.append((np.asarray(keys, dtype=np.int64), np.asarray(vectors, dtype=np.float32)))

    def _flush(self) -> None:
        if self._pending:
            self.keys = np.concatenate([self.keys, *(k for k, _ in self._pending)])
            self.matrix = np.vstack([self.matrix, *(v for _, v in self._pending)])
            self._pending = []

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        self._flush()
        if not len(self.keys):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        scores = self.matrix @ np.asarray(query, dtype=np.float32)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return self.keys[top], scores[top]


class HnswIndex:
    def __init__(self, dim: int, path: Path | None = None):
        from usearch.index import Index

        self.dim = dim
        self.path = path
        # expansion_search 512: recall@10 0.96 at 1M synthetic vectors, p95 3.6 ms (96 gave 0.86-0.88).
        self.index = Index(ndim=dim, metric="cos", dtype="f16", connectivity=16, expansion_add=64,
                           expansion_search=512)
        if path is not None and path.exists():
            self.index.load(str(path))

    def __len__(self) -> int:
        return len(self.index)

    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        self.index.add(np.asarray(keys, dtype=np.uint64), np.asarray(vectors, dtype=np.float32), threads=0)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if not len(self.index):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        found = self.index.search(np.asarray(query, dtype=np.float32), k)
        return found.keys.astype(np.int64), (1.0 - found.distances).astype(np.float32)

    def save(self) -> None:
        if self.path is not None:
            self.index.save(str(self.path))


class VectorIndex:
    """Search by cosine similarity; `rows` are (rowid, vector) batches in rowid order."""

    def __init__(self, dim: int, *, ann: bool = False, path: Path | None = None):
        self.dim = dim
        self.ann = ann
        self.path = path
        self.max_key = -1
        self.meta_path = Path(f"{path}.json") if path else None
        if ann and self.meta_path and self.meta_path.exists():
            meta = json.loads(self.meta_path.read_text())
            if meta.get("dim") == dim:
                self.max_key = meta.get("max_key", -1)
            else:  # a different model: start over
                path.unlink(missing_ok=True)
        self.impl = HnswIndex(dim, path) if ann else ExactIndex(dim)

    def __len__(self) -> int:
        return len(self.impl)

    def add_batches(self, rows: Iterable[tuple[np.ndarray, np.ndarray]]) -> int:
        added = 0
        for keys, vectors in rows:
            keep = keys > self.max_key
            if not keep.any():
                continue
            self.impl.add(keys[keep], _normalized(vectors[keep]))
            self.max_key = int(keys[keep].max())
            added += int(keep.sum())
        return added

    def search(self, query: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        return self.impl.search(_normalized(np.asarray(query, dtype=np.float32)[None, :])[0], k)

    def save(self) -> None:
        if self.ann and self.path is not None:
            self.impl.save()
            self.meta_path.write_text(json.dumps({"dim": self.dim, "max_key": self.max_key}))


def batched(keys: np.ndarray, vectors: np.ndarray, size: int = 10000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for start in range(0, len(keys), size):
        yield keys[start:start + size], vectors[start:start + size]


def _normalized(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (cosine similarity), whatever model or tool stored them."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
