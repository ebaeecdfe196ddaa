"""The web server's searcher builds indexes in background threads: a query never waits for a long
build, answers from what is ready meanwhile, and uses the new index once it is in place."""

from __future__ import annotations

import threading
from datetime import date

import numpy as np
import pytest

import paperlens.search.hybrid as hybrid_module
from paperlens.ingest.pipeline import ingest_paths
from paperlens.search.hybrid import HybridSearcher
from paperlens.store import Store

from .conftest import sample

QUERY = "lightweight substitute for self-attention in well-trained LLMs"


@pytest.fixture
def seeded(tmp_path):
    store = Store(tmp_path / "seeded.db")
    ingest_paths(store, [sample("000"), sample("002")], as_of=date(2026, 11, 23))
    yield store
    store.close()


def test_keyword_search_answers_from_fts5_while_the_first_keyword_index_syncs(seeded, monkeypatch):
    monkeypatch.setenv("PAPERLENS_KEYWORD_INDEX", "tantivy")
    release, started = threading.Event(), threading.Event()
    real_sync = hybrid_module.TantivyIndex.sync

    def slow_sync(self, *args, **kwargs):  # a first sync of a million papers takes about a minute
        started.set()
        assert release.wait(30)
        return real_sync(self, *args, **kwargs)

    monkeypatch.setattr(hybrid_module.TantivyIndex, "sync", slow_sync)
    monkeypatch.setattr(hybrid_module, "BACKGROUND_WAIT_S", 0.05)
    searcher = HybridSearcher(seeded, background=True)
    hits = searcher.search(QUERY, mode="keyword", limit=3)
    assert started.is_set() and searcher.text_index() is None  # FTS5 answered
    assert hits and "LiSA" in seeded.get(hits[0].id).abstract
    release.set()
    for _ in range(300):
        if "text" not in searcher._building:
            break
        threading.Event().wait(0.05)
    searcher._text_checked = 0.0
    assert searcher.text_index() is not None  # the synced index is now in use
    again = searcher.search(QUERY, mode="keyword", limit=3)
    assert again[0].id == hits[0].id


def test_a_quick_build_is_waited_for_so_small_collections_see_it_at_once(seeded, monkeypatch):
    monkeypatch.setenv("PAPERLENS_KEYWORD_INDEX", "tantivy")
    searcher = HybridSearcher(seeded, background=True)
    searcher.search(QUERY, mode="keyword", limit=3)
    assert searcher._text_index is not None


def test_semantic_side_waits_for_nothing_and_similar_falls_back_to_words_meanwhile(seeded, monkeypatch):
    ids = [r[0] for r in seeded.conn.execute("SELECT id FROM papers ORDER BY rowid")]
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(len(ids), 8)).astype(np.float32)
    with seeded.transaction():
        seeded.conn.executemany("INSERT INTO embeddings VALUES (?, 'test-model', 8, ?, '')",
                                [(pid, v.tobytes()) for pid, v in zip(ids, vectors, strict=True)])
    release = threading.Event()
    real_add = hybrid_module.VectorIndex.add_batches

    def slow_add(self, *args, **kwargs):
        assert release.wait(30)
        return real_add(self, *args, **kwargs)

    monkeypatch.setattr(hybrid_module.VectorIndex, "add_batches", slow_add)
    monkeypatch.setattr(hybrid_module, "BACKGROUND_WAIT_S", 0.05)
    searcher = HybridSearcher(seeded, background=True)
    assert searcher.vector_index("test-model", 8) is None  # building, not waited for
    found = searcher.similar(ids[0], k=3)
    assert found and all("cosine" not in item["why"] for item in found)  # by shared words meanwhile
    release.set()
    for _ in range(300):
        if not searcher._building:
            break
        threading.Event().wait(0.05)
    searcher._vectors_checked.clear()
    index = searcher.vector_index("test-model", 8)
    assert index is not None and len(index) == len(ids)
    assert searcher.similar(ids[0], k=3)[0]["similarity"] > 0
