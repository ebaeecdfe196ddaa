"""Nearest-neighbour search over paper embeddings.

Exact (one matrix product) or an HNSW graph (usearch, half-precision vectors: about 900 bytes a paper
with the graph; int8 lost too much recall) built incrementally and saved beside the database. Which one
is measured, not set (`open_index`): below ANN_MIN vectors the exact scan always; above it the exact scan
is timed on a sample of the stored vectors and projected to the whole collection, and while that stays
within EXACT_BUDGET_MS it is kept (it is exact, and as fast as the bare matrix product); past it the
HNSW graph is built and kept only if its recall@10 against the exact answer (within RECALL_EPSILON of
the 10th best) on probe queries reaches MIN_RECALL (the search depth is doubled up to EF_MAX first), else the exact scan stays if it is within
EXACT_MAX_MS, or the graph answers at its best depth; either way with a warning.
The choice is saved beside the index and measured again when the collection has doubled.
PAPERLENS_VECTOR_INDEX=exact|hnsw overrides it. Keys are the rowids of the `embeddings` table, so the
index never holds paper ids in memory."""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

ANN_MIN = 20_000  # below this many vectors the exact scan always (well under a millisecond)
EXACT_BUDGET_MS = 5.0  # the vector goal (top-10 p95): the exact scan is kept while it stays within it
MIN_RECALL = 0.95  # an HNSW graph below this recall@10 (against the exact scan) is not used
# A graph's hit counts as found when its cosine is within RECALL_EPSILON of the exact 10th best (the
# "epsilon" recall of ann-benchmarks): among neighbours that close, which ones come back is a tie.
RECALL_EPSILON = 0.01
EF_START, EF_MAX = 64, 2048  # HNSW search depth: doubled from EF_START until MIN_RECALL is met (64 is
# usearch's default; 1M vectors of the old, nearly uniform bench data needed 512 for 0.96)
DEFAULT_EF = 512  # the depth of a graph opened without a measured choice (PAPERLENS_VECTOR_INDEX=hnsw)
# When no depth reaches MIN_RECALL the exact scan answers if it stays within this (the hybrid search
# goal); slower than that, the graph answers at its best depth, with a warning naming its recall.
EXACT_MAX_MS = 50.0
PROBE_QUERIES = 40  # stored vectors, moved away to PROBE_COSINE, used as queries when measuring
# Probe queries sit as far from a stored vector as a short query from its paper (ICLR 2026 titles from
# their own abstracts with the default embedder: median cosine 0.62), moved along the difference of two
# other stored vectors so that they stay among the data (real embeddings share a strong common direction:
# mean pairwise cosine 0.68 there), not off it; a copy of a stored vector would be easy for HNSW.
PROBE_COSINE = 0.6
PROBE_VECTORS = 50_000  # the exact scan is timed on this many vectors and projected linearly


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
    def __init__(self, dim: int, path: Path | None = None, ef: int = DEFAULT_EF):
        from usearch.index import Index

        self.dim = dim
        self.path = path
        # expansion_add 128 (usearch's default; 64 built a graph that needed twice the search depth for the
        # same recall on embedding-like vectors); the search depth is measured (open_index).
        self.index = Index(ndim=dim, metric="cos", dtype="f16", connectivity=16, expansion_add=128,
                           expansion_search=ef)
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

    def __init__(self, dim: int, *, ann: bool = False, path: Path | None = None, ef: int = DEFAULT_EF):
        self.dim = dim
        self.ann = ann
        self.path = path
        self.max_key = -1
        self.dirty = False  # vectors added since the last save
        self.choice: dict = {}  # how open_index chose this index (measured figures)
        self.meta_path = Path(f"{path}.json") if path else None
        if ann and self.meta_path and self.meta_path.exists():
            meta = json.loads(self.meta_path.read_text())
            if meta.get("dim") == dim:
                self.max_key = meta.get("max_key", -1)
            else:  # a different model: start over
                path.unlink(missing_ok=True)
        self.impl = HnswIndex(dim, path, ef) if ann else ExactIndex(dim)

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
        self.dirty = self.dirty or bool(added)
        return added

    def search(self, query: np.ndarray, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        return self.impl.search(_normalized(np.asarray(query, dtype=np.float32)[None, :])[0], k)

    def save(self) -> None:
        if self.ann and self.path is not None:
            self.impl.save()
            self.meta_path.write_text(json.dumps({"dim": self.dim, "max_key": self.max_key}))
            self.dirty = False


Batches = Callable[[], Iterable[tuple[np.ndarray, np.ndarray]]]


def open_index(dim: int, count: int, batches: Batches, path: Path | None) -> VectorIndex:
    """The index for a collection of `count` stored vectors (`batches()` yields them as (rowids, matrix)
    in rowid order), exact or HNSW as measured (module docstring); an HNSW index comes back filled."""
    forced = os.environ.get("PAPERLENS_VECTOR_INDEX", "auto").lower()
    if forced in ("exact", "hnsw"):
        return VectorIndex(dim, ann=forced == "hnsw" and path is not None, path=path)
    if count < ANN_MIN or path is None:
        return VectorIndex(dim)
    choice_path = Path(f"{path}.choice.json")
    try:
        saved = json.loads(choice_path.read_text())
    except (OSError, ValueError):
        saved = None
    if _usable_choice(saved, dim, count) and (not saved["ann"] or path.exists()):
        index = VectorIndex(dim, ann=saved["ann"], path=path, ef=saved.get("ef", DEFAULT_EF))
        index.choice = saved
        return index
    index, choice = _measured(dim, count, batches, path)
    index.choice = choice
    try:
        if index.ann:
            index.save()
        choice_path.write_text(json.dumps(choice))
    except (OSError, RuntimeError) as exc:  # a read-only directory: measured again next time
        warnings.warn(f"vector index choice beside {path} not saved ({exc})", stacklevel=2)
    return index


def _usable_choice(saved: object, dim: int, count: int) -> bool:
    """Whether a saved choice is of this shape and dimension, and the collection has not doubled since;
    a file of any other content (damaged, edited, another version's) is measured again."""
    if not isinstance(saved, dict) or saved.get("dim") != dim or not isinstance(saved.get("ann"), bool):
        return False
    measured, ef = saved.get("count"), saved.get("ef", DEFAULT_EF)
    return (isinstance(measured, int) and 0 < measured <= count < 2 * measured
            and isinstance(ef, int) and 0 < ef <= 10 * EF_MAX)


def _measured(dim: int, count: int, batches: Batches, path: Path) -> tuple[VectorIndex, dict]:
    rng = np.random.default_rng(0)
    sample_keys, sample = [], []
    for keys, vectors in batches():
        sample_keys.append(keys)
        sample.append(_normalized(vectors))
        if sum(len(k) for k in sample_keys) >= PROBE_VECTORS:
            break
    matrix = np.vstack(sample)
    queries = _probe_queries(matrix, rng)
    exact = ExactIndex(dim)
    exact.add(np.concatenate(sample_keys), matrix)
    exact.search(queries[0], 10)  # warm
    times = []
    for q in queries:
        start = time.perf_counter()
        exact.search(q, 10)
        times.append(time.perf_counter() - start)
    exact_ms = float(np.percentile(times, 95)) * 1000 * count / len(matrix)
    choice = {"dim": dim, "count": count, "exact_p95_ms_projected": round(exact_ms, 2),
              "budget_ms": EXACT_BUDGET_MS, "ann": False}
    del exact, matrix, sample
    if exact_ms <= EXACT_BUDGET_MS:
        return VectorIndex(dim), choice
    # The exact answers for the probe queries, streamed over the stored vectors (no second copy in memory).
    best_scores = np.full((len(queries), 10), -np.inf, dtype=np.float32)
    best_keys = np.zeros((len(queries), 10), dtype=np.int64)
    for keys, vectors in batches():
        scores = queries @ _normalized(vectors).T
        all_scores = np.hstack([best_scores, scores])
        all_keys = np.hstack([best_keys, np.broadcast_to(keys, scores.shape)])
        top = np.argpartition(-all_scores, 9, axis=1)[:, :10]
        best_scores, best_keys = np.take_along_axis(all_scores, top, 1), np.take_along_axis(all_keys, top, 1)
    truth = [set(row.tolist()) for row in best_keys]
    tenth = best_scores.min(axis=1)
    index = VectorIndex(dim, ann=True, path=path)
    index.add_batches(batches())
    ef, tried = EF_START, {}
    while True:
        index.impl.index.expansion_search = ef
        times, hits, exact_hits = [], 0, 0
        for q, want, floor in zip(queries, truth, tenth, strict=True):
            start = time.perf_counter()
            found, scores = index.search(q, 10)
            times.append(time.perf_counter() - start)
            exact_hits += len(want & set(found.tolist()))
            hits += min(10, int((scores >= floor - RECALL_EPSILON).sum()))
        tried[ef] = (hits / (10 * len(queries)), float(np.percentile(times, 95)) * 1000,
                     exact_hits / (10 * len(queries)))
        if tried[ef][0] >= MIN_RECALL or ef >= EF_MAX:
            break
        ef *= 2
    if tried[ef][0] < MIN_RECALL:  # the shallowest depth within a point of the best recall
        best = max(r for r, _, _ in tried.values())
        ef = min(depth for depth, (r, _, _) in tried.items() if r >= best - 0.01)
        index.impl.index.expansion_search = ef
    recall, p95, exact_recall = tried[ef]
    choice.update(ef=ef, hnsw_recall=round(recall, 4), hnsw_exact_set_recall=round(exact_recall, 4),
                  hnsw_p95_ms=round(p95, 2),
                  tried={str(depth): [round(r, 4), round(t, 2), round(x, 4)] for depth, (r, t, x) in tried.items()})
    if recall < MIN_RECALL and exact_ms <= EXACT_MAX_MS:
        warnings.warn(f"HNSW recall@10 {recall:.3f} < {MIN_RECALL} on these vectors even at search depth "
                      f"{EF_MAX}: the exact scan answers ({exact_ms:.1f} ms projected)", stacklevel=3)
        exact_index = VectorIndex(dim)
        exact_index.add_batches(batches())
        return exact_index, choice
    if recall < MIN_RECALL:
        warnings.warn(f"HNSW recall@10 {recall:.3f} < {MIN_RECALL} on these vectors at search depth {ef}, but the "
                      f"exact scan would take {exact_ms:.0f} ms (over {EXACT_MAX_MS:.0f}): the graph answers",
                      stacklevel=3)
    choice["ann"] = True
    return index, choice


def batched(keys: np.ndarray, vectors: np.ndarray, size: int = 10000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for start in range(0, len(keys), size):
        yield keys[start:start + size], vectors[start:start + size]


def _probe_queries(matrix: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """PROBE_QUERIES unit vectors, each at cosine PROBE_COSINE from a stored vector, moved along the
    difference of two other stored vectors (the step found by bisection)."""
    source, a, b = (matrix[rng.integers(0, len(matrix), PROBE_QUERIES)] for _ in range(3))
    step = a - b
    low, high = np.zeros(len(source)), np.full(len(source), 64.0)
    for _ in range(40):
        mid = (low + high) / 2
        moved = _normalized(source + mid[:, None] * step)
        too_close = (moved * source).sum(axis=1) > PROBE_COSINE
        low, high = np.where(too_close, mid, low), np.where(too_close, high, mid)
    return _normalized(source + high[:, None].astype(np.float32) * step)


def _normalized(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (cosine similarity), whatever model or tool stored them."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)
