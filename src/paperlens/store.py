"""The one module that owns SQLite: schema migrations, WAL, FTS5, ingest/merge, enrichment records."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .clean import slugify
from .merge import initial_provenance, merge_papers
from .models import Paper
from .sources.base import record_keys

DEFAULT_DB = "paperlens.db"

# Each migration runs once, in order, inside a transaction; never edit a shipped one, add a new one.
MIGRATIONS: list[tuple[int, str]] = [
    (1, """
    CREATE TABLE papers (
        rowid INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        data TEXT NOT NULL,
        provenance TEXT NOT NULL DEFAULT '{}',
        content_hash TEXT NOT NULL,
        title TEXT NOT NULL DEFAULT '',
        year INTEGER,
        date TEXT,
        language TEXT,
        venue TEXT,
        topic_area TEXT,
        topic_label TEXT,
        has_code INTEGER NOT NULL DEFAULT 0,
        added_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX papers_year ON papers(year);
    CREATE INDEX papers_topic ON papers(topic_area, topic_label);
    CREATE TABLE paper_keys (key TEXT PRIMARY KEY, paper_id TEXT NOT NULL) WITHOUT ROWID;
    CREATE INDEX paper_keys_paper ON paper_keys(paper_id);
    CREATE TABLE paper_authors (
        paper_id TEXT NOT NULL, position INTEGER NOT NULL, name TEXT NOT NULL, slug TEXT NOT NULL,
        PRIMARY KEY (paper_id, position)
    ) WITHOUT ROWID;
    CREATE INDEX paper_authors_slug ON paper_authors(slug);
    CREATE TABLE paper_keywords (
        paper_id TEXT NOT NULL, keyword TEXT NOT NULL, norm TEXT NOT NULL, origin TEXT NOT NULL,
        PRIMARY KEY (paper_id, norm, origin)
    ) WITHOUT ROWID;
    CREATE INDEX paper_keywords_norm ON paper_keywords(norm);
    CREATE VIRTUAL TABLE papers_fts USING fts5(
        title, abstract, keywords, authors, tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE TABLE enrichments (
        paper_id TEXT NOT NULL,
        step TEXT NOT NULL,
        version TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
        output TEXT,
        error TEXT,
        model TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (paper_id, step)
    ) WITHOUT ROWID;
    CREATE INDEX enrichments_step ON enrichments(step, status);
    CREATE TABLE embeddings (
        paper_id TEXT PRIMARY KEY, model TEXT NOT NULL, dim INTEGER NOT NULL, vector BLOB NOT NULL,
        content_hash TEXT NOT NULL
    );
    """),
]


def utcnow() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def keyword_norm(keyword: str) -> str:
    """Case- and plural-insensitive form used to match keywords."""
    words = keyword.lower().strip().split()
    if words and len(words[-1]) > 3 and words[-1].endswith("s") and not words[-1].endswith("ss"):
        words[-1] = words[-1][:-1]
    return " ".join(words)


@dataclass
class IngestResult:
    new: int = 0
    merged: int = 0
    unchanged: int = 0
    ids: list[str] = field(default_factory=list)

    def add(self, other: IngestResult) -> None:
        self.new += other.new
        self.merged += other.merged
        self.unchanged += other.unchanged


class Store:
    """A paperlens database. Thread-safe for readers; one writer at a time (SQLite's rule)."""

    def __init__(self, path: str | os.PathLike[str] = DEFAULT_DB, *, readonly: bool = False):
        self.path = str(path)
        self.readonly = readonly
        self._local = threading.local()
        if not readonly:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self.migrate()
        elif not Path(self.path).exists():
            raise FileNotFoundError(f"{self.path}: no such database (run `paperlens ingest` first)")

    # -- connection ----------------------------------------------------------------------------
    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self.readonly:
                conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            else:
                conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.row_factory = sqlite3.Row
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def transaction(self):
        return _Transaction(self.conn)

    def migrate(self) -> int:
        conn = self.conn
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)")
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        applied = 0
        for version, sql in MIGRATIONS:
            if version in done:
                continue
            with self.transaction():
                for statement in _statements(sql):
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (version, utcnow()))
            applied += 1
        return applied

    def schema_version(self) -> int:
        row = self.conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return row[0] or 0

    # -- ingest ----------------------------------------------------------------------------------
    def ingest(self, papers: Iterable[Paper], batch_size: int = 500,
               on_batch: Callable[[IngestResult], None] | None = None) -> IngestResult:
        """Store papers, merging each with what is already known of it. One transaction per batch:
        an interrupted ingest keeps whole batches only, and a rerun completes it."""
        total = IngestResult()
        batch: list[Paper] = []
        for paper in papers:
            batch.append(paper)
            if len(batch) >= batch_size:
                total.add(self._ingest_batch(batch, on_batch))
                batch = []
        if batch:
            total.add(self._ingest_batch(batch, on_batch))
        return total

    def _ingest_batch(self, batch: list[Paper], on_batch) -> IngestResult:
        result = IngestResult()
        now = utcnow()
        with self.transaction():
            for paper in batch:
                outcome, pid = self._ingest_one(paper, now)
                setattr(result, outcome, getattr(result, outcome) + 1)
                result.ids.append(pid)
        if on_batch:
            on_batch(result)
        return result

    def _find(self, keys: list[str]) -> str | None:
        if not keys:
            return None
        marks = ",".join("?" * len(keys))
        rows = self.conn.execute(f"SELECT key, paper_id FROM paper_keys WHERE key IN ({marks})", keys).fetchall()
        if not rows:
            return None
        found = {r["key"]: r["paper_id"] for r in rows}
        for key in keys:  # keys come strongest first
            if key in found:
                return found[key]
        return None

    def _ingest_one(self, paper: Paper, now: str) -> tuple[str, str]:
        keys = record_keys(paper)
        existing_id = self._find(keys)
        if existing_id is None:
            self._insert(paper, initial_provenance(paper), keys, now)
            return "new", paper.id
        row = self.conn.execute("SELECT rowid, data, provenance FROM papers WHERE id = ?", (existing_id,)).fetchone()
        old = Paper.model_validate_json(row["data"])
        provenance = json.loads(row["provenance"])
        merged = merge_papers(old, paper, provenance)
        if merged.model_dump() == old.model_dump():
            self._add_keys(keys, old.id)
            return "unchanged", old.id
        if merged.id != old.id:
            self._rekey(old.id, merged.id)
        self._write(row["rowid"], merged, provenance, now)
        self._add_keys(keys + record_keys(merged) + [old.id], merged.id)
        return "merged", merged.id

    def _insert(self, paper: Paper, provenance: dict[str, str], keys: list[str], now: str) -> None:
        cur = self.conn.execute(
            "INSERT INTO papers (id, data, provenance, content_hash, added_at, updated_at) VALUES (?,?,?,?,?,?)",
            (paper.id, "{}", "{}", "", now, now),
        )
        self._write(cur.lastrowid, paper, provenance, now, fresh=True)
        self._add_keys(keys, paper.id)

    def _write(self, rowid: int, paper: Paper, provenance: dict[str, str], now: str, fresh: bool = False) -> None:
        conn = self.conn
        conn.execute(
            """UPDATE papers SET id=?, data=?, provenance=?, content_hash=?, title=?, year=?, date=?, language=?,
               venue=?, topic_area=?, topic_label=?, has_code=?, updated_at=? WHERE rowid=?""",
            (paper.id, paper.model_dump_json(), json.dumps(provenance, ensure_ascii=False), paper.content_hash(),
             paper.title, paper.year, paper.date, paper.language, paper.venue,
             paper.topic.area if paper.topic else None, paper.topic.label if paper.topic else None,
             int(bool(paper.code_url or paper.extra.get("code_badge"))), now, rowid),
        )
        if not fresh:
            conn.execute("DELETE FROM paper_authors WHERE paper_id = ?", (paper.id,))
            conn.execute("DELETE FROM paper_keywords WHERE paper_id = ? AND origin = 'source'", (paper.id,))
            conn.execute("DELETE FROM papers_fts WHERE rowid = ?", (rowid,))
        conn.executemany(
            "INSERT INTO paper_authors VALUES (?,?,?,?)",
            [(paper.id, i, name, slugify(name)) for i, name in enumerate(paper.authors)],
        )
        conn.executemany(
            "INSERT OR IGNORE INTO paper_keywords VALUES (?,?,?, 'source')",
            [(paper.id, kw, keyword_norm(kw)) for kw in paper.keywords],
        )
        conn.execute(
            "INSERT INTO papers_fts (rowid, title, abstract, keywords, authors) VALUES (?,?,?,?,?)",
            (rowid, paper.title, paper.abstract, " ; ".join(paper.keywords), " ; ".join(paper.authors)),
        )

    def _add_keys(self, keys: Iterable[str], pid: str) -> None:
        self.conn.executemany("INSERT OR IGNORE INTO paper_keys VALUES (?, ?)", [(k, pid) for k in dict.fromkeys(keys)])

    def _rekey(self, old_id: str, new_id: str) -> None:
        conn = self.conn
        for table in ("paper_keys", "paper_authors", "paper_keywords", "enrichments", "embeddings"):
            conn.execute(f"UPDATE OR REPLACE {table} SET paper_id = ? WHERE paper_id = ?", (new_id, old_id))

    # -- reading ---------------------------------------------------------------------------------
    def resolve_id(self, pid: str) -> str | None:
        row = self.conn.execute("SELECT id FROM papers WHERE id = ?", (pid,)).fetchone()
        if row:
            return row[0]
        row = self.conn.execute("SELECT paper_id FROM paper_keys WHERE key = ?", (pid,)).fetchone()
        return row[0] if row else None

    def get(self, pid: str) -> Paper | None:
        real = self.resolve_id(pid)
        if real is None:
            return None
        row = self.conn.execute("SELECT data FROM papers WHERE id = ?", (real,)).fetchone()
        return Paper.model_validate_json(row[0]) if row else None

    def provenance(self, pid: str) -> dict[str, str]:
        row = self.conn.execute("SELECT provenance FROM papers WHERE id = ?", (pid,)).fetchone()
        return json.loads(row[0]) if row else {}

    def count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM papers").fetchone()[0]

    def iter_papers(self, where: str = "", params: tuple = (), batch: int = 1000) -> Iterator[Paper]:
        last = 0
        while True:
            rows = self.conn.execute(
                f"SELECT rowid, data FROM papers WHERE rowid > ? {('AND ' + where) if where else ''} "
                f"ORDER BY rowid LIMIT ?", (last, *params, batch),
            ).fetchall()
            if not rows:
                return
            for row in rows:
                yield Paper.model_validate_json(row["data"])
            last = rows[-1]["rowid"]

    def stats(self) -> dict[str, Any]:
        conn = self.conn
        by_source: dict[str, int] = {}
        for (data,) in conn.execute("SELECT data FROM papers"):
            for source in {s["source"] for s in json.loads(data).get("sources", [])}:
                by_source[source] = by_source.get(source, 0) + 1
        return {
            "papers": self.count(),
            "by_source": dict(sorted(by_source.items(), key=lambda kv: -kv[1])),
            "by_topic": {f"{a or '-'} / {t}": n for a, t, n in conn.execute(
                "SELECT topic_area, topic_label, count(*) FROM papers WHERE topic_label IS NOT NULL "
                "GROUP BY 1, 2 ORDER BY 3 DESC")},
            "by_year": {str(y): n for y, n in conn.execute(
                "SELECT year, count(*) FROM papers GROUP BY year ORDER BY year DESC")},
            "enrichments": {f"{s} ({st})": n for s, st, n in conn.execute(
                "SELECT step, status, count(*) FROM enrichments GROUP BY 1, 2 ORDER BY 1, 2")},
        }

    # -- enrichment records ---------------------------------------------------------------------
    def enrichment_done(self, step: str, version: str) -> dict[str, str]:
        """paper_id -> content_hash for papers this step version already processed successfully."""
        rows = self.conn.execute(
            "SELECT paper_id, content_hash FROM enrichments WHERE step = ? AND version = ? AND status = 'ok'",
            (step, version),
        )
        return {r[0]: r[1] for r in rows}

    def save_enrichments(self, rows: list[dict[str, Any]]) -> None:
        now = utcnow()
        with self.transaction():
            self.conn.executemany(
                """INSERT INTO enrichments (paper_id, step, version, content_hash, status, output, error, model, updated_at)
                   VALUES (:paper_id, :step, :version, :content_hash, :status, :output, :error, :model, :now)
                   ON CONFLICT(paper_id, step) DO UPDATE SET version=excluded.version,
                     content_hash=excluded.content_hash, status=excluded.status, output=excluded.output,
                     error=excluded.error, model=excluded.model, updated_at=excluded.updated_at""",
                [{**r, "output": None if r.get("output") is None else json.dumps(r["output"], ensure_ascii=False),
                  "error": r.get("error"), "model": r.get("model"), "now": now} for r in rows],
            )

    def enrichments_for(self, pid: str) -> dict[str, dict[str, Any]]:
        out = {}
        for row in self.conn.execute("SELECT * FROM enrichments WHERE paper_id = ?", (pid,)):
            item = dict(row)
            item["output"] = json.loads(item["output"]) if item["output"] else None
            out[row["step"]] = item
        return out

    # -- embeddings --------------------------------------------------------------------------------
    def save_embeddings(self, rows: Iterable[dict[str, Any]]) -> int:
        """rows: {paper_id, model, vector (1-D float array), content_hash}. One vector per paper: a new one
        (another model, or changed text) replaces the old."""
        import numpy as np

        values = []
        for row in rows:
            vector = np.asarray(row["vector"], dtype=np.float32).ravel()
            values.append((row["paper_id"], row["model"], int(vector.shape[0]), vector.tobytes(), row["content_hash"]))
        with self.transaction():
            self.conn.executemany(
                # REPLACE gives a changed vector a new rowid, so indexes that sync by rowid pick it up
                "INSERT OR REPLACE INTO embeddings (paper_id, model, dim, vector, content_hash) VALUES (?,?,?,?,?)",
                values)
        return len(values)

    def load_embeddings(self, model: str, ids: Iterable[str] | None = None):
        """(paper ids, float32 matrix with one row per id) for vectors made by `model`."""
        import numpy as np

        rows = self.conn.execute("SELECT paper_id, dim, vector FROM embeddings WHERE model = ? ORDER BY paper_id",
                                 (model,)).fetchall()
        if ids is not None:
            wanted = set(ids)
            rows = [r for r in rows if r["paper_id"] in wanted]
        if not rows:
            return [], np.zeros((0, 0), dtype=np.float32)
        matrix = np.stack([np.frombuffer(r["vector"], dtype=np.float32, count=r["dim"]) for r in rows])
        return [r["paper_id"] for r in rows], matrix

    def embedding_models(self) -> dict[str, int]:
        return {m: n for m, n in self.conn.execute("SELECT model, count(*) FROM embeddings GROUP BY model")}

    def integrity_check(self) -> str:
        return self.conn.execute("PRAGMA integrity_check").fetchone()[0]


class _Transaction:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.conn.execute("COMMIT")
        else:
            self.conn.execute("ROLLBACK")
        return False


def _statements(sql: str) -> list[str]:
    parts, current = [], []
    for line in sql.strip().splitlines():
        current.append(line)
        if line.rstrip().endswith(";"):
            parts.append("\n".join(current))
            current = []
    if "".join(current).strip():
        parts.append("\n".join(current))
    return parts
