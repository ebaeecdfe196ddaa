import json

import numpy as np
import pytest

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


# ---------------------------------------------------------------- exact or HNSW, as measured


def _opened(tmp_path, keys, x, **kw):
    from paperlens.search.vectorindex import open_index

    index = open_index(x.shape[1], len(keys), lambda: batched(keys, x, 700), tmp_path / "v.usearch")
    index.add_batches(batched(keys, x, 700))
    return index


def test_the_exact_scan_is_kept_while_it_is_fast_enough(tmp_path, monkeypatch):
    from paperlens.search import vectorindex

    keys, x = _data()
    assert not _opened(tmp_path, keys, x).ann  # below ANN_MIN: exact, nothing measured or written
    assert not list(tmp_path.iterdir())
    monkeypatch.setattr(vectorindex, "ANN_MIN", 0)
    index = _opened(tmp_path, keys, x)
    choice = json.loads((tmp_path / "v.usearch.choice.json").read_text())
    assert not index.ann and choice["ann"] is False and choice["count"] == 3000
    assert 0 < choice["exact_p95_ms_projected"] <= vectorindex.EXACT_BUDGET_MS

    def not_again(*args):
        raise AssertionError("measured again")

    monkeypatch.setattr(vectorindex, "_measured", not_again)
    assert not _opened(tmp_path, keys, x).ann  # the saved choice answers
    with pytest.raises(AssertionError, match="measured again"):  # until the collection has doubled
        _opened(tmp_path, np.arange(1, 6001), np.vstack([x, x]))


def reopened_ef(tmp_path):
    return json.loads((tmp_path / "v.usearch.choice.json").read_text())["ef"]


def test_hnsw_is_chosen_when_the_scan_is_too_slow_and_its_recall_holds(tmp_path, monkeypatch):
    pytest.importorskip("usearch")
    from paperlens.search import vectorindex

    monkeypatch.setattr(vectorindex, "ANN_MIN", 0)
    monkeypatch.setattr(vectorindex, "EXACT_BUDGET_MS", 0.0)
    keys, x = _data()
    index = _opened(tmp_path, keys, x)
    assert index.ann and index.choice["hnsw_recall"] >= 0.95 and index.choice["ef"] >= vectorindex.EF_START
    assert reopened_ef(tmp_path) == index.choice["ef"]
    assert (tmp_path / "v.usearch").exists() and not index.dirty  # saved filled
    found, _ = index.search(x[7], 3)
    assert found[0] == keys[7]
    reopened = _opened(tmp_path, keys, x)
    assert reopened.ann and len(reopened) == 3000


def test_hnsw_below_the_recall_floor_is_not_used(tmp_path, monkeypatch):
    pytest.importorskip("usearch")
    from paperlens.search import vectorindex

    monkeypatch.setattr(vectorindex, "ANN_MIN", 0)
    monkeypatch.setattr(vectorindex, "EXACT_BUDGET_MS", 0.0)
    monkeypatch.setattr(vectorindex, "MIN_RECALL", 1.01)  # no graph can reach it
    keys, x = _data()
    with pytest.warns(UserWarning, match="exact scan answers"):
        index = _opened(tmp_path, keys, x)
    assert not index.ann and len(index) == 3000
    assert set(index.choice["tried"]) == {"64", "128", "256", "512", "1024", "2048"}
    found, scores = index.search(x[5], 1)
    assert found[0] == keys[5] and abs(scores[0] - 1) < 1e-5
    # An exact scan past EXACT_MAX_MS is worse than a graph short of the recall floor: the graph answers.
    monkeypatch.setattr(vectorindex, "EXACT_MAX_MS", 0.0)
    (tmp_path / "v.usearch.choice.json").unlink()
    with pytest.warns(UserWarning, match="the graph answers"):
        graph = _opened(tmp_path, keys, x)
    assert graph.ann and graph.choice["hnsw_recall"] < 1.01


def test_the_choice_can_be_forced(tmp_path, monkeypatch):
    pytest.importorskip("usearch")
    keys, x = _data()
    monkeypatch.setenv("PAPERLENS_VECTOR_INDEX", "hnsw")
    assert _opened(tmp_path, keys, x).ann
    monkeypatch.setenv("PAPERLENS_VECTOR_INDEX", "exact")
    assert not _opened(tmp_path, keys, x).ann


def test_a_damaged_choice_file_is_measured_again(tmp_path, monkeypatch):
    from paperlens.search import vectorindex

    monkeypatch.setattr(vectorindex, "ANN_MIN", 0)
    keys, x = _data()
    for junk in ("{not json", "[1, 2]", '{"dim": 64, "count": "many", "ann": false}', '{"dim": 64, "count": 3000, "ann": true, "ef": "x"}', ""):
        (tmp_path / "v.usearch.choice.json").write_text(junk)
        index = _opened(tmp_path, keys, x)
        assert not index.ann and index.choice["count"] == 3000  # measured, not read
        assert json.loads((tmp_path / "v.usearch.choice.json").read_text())["count"] == 3000
