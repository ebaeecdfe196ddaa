"""The full-text index keeps no copy of the text: merges take old entries out exactly, and databases made
before migration 3 are converted with their search results intact."""

from __future__ import annotations

import paperlens.store.migrations as store_module
from paperlens.core.models import Paper, SourceRef
from paperlens.store import Store


def _paper(title: str, abstract: str) -> Paper:
    return Paper(id="arxiv:2401.00001", arxiv_id="2401.00001", title=title, abstract=abstract, abstract_raw=abstract,
                 authors=["Ada Lovelace"], sources=[SourceRef(source="test", path="t.jsonl", line=1)])


def _hits(store: Store, query: str) -> list[int]:
    return [r[0] for r in store.conn.execute("SELECT rowid FROM papers_fts WHERE papers_fts MATCH ?", (query,))]


def test_a_merge_replaces_the_index_entry(tmp_path):
    store = Store(tmp_path / "p.db")
    store.ingest([_paper("Walrus tusks", "We count walrus tusks in the Arctic sea.")])
    # the same arXiv id with a longer title: the merge keeps the richer title and re-indexes the paper
    store.ingest([_paper("Walrus tusks and narwhal horns revisited", "We count walrus tusks in the Arctic sea.")])
    assert store.count() == 1
    assert _hits(store, "narwhal") == [1]
    assert _hits(store, "walrus") == [1]
    assert store.conn.execute("SELECT title FROM papers_fts").fetchone()[0] is None  # no second copy
    assert store.integrity_check() == "ok"


def test_migration_3_converts_an_old_index(tmp_path, monkeypatch):
    db = tmp_path / "old.db"
    monkeypatch.setattr(store_module, "MIGRATIONS", store_module.MIGRATIONS[:2])
    old = Store(db)
    old.ingest([_paper("Penguin colonies", "Penguins huddle against the Antarctic wind.")])
    assert old.conn.execute("SELECT title FROM papers_fts").fetchone()[0] == "Penguin colonies"
    old.close()
    monkeypatch.undo()
    new = Store(db)
    assert new.schema_version() >= 3
    assert _hits(new, "huddle") == [1] and _hits(new, 'title:"penguin"') == [1]
    assert new.conn.execute("SELECT title FROM papers_fts").fetchone()[0] is None
    assert new.integrity_check() == "ok"
