import numpy as np

from paperlens.search.vectorindex import VectorIndex, batched


def _data(n=3000, dim=64, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(30, dim))
    x = centers[rng.integers(0, 30, n)] + 0.3 * rng.normal(size=(n, dim))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return np.arange(1, n + 1, dtype=np.int64), x.astype(np.float32)


def test_exact_index_finds_itself_first():
    keys, x = _data()
    index = VectorIndex(64)
    index.add_batches(batched(keys, x, 500))
    found, scores = index.search(x[10], 5)
    assert found[0] == keys[10] and abs(scores[0] - 1.0) < 1e-5
    assert list(scores) == sorted(scores, reverse=True)


def test_hnsw_recall_and_incremental_persistence(tmp_path):
    keys, x = _data()
    path = tmp_path / "v.usearch"
    index = VectorIndex(64, ann=True, path=path)
    assert index.add_batches(batched(keys[:2000], x[:2000])) == 2000
    index.save()
    reopened = VectorIndex(64, ann=True, path=path)
    # rows already indexed are skipped; only the new ones are added
    assert reopened.add_batches(batched(keys, x)) == 1000
    exact = VectorIndex(64)
    exact.add_batches(batched(keys, x))
    hits = 0
    for i in range(0, 3000, 30):
        a, _ = reopened.search(x[i], 10)
        b, _ = exact.search(x[i], 10)
        hits += len(set(a) & set(b))
    assert hits / (100 * 10) >= 0.95
