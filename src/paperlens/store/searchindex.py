"""The bilingual keyword index: an FTS5 table in its own SQLite file beside the database.

It is derived (paperlens.search fills it from the papers as completed by their enrichments, with
Chinese pre-segmented) and may be deleted at any time. It lives in a file of its own because the web
server opens the database read-only; where no file can be written it lives in memory. Keys are the
rowids of `papers` in the database."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

FORMAT = "3"  # 2: documents in NFKC (search/document.index_text), so full-width ＬＬＭ is indexed as llm; 3: and
# traditional Chinese characters simplified


class KeywordIndexDB:
    def __init__(self, path: str | Path | None, fields: Sequence[str], weights: Sequence[float]):
        if len(fields) != len(weights):
            raise ValueError("one weight per field")
        self.fields, self.weights = tuple(fields), tuple(weights)
        self.path = str(path) if path else ":memory:"
        self.fallback = ""  # why the index is in memory ("" when it is in its file)
        self._lock = threading.Lock()
        signature = f"{FORMAT}:{','.join(self.fields)}"
        self.conn = self._open(signature)

    @classmethod
    def open(cls, path: str | Path, fields: Sequence[str], weights: Sequence[float]) -> KeywordIndexDB:
        """The index in `path`, or in memory when that file cannot be written (`fallback` says why)."""
        target = Path(path)
        writable = os.access(target, os.W_OK) if target.exists() else os.access(target.parent, os.W_OK)
        if not writable:
            db = cls(None, fields, weights)
            db.fallback = f"{target}: no write access"
            return db
        try:
            db = cls(path, fields, weights)
            db.fallback = ""
            return db
        except (sqlite3.Error, OSError) as exc:
            db = cls(None, fields, weights)
            db.fallback = f"{path}: {exc}"
            return db

    def _open(self, signature: str) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL" if self.path != ":memory:" else "PRAGMA journal_mode=MEMORY")
        conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        found = conn.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        if found is not None and found[0] != signature:  # another layout: start over
            conn.execute("DROP TABLE IF EXISTS docs_vocab")
            conn.execute("DROP TABLE IF EXISTS docs")
            conn.execute("DELETE FROM meta")
        columns = ", ".join(self.fields)
        conn.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS docs USING fts5({columns}, "
                     "tokenize = 'unicode61 remove_diacritics 2')")
        conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS docs_vocab USING fts5vocab(docs, row)")
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)", (signature,))
        conn.commit()
        return conn

    def close(self) -> None:
        with self._lock:
            self.conn.close()

    # -- state ------------------------------------------------------------------------------------
    def state(self) -> dict[str, str]:
        with self._lock:
            return dict(self.conn.execute("SELECT key, value FROM meta").fetchall())

    def replace(self, docs: list[tuple[int, Sequence[str]]], state: dict[str, str] | None = None) -> None:
        """Put in these papers' documents (replacing any older ones), and record `state` with them."""
        marks = ",".join("?" * (len(self.fields) + 1))
        with self._lock, self.conn:
            rowids = [rowid for rowid, _ in docs]
            for start in range(0, len(rowids), 500):
                chunk = rowids[start:start + 500]
                self.conn.execute(f"DELETE FROM docs WHERE rowid IN ({','.join('?' * len(chunk))})", chunk)
            self.conn.executemany(f"INSERT INTO docs (rowid, {', '.join(self.fields)}) VALUES ({marks})",
                                  [(rowid, *fields) for rowid, fields in docs])
            for key, value in (state or {}).items():
                self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def count(self) -> int:
        with self._lock:
            return int(self.conn.execute("SELECT count(*) FROM docs").fetchone()[0])

    # -- queries ----------------------------------------------------------------------------------
    def search(self, expression: str, limit: int) -> list[tuple[int, float]]:
        """(papers.rowid, score, higher is better) for an FTS5 expression of quoted terms only."""
        weights = ", ".join(str(w) for w in self.weights)
        with self._lock:
            rows = self.conn.execute(
                f"SELECT rowid, bm25(docs, {weights}) AS score FROM docs WHERE docs MATCH ? ORDER BY score LIMIT ?",
                (expression, limit)).fetchall()
        return [(rowid, -float(score)) for rowid, score in rows]

    def count_matches(self, expression: str, cap: int) -> int:
        """How many documents match, counted up to `cap`."""
        with self._lock:
            return int(self.conn.execute("SELECT count(*) FROM (SELECT 1 FROM docs WHERE docs MATCH ? LIMIT ?)",
                                         (expression, cap)).fetchone()[0])

    def doc_freq(self, terms: Sequence[str]) -> dict[str, int]:
        """Documents holding each term (absent terms are left out)."""
        terms = list(dict.fromkeys(terms))
        if not terms:
            return {}
        with self._lock:
            marks = ",".join("?" * len(terms))
            return dict(self.conn.execute(f"SELECT term, doc FROM docs_vocab WHERE term IN ({marks})", terms))

    def terms_between(self, low: str, high: str, limit: int = 5000) -> list[tuple[str, int]]:
        """(term, documents) for index terms with low <= term < high (a prefix range)."""
        with self._lock:
            return self.conn.execute("SELECT term, doc FROM docs_vocab WHERE term >= ? AND term < ? LIMIT ?",
                                     (low, high, limit)).fetchall()

    def texts(self, rowids: Sequence[int]) -> dict[int, tuple[str, ...]]:
        """The stored fields of these documents."""
        out: dict[int, tuple[str, ...]] = {}
        with self._lock:
            for start in range(0, len(rowids), 500):
                chunk = list(rowids[start:start + 500])
                marks = ",".join("?" * len(chunk))
                for row in self.conn.execute(
                        f"SELECT rowid, {', '.join(self.fields)} FROM docs WHERE rowid IN ({marks})", chunk):
                    out[row[0]] = tuple(row[1:])
        return out

    def size_bytes(self) -> int:
        if self.path == ":memory:":
            return 0
        base = Path(self.path)
        return sum(p.stat().st_size for p in (base, Path(f"{base}-wal")) if p.exists())
