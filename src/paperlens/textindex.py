"""Keyword index for large collections: Tantivy (BM25 with block-max WAND) kept in sync with the store.

SQLite FTS5 ranks every match of a query, which is fine for thousands of papers but takes seconds
for a common term at a million; Tantivy skips blocks that cannot reach the top k. The store stays
the source of truth: the index is derived from it incrementally and can be deleted at any time."""

from __future__ import annotations

import json
import random
import re
import threading
from pathlib import Path

from .store import Store

# bench/keyword_backends.py (docs/benchmarks.md): FTS5 ranks every match, so a common word took
# 17-104 ms at 20k papers and 130-590 ms at 100k; Tantivy took 0.1-7 ms after a first sync of 1-2 s.
# Small collections keep FTS5 alone: no second index to build or keep in step.
TANTIVY_THRESHOLD = 10_000
# Single-word queries on words in at least this share of abstracts are answered from results worked out
# at sync: ranking a posting list that holds nearly every paper costs tens of ms at a million papers,
# and block-max WAND cannot skip when every paper scores about the same.
HEAD_TERM_SHARE = 0.05
HEAD_TERM_DEPTH = 100  # results kept per head term; deeper queries are run as usual
HEAD_TERM_MIN_DOCS = 200_000  # below this a common word takes ~0.1 ms anyway; skip the work at open
_WORD = re.compile(r"[^\W_]+")
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
        self._head: dict[str, list[tuple[int, float]]] = {}  # head term -> its top results

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
            if added or not self._head:
                self._head = self._head_results()
            return added

    def _head_results(self, sample: int = 3000) -> dict[str, list[tuple[int, float]]]:
        """Top results of the words found in at least HEAD_TERM_SHARE of abstracts. Candidates come from
        a random sample of stored abstracts; Tantivy's document frequency decides."""
        searcher = self.index.searcher()
        total = searcher.num_docs
        top = self.store.conn.execute("SELECT max(rowid) FROM papers").fetchone()[0] or 0
        if total < HEAD_TERM_MIN_DOCS or not top:
            return {}
        rng = random.Random(0)
        rowids = sorted({rng.randint(1, top) for _ in range(sample)})
        counts: dict[str, int] = {}
        for start in range(0, len(rowids), 500):
            chunk = rowids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for (abstract,) in self.store.conn.execute(
                    f"SELECT json_extract(data, '$.abstract') FROM papers WHERE rowid IN ({marks})", chunk):
                for word in set(_WORD.findall((abstract or "").lower())):
                    counts[word] = counts.get(word, 0) + 1
        candidates = [w for w, n in counts.items() if n >= HEAD_TERM_SHARE * len(rowids) / 2]
        head = {}
        for word in candidates:
            if searcher.doc_freq("abstract", word) >= HEAD_TERM_SHARE * total:
                head[word] = self._search([word], HEAD_TERM_DEPTH, "and")
        return head

    def search(self, terms: list[str], limit: int, mode: str = "and") -> list[tuple[int, float]]:
        """(papers.rowid, score) for the query terms (already lower-cased words; never parsed)."""
        if not terms:
            return []
        unique = list(dict.fromkeys(terms))
        if len(unique) == 1 and limit <= HEAD_TERM_DEPTH:
            cached = self._head.get(unique[0])
            if cached is not None:
                return cached[:limit]
        return self._search(unique, limit, mode)

    def _search(self, terms: list[str], limit: int, mode: str) -> list[tuple[int, float]]:
        import tantivy

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
