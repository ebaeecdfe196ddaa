"""Keyword index for large collections: Tantivy (BM25 with block-max WAND) kept in sync with the store.

SQLite FTS5 ranks every match of a query, which is fine for thousands of papers but takes seconds
for a common term at a million; Tantivy skips blocks that cannot reach the top k. The store stays
the source of truth: the index is derived from it incrementally and can be deleted at any time."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from .store import Store

TANTIVY_THRESHOLD = 200_000
_FIELDS = (("title", 3.0), ("keywords", 2.0), ("authors", 1.5), ("abstract", 1.0))


def _schema():
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("rowid", stored=True, indexed=True, fast=True)
    for name, _boost in _FIELDS:
        builder.add_text_field(name, stored=False)
    return builder.build()


class TantivyIndex:
    """Tantivy index in `<db>.tantivy/`, with a sidecar recording how far it has synced."""

    def __init__(self, store: Store, directory: Path | None = None):
        import tantivy

        self.store = store
        self.directory = directory or Path(f"{store.path}.tantivy")
        self.directory.mkdir(parents=True, exist_ok=True)
        self.schema = _schema()
        self.index = tantivy.Index(self.schema, path=str(self.directory))
        self.meta_path = self.directory / "paperlens-sync.json"
        self._lock = threading.Lock()

    def _synced_until(self) -> str:
        if self.meta_path.exists():
            return json.loads(self.meta_path.read_text()).get("updated_at", "")
        return ""

    def sync(self, batch: int = 20000) -> int:
        """Add papers changed since the last sync (updated ones replace their old document)."""
        import tantivy

        with self._lock:
            since = self._synced_until()
            fresh = since == ""
            writer = self.index.writer(heap_size=200_000_000, num_threads=2)
            added, last_seen = 0, since
            last_rowid = -1
            while True:
                rows = self.store.conn.execute(
                    "SELECT rowid, title, json_extract(data, '$.abstract'), json_extract(data, '$.keywords'), "
                    "json_extract(data, '$.authors'), updated_at FROM papers "
                    "WHERE updated_at >= ? AND rowid > ? ORDER BY rowid LIMIT ?", (since, last_rowid, batch),
                ).fetchall()
                if not rows:
                    break
                for rowid, title, abstract, keywords, authors, updated_at in rows:
                    if not fresh:
                        writer.delete_documents_by_term("rowid", rowid)
                    writer.add_document(tantivy.Document(
                        rowid=rowid, title=title or "", abstract=abstract or "",
                        keywords=" ; ".join(json.loads(keywords or "[]")),
                        authors=" ; ".join(json.loads(authors or "[]"))))
                    last_seen = max(last_seen, updated_at)
                    added += 1
                last_rowid = rows[-1][0]
            writer.commit()
            writer.wait_merging_threads()
            self.index.reload()
            self.meta_path.write_text(json.dumps({"updated_at": last_seen}))
            return added

    def search(self, terms: list[str], limit: int, mode: str = "and") -> list[tuple[int, float]]:
        """(papers.rowid, score) for the query terms (already lower-cased words; never parsed)."""
        import tantivy

        if not terms:
            return []
        per_term = []
        for term in dict.fromkeys(terms):
            fields = [(tantivy.Occur.Should, tantivy.Query.boost_query(
                tantivy.Query.term_query(self.schema, name, term), boost)) for name, boost in _FIELDS]
            per_term.append(tantivy.Query.boolean_query(fields))
        occur = tantivy.Occur.Must if mode == "and" else tantivy.Occur.Should
        query = tantivy.Query.boolean_query([(occur, q) for q in per_term])
        searcher = self.index.searcher()
        result = searcher.search(query, limit, count=False)
        return [(searcher.doc(address)["rowid"][0], float(score)) for score, address in result.hits]
