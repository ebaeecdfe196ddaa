"""A search process that finds nothing written since the keyword index last synced reads no paper (issue 19):
stamps have whole seconds, so before the store's write generation each process read again, segmented and
compared every paper of the last stamp's second (~3,000 after a bulk ingest, ~0.3 s a search). A write in
that same second, by any connection, is still picked up."""

from __future__ import annotations

import pytest

import paperlens.store.connection as store_module
from paperlens.core.models import Paper, SourceRef
from paperlens.search.hybrid import HybridSearcher
from paperlens.search.textindex import TantivyIndex
from paperlens.store import Store

STAMP = "2026-11-23T18:00:00Z"


def _papers(count: int, word: str = "walrus") -> list[Paper]:
    return [Paper(id=f"test:{i}", title=f"Paper {i} on {word} tusks", abstract=f"Abstract {i} about {word} haul-outs.",
                  sources=[SourceRef(source="test", path="t", line=i + 1)]) for i in range(count)]


@pytest.fixture
def one_second(monkeypatch):
    monkeypatch.setattr(store_module, "utcnow", lambda: STAMP)  # every write in one second


def _count_reads(store: Store, monkeypatch) -> list[int]:
    reads: list[int] = []
    real = store.iter_paper_rows

    def counting(rowids=None, batch=1000):
        for row in real(rowids, batch):
            reads.append(row[0])
            yield row

    monkeypatch.setattr(store, "iter_paper_rows", counting)
    return reads


def test_a_second_process_reads_no_paper_when_nothing_was_written(tmp_path, one_second, monkeypatch):
    db = tmp_path / "p.db"
    writer = Store(db)
    writer.ingest(_papers(50))
    assert TantivyIndex(writer).sync() == 50
    writer.close()

    reader = Store(db)  # as a new process: a new store and index object
    reads = _count_reads(reader, monkeypatch)
    index = TantivyIndex(reader)
    assert index.sync() == 0
    assert reads == []
    assert len(index.search(["walrus"], 100)) == 50


def test_a_write_in_the_same_second_is_still_indexed(tmp_path, one_second, monkeypatch):
    db = tmp_path / "p.db"
    writer = Store(db)
    writer.ingest(_papers(20))
    TantivyIndex(writer).sync()
    changed = _papers(1, word="narwhal")[0]
    changed.title = "Paper 0 on narwhal horns, longer"
    writer.ingest([changed])  # same stamp, same max rowid: only the write generation moved
    writer.save_enrichments([{"paper_id": "test:3", "step": "keywords", "version": "1",
                              "content_hash": writer.get("test:3").content_hash(), "status": "ok",
                              "output": {"keywords": ["beluga"]}}])
    reader = Store(db)
    index = TantivyIndex(reader)
    assert index.sync() >= 1
    assert [rowid for rowid, _ in index.search(["narwhal"], 10)] == [1]
    assert index.sync() == 0  # and then nothing again
    reads = _count_reads(reader, monkeypatch)
    assert TantivyIndex(reader).sync() == 0 and reads == []


def test_the_small_collection_keyword_index_reads_no_paper_when_nothing_was_written(tmp_path, one_second,
                                                                                  monkeypatch):
    monkeypatch.setenv("PAPERLENS_KEYWORD_INDEX", "fts5")  # the SQLite keyword index of small collections
    db = tmp_path / "p.db"
    writer = Store(db)
    writer.ingest(_papers(30))
    first = [h.id for h in HybridSearcher(writer).search("walrus", limit=50, mode="keyword")]
    assert len(first) == 30
    reader = Store(db)
    reads = _count_reads(reader, monkeypatch)
    again = [h.id for h in HybridSearcher(reader).search("walrus", limit=50, mode="keyword")]
    assert again == first and reads == []
    changed = _papers(1, word="narwhal")[0]
    writer.ingest([changed])
    found = [h.id for h in HybridSearcher(reader).search("narwhal", limit=50, mode="keyword")]
    assert found == ["test:0"] and reads  # the paper written in the same second was read and indexed
