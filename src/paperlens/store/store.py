"""The one module that owns SQLite: schema migrations, WAL, FTS5, ingest/merge, enrichment records."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from paperlens.core.clean import slugify
from paperlens.core.ids import EMPTY_HASH_ID, paper_id, parse_any_id, record_keys, record_origin
from paperlens.core.merge import (
    SAME_RECORD,
    Decision,
    decide,
    distinct_records,
    initial_provenance,
    merge_papers,
    ref_key,
    source_label,
    split_id,
)
from paperlens.core.models import Paper, SourceRef
from paperlens.core.words import keyword_norm  # one norm for store, keyword model and web (re-exported)

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
        paper_id TEXT NOT NULL, norm TEXT NOT NULL, origin TEXT NOT NULL, keyword TEXT NOT NULL,
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
    (2, """
    CREATE TABLE llm_cache (
        key TEXT PRIMARY KEY,
        paper_id TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        prompt_version TEXT NOT NULL,
        model TEXT NOT NULL,
        lang TEXT NOT NULL,
        response TEXT NOT NULL,
        requests INTEGER NOT NULL DEFAULT 0,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        cost REAL NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX llm_cache_paper ON llm_cache(paper_id);
    CREATE TABLE llm_usage (
        id INTEGER PRIMARY KEY,
        paper_id TEXT,
        model TEXT NOT NULL,
        lang TEXT,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        input_tokens INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        cost REAL NOT NULL DEFAULT 0,
        at TEXT NOT NULL
    );
    """),
    # The full-text index keeps no second copy of title, abstract, keywords and authors (they are in
    # papers.data already): a third less to write on ingest and a smaller file. Snippets are made in Python.
    (3, """
    CREATE VIRTUAL TABLE papers_fts_contentless USING fts5(
        title, abstract, keywords, authors, content = '', tokenize = 'unicode61 remove_diacritics 2'
    );
    INSERT INTO papers_fts_contentless (rowid, title, abstract, keywords, authors)
        SELECT rowid, title, abstract, keywords, authors FROM papers_fts;
    DROP TABLE papers_fts;
    ALTER TABLE papers_fts_contentless RENAME TO papers_fts;
    """),
    # Readers ask "did anything change?" with max(updated_at); without an index that scans the table
    # (11 s at a million papers, cold).
    (4, """
    CREATE INDEX papers_updated ON papers(updated_at);
    CREATE INDEX enrichments_updated ON enrichments(updated_at);
    """),
    # Papers that older versions merged wrongly and the stored data cannot split (the records' own
    # fields are not kept): each lists its source records; ingesting those files again stores them as
    # papers of their own, and once every one was read again the merged paper is removed. The Python
    # step (MIGRATION_STEPS) fills it. See docs/sources.md, "Merging".
    (5, """
    CREATE TABLE merge_suspects (
        id INTEGER PRIMARY KEY,
        paper_id TEXT NOT NULL,
        reason TEXT NOT NULL,
        sources TEXT NOT NULL,
        reread TEXT NOT NULL DEFAULT '{}',
        flagged_at TEXT NOT NULL,
        resolved_at TEXT
    );
    CREATE UNIQUE INDEX merge_suspects_open ON merge_suspects(paper_id) WHERE resolved_at IS NULL;
    """),
]


# Python steps run right after a migration's SQL, in its transaction: version -> Store method name.
MIGRATION_STEPS: dict[int, str] = {5: "flag_suspect_merges"}


def utcnow() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")




class PreparedPaper(NamedTuple):
    """A paper as the rows the store writes for it, made by `prepare` (pure: no database). Parsing and
    preparing can run in another process; only these tuples of strings cross over (a pydantic model
    pickles many times slower)."""

    id: str
    keys: tuple[str, ...]  # every key it could be found under, strongest first
    row: tuple  # the papers columns from data to has_code (see _PAPER_COLUMNS)
    authors: tuple[tuple[str, str], ...]  # (name, slug) in order
    keywords: tuple[tuple[str, str], ...]  # (keyword, norm)
    fts: tuple[str, str, str, str]  # title, abstract, keywords, authors
    paper: Paper | None = None  # kept when prepared in this process; else rebuilt from row[0] if needed


_PAPER_COLUMNS = ("data", "provenance", "content_hash", "title", "year", "date", "language", "venue",
                  "topic_area", "topic_label", "has_code")


def prepare(paper: Paper, keep_paper: bool = True) -> PreparedPaper:
    return PreparedPaper(
        id=paper.id,
        keys=tuple(dict.fromkeys(record_keys(paper))),
        row=_row(paper, initial_provenance(paper)),
        authors=tuple((name, slugify(name)) for name in paper.authors),
        keywords=tuple((kw, keyword_norm(kw)) for kw in paper.keywords),
        fts=_fts_text(paper),
        paper=paper if keep_paper else None,
    )


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


class DatabaseNotWritable(sqlite3.OperationalError):
    """A command that writes met a read-only file, directory or disk, or a full disk (message: one sentence)."""


def readonly_uri(path: str | os.PathLike[str]) -> str:
    """The SQLite URI that opens `path` read-only (`mode=ro`). `immutable=1` is added only when no writer
    can exist: no -wal file beside it and a directory this process cannot write (a read-only mount or
    directory), where a WAL database could not be opened otherwise (its -shm file cannot be created).
    An immutable database is read without locks and never re-checked for changes."""
    target = Path(path).absolute()
    uri = target.as_uri() + "?mode=ro"
    wal = target.with_name(target.name + "-wal")
    if target.exists() and not wal.exists() and not os.access(target.parent, os.W_OK):
        uri += "&immutable=1"
    return uri


def db_error_message(exc: BaseException, path: str | os.PathLike[str]) -> str | None:
    """One sentence for the SQLite errors a user can act on (read-only, full disk, cannot open, not a
    database); None for any other error."""
    text = str(exc).lower()
    if "readonly database" in text or "read-only" in text:
        return (f"{path}: the database is read-only (its file, directory or disk cannot be written); "
                "this command writes, so it needs write access")
    if "disk is full" in text or "disk i/o error" in text:
        return f"{path}: the disk is full or failing, so nothing more could be written (nothing half-written is kept)"
    if "unable to open database file" in text:
        return (f"{path}: cannot open the database for writing (is its directory read-only? SQLite needs to "
                "create the -wal and -shm files beside it)")
    if "file is not a database" in text:
        return f"{path}: this file is not a SQLite database"
    return None


class Store:
    """A paperlens database. Thread-safe for readers; one writer at a time (SQLite's rule)."""

    def __init__(self, path: str | os.PathLike[str] = DEFAULT_DB, *, readonly: bool = False):
        self.path = str(path)
        self.readonly = readonly
        self._local = threading.local()
        self._watch: sqlite3.Connection | None = None  # only reads PRAGMA data_version (see data_signature)
        self._watch_lock = threading.Lock()
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
                # Never a write, never a journal_mode switch: a read-only file, directory or disk serves.
                conn = sqlite3.connect(readonly_uri(self.path), uri=True, check_same_thread=False)
            else:
                conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
                try:
                    conn.execute("PRAGMA journal_mode=WAL")
                except sqlite3.OperationalError as exc:
                    conn.close()
                    raise DatabaseNotWritable(db_error_message(exc, self.path) or str(exc)) from exc
                conn.execute("PRAGMA synchronous=NORMAL")
                # Bigger page cache for the key index and FTS merges during large ingests (bounded: 64 MiB).
                conn.execute("PRAGMA cache_size=-65536")
                conn.execute("PRAGMA temp_store=MEMORY")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.row_factory = sqlite3.Row
            self._local.conn = conn
        return conn

    def close_thread(self) -> None:
        """Close this thread's connection only: a short-lived thread that read (a catalog build, an index
        sync) calls it before it ends, else its connection (and file descriptors) would outlive it."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        with self._watch_lock:
            if self._watch is not None:
                self._watch.close()
                self._watch = None

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
                step = MIGRATION_STEPS.get(version)
                if step is not None:  # data the SQL cannot fix, in the same transaction
                    getattr(self, step)()
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
        return self.ingest_prepared((prepare(paper) for paper in papers), batch_size, on_batch)

    def ingest_prepared(self, items: Iterable[PreparedPaper], batch_size: int = 500,
                        on_batch: Callable[[IngestResult], None] | None = None) -> IngestResult:
        """`ingest` for papers already turned into rows by `prepare` (possibly in another process)."""
        total = IngestResult()
        batch: list[PreparedPaper] = []
        self._load_suspects()
        try:
            with self._bulk_writing():
                for item in items:
                    batch.append(item)
                    if len(batch) >= batch_size:
                        total.add(self._ingest_batch(batch, on_batch))
                        batch = []
                if batch:
                    total.add(self._ingest_batch(batch, on_batch))
        finally:
            self._local.suspect_refs = self._local.skip_ids = self._local.reread = None
        return total

    @contextmanager
    def _bulk_writing(self):
        """While ingesting: a bigger page cache (the key and author indexes take random inserts) and
        fewer, larger WAL checkpoints. Both grow only as used, and go back to normal after."""
        conn = self.conn
        cache, checkpoint = (conn.execute(f"PRAGMA {name}").fetchone()[0] for name in ("cache_size", "wal_autocheckpoint"))
        conn.execute("PRAGMA cache_size=-262144")  # 256 MiB
        conn.execute("PRAGMA wal_autocheckpoint=10000")  # pages: about 40 MiB of WAL
        try:
            yield
        finally:
            conn.execute(f"PRAGMA cache_size={int(cache)}")
            conn.execute(f"PRAGMA wal_autocheckpoint={int(checkpoint)}")

    def _ingest_batch(self, batch: list[PreparedPaper], on_batch) -> IngestResult:
        """Papers none of whose keys is known yet are inserted together (a few executemany calls per
        batch); a paper that matches a stored one, or one earlier in the batch, goes through the
        one-at-a-time merge, after the pending inserts are written so it can find them."""
        result = IngestResult()
        now = utcnow()
        with self.transaction():
            known = self._existing_keys({key for item in batch for key in item.keys})
            self._local.written_keys = known
            pending: list[PreparedPaper] = []
            try:
                for item in batch:
                    if any(key in known for key in item.keys):
                        self._insert_many(pending, now)
                        pending = []
                        paper = item.paper or _load(item.row[0])
                        outcome, pid = self._ingest_one(paper, now, list(item.keys))
                    else:
                        pending.append(item)
                        known.update(item.keys)
                        outcome, pid = "new", item.id
                    setattr(result, outcome, getattr(result, outcome) + 1)
                    result.ids.append(pid)
                    if self._local.suspect_refs:  # only while some suspect merge waits for its records
                        self._note_reread(self._local.suspect_refs, item, pid)
                self._insert_many(pending, now)
                if self._local.reread:
                    self._settle_suspects(now)
            finally:
                self._local.written_keys = None
        if on_batch:
            on_batch(result)
        return result

    def _existing_keys(self, keys: set[str]) -> set[str]:
        found: set[str] = set()
        ordered = list(keys)
        for i in range(0, len(ordered), 500):
            chunk = ordered[i:i + 500]
            marks = ",".join("?" * len(chunk))
            found.update(r[0] for r in self.conn.execute(f"SELECT key FROM paper_keys WHERE key IN ({marks})", chunk))
        return found

    def _insert_many(self, pending: list[PreparedPaper], now: str) -> None:
        """Insert new papers (none matches anything stored) with explicit rowids, so their FTS rows,
        authors, keywords and keys go in with one executemany each."""
        if not pending:
            return
        conn = self.conn
        first = conn.execute("SELECT coalesce(max(rowid), 0) + 1 FROM papers").fetchone()[0]
        papers, authors, keywords, fts, keys = [], [], [], [], []
        for rowid, item in enumerate(pending, start=first):
            pid = item.id
            papers.append((rowid, pid, *item.row, now, now))
            authors.extend((pid, i, name, slug) for i, (name, slug) in enumerate(item.authors))
            keywords.extend((pid, kw, norm) for kw, norm in item.keywords)
            fts.append((rowid, *item.fts))
            keys.extend((key, pid) for key in item.keys)
        conn.executemany(
            "INSERT INTO papers (rowid, id, data, provenance, content_hash, title, year, date, language, venue, "
            "topic_area, topic_label, has_code, updated_at, added_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            papers,
        )
        conn.executemany("INSERT INTO paper_authors VALUES (?,?,?,?)", authors)
        conn.executemany("INSERT OR IGNORE INTO paper_keywords VALUES (?,?,?, 'source')", keywords)
        conn.executemany("INSERT INTO papers_fts (rowid, title, abstract, keywords, authors) VALUES (?,?,?,?,?)", fts)
        conn.executemany("INSERT OR IGNORE INTO paper_keys VALUES (?, ?)", keys)

    def _candidates(self, keys: list[str]) -> tuple[list[tuple[str, list[str]]], dict[str, str]]:
        """Stored papers any of `keys` finds, each with the keys that found it, in the order of their
        strongest key (keys come strongest first); and the key -> paper map."""
        if not keys:
            return [], {}
        found: dict[str, str] = {}
        for chunk in _chunks(list(dict.fromkeys(keys)), 500):
            marks = ",".join("?" * len(chunk))
            found.update(self.conn.execute(f"SELECT key, paper_id FROM paper_keys WHERE key IN ({marks})", chunk))
        by_paper: dict[str, list[str]] = {}
        for key in keys:
            if key in found:
                by_paper.setdefault(found[key], []).append(key)
        return list(by_paper.items()), found

    def _ingest_one(self, paper: Paper, now: str, keys: list[str] | None = None) -> tuple[str, str]:
        """The slow path: a record one of whose keys is known. It merges into the first paper it found
        that passes merge.decide (conflicting ids, or a title alone without year and author, never
        merge); else it is stored as a paper of its own, with a note of what it was kept apart from."""
        keys = list(record_keys(paper) if keys is None else keys)
        split = split_id(paper)
        candidates, found = self._candidates([split, *keys])
        refused: list[tuple[str, Decision]] = []
        skip = getattr(self._local, "skip_ids", None) or ()
        for existing_id, matched in candidates:
            if existing_id in skip:  # a suspect merge being split (see flag_suspect_merges)
                continue
            row = self.conn.execute("SELECT rowid, data, provenance FROM papers WHERE id = ?",
                                    (existing_id,)).fetchone()
            if row is None:
                continue
            old = _load(row["data"])
            matched = [k for k in matched if k != split] or matched
            decision = decide(old, paper, matched)
            if decision.rule == SAME_RECORD and distinct_records(old) > 1:
                # read again, one of several: does it still belong there by today's rules?
                check = decide(old, paper, matched, same_record=False)
                if not check.merge:
                    self._flag_suspect(old, f"{source_label(paper)} read again does not belong: {check.rule}")
                    self._note_ref(existing_id, paper, None)
                    refused.append((existing_id, check))
                    continue
            if not decision.merge:
                refused.append((existing_id, decision))
                continue
            return self._merge_into(row, old, paper, keys, decision, now)
        if paper.id in found or split in found:  # its natural id belongs to a paper it was kept apart from
            paper = paper.model_copy(update={"id": split})
            keys = [split, *keys]
        provenance = initial_provenance(paper)
        if refused:
            provenance["kept_apart"] = [{"from": pid, "rule": d.rule, "matched": list(d.matched)}
                                        for pid, d in refused]
        self._insert(paper, provenance, keys, now)
        return "new", paper.id

    def _merge_into(self, row, old: Paper, paper: Paper, keys: list[str], decision: Decision,
                    now: str) -> tuple[str, str]:
        provenance = json.loads(row["provenance"])
        merged = merge_papers(old, paper, provenance)
        if merged.id != old.id:
            holder = self.conn.execute("SELECT paper_id FROM paper_keys WHERE key = ?", (merged.id,)).fetchone()
            if holder is not None and holder[0] != old.id:  # that id is another paper's: keep this one's
                merged.id = old.id
        if merged.model_dump(exclude={"sources"}) == old.model_dump(exclude={"sources"}):
            if merged.sources != old.sources:  # another copy adds nothing: it is cited, the paper is unchanged
                _explain_merge(provenance, paper, decision)
                self.conn.execute("UPDATE papers SET data = ?, provenance = ? WHERE rowid = ?",
                                  (_data_json(merged), _provenance_json(provenance), row["rowid"]))
            self._add_keys(keys, old.id)
            return "unchanged", old.id
        if merged.id != old.id:
            self._rekey(old.id, merged.id)
        _explain_merge(provenance, paper, decision)
        self._write(row["rowid"], merged, provenance, now, old=old)
        # keys an other paper holds stay its own (INSERT OR IGNORE)
        self._add_keys(keys + record_keys(merged) + [old.id], merged.id)
        return "merged", merged.id

    def _insert(self, paper: Paper, provenance: dict[str, str], keys: list[str], now: str) -> None:
        cur = self.conn.execute(
            "INSERT INTO papers (id, data, provenance, content_hash, added_at, updated_at) VALUES (?,?,?,?,?,?)",
            (paper.id, "{}", "{}", "", now, now),
        )
        self._write(cur.lastrowid, paper, provenance, now, fresh=True)
        self._add_keys(keys, paper.id)

    def _write(self, rowid: int, paper: Paper, provenance: dict[str, str], now: str, fresh: bool = False,
               old: Paper | None = None) -> None:
        """Write `paper` over row `rowid`; `old` is what the row held (its FTS entry is taken out)."""
        conn = self.conn
        conn.execute(
            """UPDATE papers SET id=?, data=?, provenance=?, content_hash=?, title=?, year=?, date=?, language=?,
               venue=?, topic_area=?, topic_label=?, has_code=?, updated_at=? WHERE rowid=?""",
            (paper.id, *_row(paper, provenance), now, rowid),
        )
        if not fresh:
            if old is None:
                raise ValueError("rewriting a stored paper needs what it held")
            conn.execute("DELETE FROM paper_authors WHERE paper_id = ?", (paper.id,))
            conn.execute("DELETE FROM paper_keywords WHERE paper_id = ? AND origin = 'source'", (paper.id,))
            # The index keeps no copy of the text (contentless): taking a row out needs the values it went in with.
            conn.execute("INSERT INTO papers_fts (papers_fts, rowid, title, abstract, keywords, authors) "
                         "VALUES ('delete', ?, ?, ?, ?, ?)", (rowid, *_fts_text(old)))
        conn.executemany(
            "INSERT INTO paper_authors (paper_id, position, name, slug) VALUES (?,?,?,?)",
            [(paper.id, i, name, slugify(name)) for i, name in enumerate(paper.authors)],
        )
        conn.executemany(
            "INSERT OR IGNORE INTO paper_keywords (paper_id, keyword, norm, origin) VALUES (?,?,?, 'source')",
            [(paper.id, kw, keyword_norm(kw)) for kw in paper.keywords],
        )
        conn.execute("INSERT INTO papers_fts (rowid, title, abstract, keywords, authors) VALUES (?,?,?,?,?)",
                     (rowid, *_fts_text(paper)))

    def _add_keys(self, keys: Iterable[str], pid: str) -> None:
        unique = list(dict.fromkeys(keys))
        self.conn.executemany("INSERT OR IGNORE INTO paper_keys VALUES (?, ?)", [(k, pid) for k in unique])
        written = getattr(self._local, "written_keys", None)
        if written is not None:  # inside a batch: later papers of it must see these keys
            written.update(unique)

    def _rekey(self, old_id: str, new_id: str) -> None:
        conn = self.conn
        for table in ("paper_keys", "paper_authors", "paper_keywords", "enrichments", "embeddings"):
            conn.execute(f"UPDATE OR REPLACE {table} SET paper_id = ? WHERE paper_id = ?", (new_id, old_id))

    # -- merges older versions made wrongly ----------------------------------------------------------
    def flag_suspect_merges(self) -> int:
        """Migration 5: the paper that holds the id of empty content (EMPTY_HASH_ID; old versions gave it
        to every record with no id, no title key and no abstract, so unrelated papers merged into it).
        Of one record only, its id is derived again from what it has (the stored data is the record);
        of several, it is flagged in merge_suspects with its records, for ingest to split (see
        _settle_suspects). Index lookups only. Returns the number of papers flagged."""
        conn = self.conn
        row = conn.execute("SELECT p.rowid, p.id, p.data FROM paper_keys k JOIN papers p ON p.id = k.paper_id "
                           "WHERE k.key = ?", (EMPTY_HASH_ID,)).fetchone()
        if row is None:
            return 0
        paper = _load(row["data"])
        refs = list({ref_key(r): r for r in paper.sources}.values())
        if len(refs) > 1:
            self._flag_suspect(paper, f"merged by an id of empty content ({EMPTY_HASH_ID}) from {len(refs)} records")
            return 1
        conn.execute("DELETE FROM paper_keys WHERE key = ?", (EMPTY_HASH_ID,))
        if paper.id == EMPTY_HASH_ID:
            ref = refs[0] if refs else None
            origin = record_origin(ref.source, ref.path, ref.line, ref.source_id) if ref else ""
            new_id = paper_id(paper.arxiv_id, paper.doi, paper.openreview_id, paper.title, paper.abstract,
                              authors=paper.authors, year=paper.year, venue=paper.venue, origin=origin)
            conn.execute("UPDATE papers SET id = ?, data = json_set(data, '$.id', ?) WHERE rowid = ?",
                         (new_id, new_id, row["rowid"]))
            self._rekey(paper.id, new_id)
            conn.execute("INSERT OR IGNORE INTO paper_keys VALUES (?, ?)", (new_id, new_id))
        return 0

    def _flag_suspect(self, paper: Paper, reason: str) -> None:
        """Note a paper as a wrong merge of its records, to be split when they are all read again."""
        refs = list({ref_key(r): r for r in paper.sources}.values())
        # one open entry per paper (the partial unique index); a paper flagged again later gets a new one
        self.conn.execute("INSERT OR IGNORE INTO merge_suspects (paper_id, reason, sources, flagged_at) "
                          "VALUES (?, ?, ?, ?)",
                          (paper.id, reason, json.dumps([r.model_dump(exclude_none=True) for r in refs],
                                                        ensure_ascii=False), utcnow()))
        if getattr(self._local, "reread", None) is None:  # flagged outside an ingest (the migration)
            return
        if self._local.suspect_refs is None:
            self._local.suspect_refs, self._local.skip_ids = {}, set()
        self._local.suspect_refs.update({ref_key(r): paper.id for r in refs})
        self._local.skip_ids.add(paper.id)

    def _note_ref(self, suspect: str, paper: Paper, pid: str | None) -> None:
        for ref in paper.sources:
            self._local.reread.setdefault(suspect, {})["\x1f".join(map(str, ref_key(ref)))] = pid

    def _load_suspects(self) -> None:
        """The records of unresolved suspect merges, for this ingest (nothing when there are none)."""
        refs: dict[tuple, str] = {}
        # (a store opened by an older schema, as tests of old versions do, has no such table: no suspects)
        has_table = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'merge_suspects'").fetchone()
        for pid, sources in self.conn.execute(
                "SELECT paper_id, sources FROM merge_suspects WHERE resolved_at IS NULL") if has_table else ():
            for ref in json.loads(sources):
                refs[ref_key(SourceRef.model_validate(ref))] = pid
        self._local.suspect_refs = refs or None
        self._local.skip_ids = set(refs.values()) or None
        self._local.reread = {}

    def _note_reread(self, suspects: dict[tuple, str], item: PreparedPaper, pid: str) -> None:
        paper = item.paper or _load(item.row[0])
        for ref in paper.sources:
            suspect = suspects.get(ref_key(ref))
            if suspect is not None:
                self._local.reread.setdefault(suspect, {})["\x1f".join(map(str, ref_key(ref)))] = pid

    def _settle_suspects(self, now: str) -> None:
        """Record which records of each suspect were read again; a suspect all of whose records were is
        removed (its records are now papers of their own), and they take over the keys it held."""
        conn = self.conn
        for suspect, seen in self._local.reread.items():
            row = conn.execute("SELECT sources, reread FROM merge_suspects WHERE paper_id = ? AND resolved_at IS NULL",
                               (suspect,)).fetchone()
            if row is None:
                continue
            reread = json.loads(row["reread"])
            reread.update({ref: pid for ref, pid in seen.items() if pid or ref not in reread})
            wanted = {"\x1f".join(map(str, ref_key(SourceRef.model_validate(r)))) for r in json.loads(row["sources"])}
            done = wanted <= set(reread)
            conn.execute("UPDATE merge_suspects SET reread = ?, resolved_at = ? WHERE paper_id = ? "
                         "AND resolved_at IS NULL", (json.dumps(reread, ensure_ascii=False), now if done else None,
                                                     suspect))
            if not done:
                continue
            gone = conn.execute("SELECT content_hash FROM papers WHERE id = ?", (suspect,)).fetchone()
            heirs = []
            for pid in sorted({pid for pid in reread.values() if pid}):
                holder = conn.execute("SELECT paper_id FROM paper_keys WHERE key = ?", (pid,)).fetchone()
                if holder is not None and holder[0] != suspect:  # merged or re-keyed since: the holder now
                    heirs.append(holder[0])
            if gone is not None:  # enrichments of the same text go to the paper that has it now
                same = [r[0] for r in conn.execute(
                    f"SELECT id FROM papers WHERE content_hash = ? AND id IN ({','.join('?' * len(heirs))})",
                    (gone[0], *heirs))] if heirs else []
                if same:
                    for table in ("enrichments", "embeddings"):
                        conn.execute(f"UPDATE OR IGNORE {table} SET paper_id = ? WHERE paper_id = ?", (same[0], suspect))
            self._remove_paper(suspect)
            self._local.skip_ids.discard(suspect)
            for pid in dict.fromkeys(heirs):
                self._take_over(pid, suspect, now)
        self._local.reread = {}

    def _take_over(self, pid: str, suspect: str, now: str) -> None:
        """A paper split from a removed suspect: it takes its natural id if that is free now, and the keys
        the suspect held."""
        conn = self.conn
        row = conn.execute("SELECT rowid, data, provenance FROM papers WHERE id = ?", (pid,)).fetchone()
        if row is None:
            return
        paper = _load(row["data"])
        provenance = json.loads(row["provenance"])
        provenance["split_from"] = suspect
        ref = paper.sources[0] if paper.sources else None
        natural = paper_id(paper.arxiv_id, paper.doi, paper.openreview_id, paper.title, paper.abstract,
                           authors=paper.authors, year=paper.year, venue=paper.venue,
                           origin=record_origin(ref.source, ref.path, ref.line, ref.source_id) if ref else "")
        if natural != pid and conn.execute("SELECT 1 FROM paper_keys WHERE key = ?", (natural,)).fetchone() is None:
            self._rekey(pid, natural)
            paper.id = natural
        conn.execute("UPDATE papers SET id = ?, data = ?, provenance = ?, updated_at = ? WHERE rowid = ?",
                     (paper.id, _data_json(paper), _provenance_json(provenance), now, row["rowid"]))
        self._add_keys([*record_keys(paper), pid], paper.id)

    def _remove_paper(self, pid: str) -> None:
        """Take a paper out with everything that refers to it (only a resolved suspect merge is)."""
        conn = self.conn
        row = conn.execute("SELECT rowid, data FROM papers WHERE id = ?", (pid,)).fetchone()
        if row is None:
            return
        conn.execute("INSERT INTO papers_fts (papers_fts, rowid, title, abstract, keywords, authors) "
                     "VALUES ('delete', ?, ?, ?, ?, ?)", (row["rowid"], *_fts_text(_load(row["data"]))))
        for table in ("paper_keys", "paper_authors", "paper_keywords", "enrichments", "embeddings", "llm_cache"):
            conn.execute(f"DELETE FROM {table} WHERE paper_id = ?", (pid,))
        conn.execute("DELETE FROM papers WHERE rowid = ?", (row["rowid"],))

    def merge_notes(self, pid: str) -> dict[str, Any]:
        """How a paper came to be: the merges that made it (record, keys matched, rule), the papers a
        record was kept apart from and why, the suspect merge it was split from or is."""
        prov = self.provenance(pid)
        notes: dict[str, Any] = {key: prov[key] for key in ("merges", "kept_apart", "split_from") if key in prov}
        row = self.conn.execute("SELECT reason, sources, reread FROM merge_suspects WHERE paper_id = ? "
                                "AND resolved_at IS NULL", (pid,)).fetchone()
        if row is not None:
            notes["suspect"] = {"reason": row["reason"], "sources": json.loads(row["sources"]),
                                "reread": len(json.loads(row["reread"]))}
        return notes

    def suspect_count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM merge_suspects WHERE resolved_at IS NULL").fetchone()[0]

    # -- reading ---------------------------------------------------------------------------------
    def resolve_id(self, pid: str) -> str | None:
        """The stored id of a paper named by any form of an id: its own id or an alias, an arXiv id
        with or without prefix, version or URL, an OpenReview URL, a DOI in any case or as a URL
        (ids.parse_any_id)."""
        for key in parse_any_id(pid):
            row = self.conn.execute("SELECT id FROM papers WHERE id = ?", (key,)).fetchone()
            if row:
                return row[0]
            row = self.conn.execute("SELECT paper_id FROM paper_keys WHERE key = ?", (key,)).fetchone()
            if row:
                return row[0]
        return None

    def get(self, pid: str) -> Paper | None:
        real = self.resolve_id(pid)
        if real is None:
            return None
        row = self.conn.execute("SELECT data FROM papers WHERE id = ?", (real,)).fetchone()
        return _load(row[0]) if row else None

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
                yield _load(row["data"])
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
            "llm": self.llm_stats(),
        }

    def llm_stats(self) -> dict[str, Any]:
        """Every request sent to an LLM endpoint (the usage ledger) and the responses cached."""
        conn = self.conn
        requests, ok, inp, out, cost = conn.execute(
            "SELECT count(*), coalesce(sum(status = 'ok'), 0), coalesce(sum(input_tokens), 0), "
            "coalesce(sum(output_tokens), 0), coalesce(sum(cost), 0) FROM llm_usage").fetchone()
        by_model = {m: {"requests": n, "input_tokens": i, "output_tokens": o, "estimated_cost": round(c, 6)}
                    for m, n, i, o, c in conn.execute(
                        "SELECT model, count(*), sum(input_tokens), sum(output_tokens), sum(cost) FROM llm_usage "
                        "GROUP BY model ORDER BY 2 DESC")}
        return {
            "requests": requests, "valid_responses": ok, "input_tokens": inp, "output_tokens": out,
            "estimated_cost": round(cost, 6),
            "cached_responses": conn.execute("SELECT count(*) FROM llm_cache").fetchone()[0],
            "by_model": by_model,
        }

    # -- LLM response cache and usage ledger ---------------------------------------------------
    def llm_cache_get(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """Cached responses by key (content hash + prompt version + model + language)."""
        out: dict[str, dict[str, Any]] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(f"SELECT * FROM llm_cache WHERE key IN ({marks})", chunk):
                item = dict(row)
                item["response"] = json.loads(item["response"])
                out[item["key"]] = item
        return out

    def llm_record(self, cache_entries: list[dict[str, Any]], usage: list[dict[str, Any]]) -> None:
        """Cache valid answers and log the requests that produced them, in one transaction: after a crash
        the ledger and the cache agree."""
        if not cache_entries and not usage:
            return
        now = utcnow()
        with self.transaction():
            self.conn.executemany(
                """INSERT OR REPLACE INTO llm_cache (key, paper_id, content_hash, prompt_version, model, lang, response,
                   requests, input_tokens, output_tokens, cost, created_at)
                   VALUES (:key, :paper_id, :content_hash, :prompt_version, :model, :lang, :response_json,
                   :requests, :input_tokens, :output_tokens, :cost, :created_at)""",
                [{**e, "response_json": json.dumps(e["response"], ensure_ascii=False)} for e in cache_entries],
            )
            self.conn.executemany(
                """INSERT INTO llm_usage (paper_id, model, lang, kind, status, input_tokens, output_tokens, cost, at)
                   VALUES (:paper_id, :model, :lang, :kind, :status, :input_tokens, :output_tokens, :cost, :at)""",
                [{"at": now, **r} for r in usage],
            )


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

    # -- search support -------------------------------------------------------------------------
    def fts_search(self, expression: str, limit: int, filters=None) -> list[tuple[str, float]]:
        """(paper id, bm25 score) for an FTS5 expression built by paperlens.search.hybrid (quoted terms only).
        Title matches weigh most, then keywords, authors and abstract."""
        where, params = _filter_sql(filters) if filters is not None else ("1", [])
        rows = self.conn.execute(
            "SELECT p.id, bm25(papers_fts, 8.0, 1.0, 4.0, 2.0) AS score FROM papers_fts "
            f"JOIN papers p ON p.rowid = papers_fts.rowid WHERE papers_fts MATCH ? AND {where} "
            "ORDER BY score LIMIT ?",
            (expression, *params, limit),
        ).fetchall()
        return [(r[0], -float(r[1])) for r in rows]

    def rowid_ids(self, rowids: list[int]) -> dict[int, str]:
        out: dict[int, str] = {}
        for chunk in _chunks(rowids, 500):
            marks = ",".join("?" * len(chunk))
            out.update((r[0], r[1]) for r in self.conn.execute(
                f"SELECT rowid, id FROM papers WHERE rowid IN ({marks})", chunk))
        return out

    def get_many(self, ids: list[str]) -> list[Paper]:
        out = []
        for chunk in _chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            rows = {r[0]: r[1] for r in self.conn.execute(f"SELECT id, data FROM papers WHERE id IN ({marks})", chunk)}
            out += [_load(rows[i]) for i in chunk if i in rows]
        return out

    def paper_rows(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """Light rows for result lists: title, abstract, year, topic label, authors."""
        out: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(
                f"SELECT id, title, year, topic_label, json_extract(data, '$.abstract') AS abstract, "
                f"json_extract(data, '$.authors') AS authors FROM papers WHERE id IN ({marks})", chunk):
                item = dict(row)
                item["authors"] = json.loads(item["authors"] or "[]")
                out[row["id"]] = item
        return out

    def filter_ids(self, ids: list[str], filters) -> set[str]:
        """The subset of ids that pass a paperlens.search.hybrid.SearchFilters."""
        where, params = _filter_sql(filters)
        allowed: set[str] = set()
        for chunk in _chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            allowed.update(r[0] for r in self.conn.execute(
                f"SELECT p.id FROM papers p WHERE p.id IN ({marks}) AND {where}", [*chunk, *params]))
        return allowed

    # -- embeddings -----------------------------------------------------------------------------
    def has_embeddings(self) -> bool:
        return self.conn.execute("SELECT 1 FROM embeddings LIMIT 1").fetchone() is not None

    def embedding_count(self, model: str) -> int:
        return self.conn.execute("SELECT count(*) FROM embeddings WHERE model = ?", (model,)).fetchone()[0]

    def iter_embeddings(self, model: str, after_rowid: int = -1, batch: int = 20000):
        """(rowids, matrix) batches in rowid order; vectors are little-endian float32 blobs."""
        import numpy as np

        last = after_rowid
        while True:
            rows = self.conn.execute(
                "SELECT rowid, dim, vector FROM embeddings WHERE model = ? AND rowid > ? ORDER BY rowid LIMIT ?",
                (model, last, batch)).fetchall()
            if not rows:
                return
            keys = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            matrix = np.frombuffer(b"".join(r[2] for r in rows), dtype="<f4").reshape(len(rows), rows[0][1])
            yield keys, matrix
            last = int(keys[-1])

    def embedding_ids(self, rowids: list[int]) -> dict[int, str]:
        out: dict[int, str] = {}
        for chunk in _chunks(rowids, 500):
            marks = ",".join("?" * len(chunk))
            out.update((r[0], r[1]) for r in self.conn.execute(
                f"SELECT rowid, paper_id FROM embeddings WHERE rowid IN ({marks})", chunk))
        return out

    def embedding_of(self, pid: str, model: str | None = None):
        """(model, float32 vector) stored for a paper (of `model` when given), or (None, None)."""
        import numpy as np

        sql = "SELECT model, vector FROM embeddings WHERE paper_id = ?" + (" AND model = ?" if model else "")
        row = self.conn.execute(sql, (pid, model) if model else (pid,)).fetchone()
        return (None, None) if row is None else (row[0], np.frombuffer(row[1], dtype="<f4"))

    def embedding_dim(self, model: str) -> int | None:
        row = self.conn.execute("SELECT dim FROM embeddings WHERE model = ? LIMIT 1", (model,)).fetchone()
        return row[0] if row else None

    # -- web reads -----------------------------------------------------------------------------
    def change_counter(self) -> int:
        """Moves whenever another connection commits (PRAGMA data_version): a free first check before
        asking what changed."""
        return self._data_version()

    def data_signature(self) -> tuple:
        """Changes whenever papers or enrichments change: readers use it to refresh their caches.

        Times alone miss an update that lands in the same second as the previous one (times have whole
        seconds) without adding a row, so the signature also holds the data_version of one connection
        kept for that: SQLite moves it whenever any other connection commits. Every part is an index
        lookup (no count(*): at millions of enrichment rows that scan took a noticeable part of a second)."""
        conn = self.conn
        # One aggregate per statement: SQLite answers a lone max() from an index (or, for rowid, the end
        # of the table), but `SELECT max(rowid), max(updated_at)` scans every row (seconds at 1M papers).
        # Papers are deleted only when a wrong merge of an older version is split (merge_suspects), so
        # max(rowid) counts them near enough; the last part, the number of such splits, tells readers
        # that patching their copy by changed rows is not enough (a removed row changes no other row).
        return (conn.execute("SELECT max(rowid) FROM papers").fetchone()[0], *self.update_stamps(raw=True),
                self._data_version(), self.removals())

    def removals(self) -> int:
        """How many papers were ever removed (split suspect merges); 0 on a database before migration 5."""
        try:
            return self.conn.execute("SELECT count(*) FROM merge_suspects WHERE resolved_at IS NOT NULL").fetchone()[0]
        except sqlite3.OperationalError:  # opened read-only before migration 5 ran
            return 0

    def _data_version(self) -> int:
        with self._watch_lock:
            if self._watch is None:
                self._watch = (sqlite3.connect(readonly_uri(self.path), uri=True, check_same_thread=False)
                               if self.readonly else sqlite3.connect(self.path, check_same_thread=False))
            return self._watch.execute("PRAGMA data_version").fetchone()[0]

    @contextmanager
    def read_snapshot(self):
        """Reads inside see one committed state of the database (one WAL snapshot), however many
        statements they take; writers in other processes go on meanwhile."""
        conn = self.conn
        if conn.in_transaction:  # already inside one (nested use): that snapshot holds
            yield
            return
        conn.execute("BEGIN")
        try:
            yield
        finally:
            conn.execute("COMMIT" if conn.in_transaction else "SELECT 1")

    def iter_paper_rows(self, rowids: list[int] | None = None, batch: int = 1000
                        ) -> Iterator[tuple[int, Paper, dict[str, dict[str, Any]]]]:
        """(rowid, paper, its enrichments by step) in rowid order: every paper, or those of `rowids`.
        Enrichments are fetched per batch of papers, so memory stays flat at any collection size."""
        for rows, enrichment_rows in self.iter_raw_paper_rows(rowids, batch):
            yield from parse_paper_rows(rows, enrichment_rows)

    def iter_raw_paper_rows(self, rowids: list[int] | None = None, batch: int = 1000
                            ) -> Iterator[tuple[list[tuple[int, str, str]], list[tuple]]]:
        """What iter_paper_rows parses, a batch at a time: (rowid, id, data JSON) rows and their
        enrichment rows (output still JSON text). Plain values, so another process can parse them."""
        cursor = self.conn.cursor()
        cursor.row_factory = None  # plain tuples: cheaper to make and to send

        def chunks() -> Iterator[list]:
            if rowids is not None:
                ordered = sorted(set(rowids))
                for start in range(0, len(ordered), batch):
                    chunk = ordered[start:start + batch]
                    marks = ",".join("?" * len(chunk))
                    yield cursor.execute(
                        f"SELECT rowid, id, data FROM papers WHERE rowid IN ({marks}) ORDER BY rowid", chunk).fetchall()
                return
            last = 0
            while True:
                rows = cursor.execute("SELECT rowid, id, data FROM papers WHERE rowid > ? ORDER BY rowid LIMIT ?",
                                      (last, batch)).fetchall()
                if not rows:
                    return
                yield rows
                last = rows[-1][0]

        for rows in chunks():
            yield rows, self._raw_enrichments([r[1] for r in rows])

    def _raw_enrichments(self, ids: list[str]) -> list[tuple]:
        """Enrichment rows of these papers as tuples, in the order of ENRICHMENT_COLUMNS."""
        cursor = self.conn.cursor()
        cursor.row_factory = None
        out: list[tuple] = []
        for chunk in _chunks(list(ids), 500):
            marks = ",".join("?" * len(chunk))
            out.extend(cursor.execute(f"SELECT {', '.join(ENRICHMENT_COLUMNS)} FROM enrichments "
                                      f"WHERE paper_id IN ({marks})", chunk))
        return out

    def enrichments_for_many(self, ids: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
        return _by_paper(self._raw_enrichments(ids))

    def update_stamps(self, raw: bool = False) -> tuple[str, str]:
        """The latest updated_at of papers and of enrichments (both indexed: no scan); '' for none
        (None with `raw`)."""
        papers = self.conn.execute("SELECT max(updated_at) FROM papers").fetchone()[0]
        enriched = self.conn.execute("SELECT max(updated_at) FROM enrichments").fetchone()[0]
        return (papers, enriched) if raw else (papers or "", enriched or "")

    def changed_rowids(self, papers_since: str, enrichments_since: str) -> set[int]:
        """Rowids of papers written, or enriched, at or after the given times (through the updated_at
        indexes, so a reader can catch up on a few changes without reading everything)."""
        found = {r[0] for r in self.conn.execute("SELECT rowid FROM papers WHERE updated_at >= ?", (papers_since,))}
        found.update(r[0] for r in self.conn.execute(
            "SELECT p.rowid FROM enrichments e JOIN papers p ON p.id = e.paper_id WHERE e.updated_at >= ?",
            (enrichments_since,)))
        return found

    def all_enrichments(self) -> Iterator[dict[str, Any]]:
        """Every enrichment record (output decoded), for readers that resolve all papers at once."""
        for row in self.conn.execute("SELECT * FROM enrichments"):
            item = dict(row)
            item["output"] = json.loads(item["output"]) if item["output"] else None
            yield item

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
        """'ok', or what SQLite found wrong (the tables, then the full-text index)."""
        result = self.conn.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            return result
        try:
            self.conn.execute("INSERT INTO papers_fts (papers_fts) VALUES ('integrity-check')")
        except sqlite3.DatabaseError as exc:
            return f"full-text index: {exc}"
        return "ok"


def _data_json(paper: Paper) -> str:
    """papers.data: the paper as JSON, without abstract_raw when it is the abstract itself (most papers:
    no LaTeX), which _load restores. A third less to write, and a smaller database."""
    if paper.abstract_raw == paper.abstract:
        return paper.model_dump_json(exclude=_SAME_AS_ABSTRACT)
    return paper.model_dump_json()


_SAME_AS_ABSTRACT = {"abstract_raw"}


ENRICHMENT_COLUMNS = ("paper_id", "step", "version", "content_hash", "status", "output", "error", "model",
                      "updated_at")


def _by_paper(enrichment_rows: list[tuple]) -> dict[str, dict[str, dict[str, Any]]]:
    """Enrichment rows (tuples in ENRICHMENT_COLUMNS order) by paper id and step, outputs parsed."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for row in enrichment_rows:
        item = dict(zip(ENRICHMENT_COLUMNS, row, strict=True))
        item["output"] = json.loads(item["output"]) if item["output"] else None
        out.setdefault(item["paper_id"], {})[item["step"]] = item
    return out


def parse_paper_rows(rows: list[tuple[int, str, str]], enrichment_rows: list[tuple]
                     ) -> Iterator[tuple[int, Paper, dict[str, dict[str, Any]]]]:
    """One batch of Store.iter_raw_paper_rows as (rowid, paper, its enrichments by step)."""
    enrichments = _by_paper(enrichment_rows)
    for rowid, pid, data in rows:
        yield rowid, _load(data), enrichments.get(pid, {})


def _load(data: str | bytes) -> Paper:
    paper = Paper.model_validate_json(data)
    if "abstract_raw" not in paper.model_fields_set:
        paper.abstract_raw = paper.abstract
    return paper


def _row(paper: Paper, provenance: dict[str, str]) -> tuple:
    """The papers columns of a paper, in the order of _PAPER_COLUMNS."""
    return (_data_json(paper), _provenance_json(provenance),
            paper.content_hash(), paper.title, paper.year, paper.date, paper.language, paper.venue,
            paper.topic.area if paper.topic else None, paper.topic.label if paper.topic else None,
            int(bool(paper.code_url or paper.extra.get("code_badge"))))


_json_string = json.encoder.encode_basestring  # str -> JSON string literal, non-ASCII kept


def _explain_merge(provenance: dict[str, Any], paper: Paper, decision: Decision) -> None:
    """Record in `provenance` which record joined the paper, and by which keys and rule."""
    explained = provenance.get("merges")
    explained = list(explained) if isinstance(explained, list) else []
    explained.append({"from": source_label(paper), "matched": list(decision.matched), "rule": decision.rule})
    provenance["merges"] = explained


def _provenance_json(provenance: dict[str, str]) -> str:
    """Compact JSON of a str -> str dict (json.dumps builds an encoder per call; this runs per paper).
    Most values are one origin repeated, so each distinct value is encoded once."""
    encoded: dict[Any, str] = {}
    parts = []
    for key, value in provenance.items():
        if not isinstance(value, str):  # the merge notes (lists of objects)
            parts.append(_json_string(str(key)) + ":" + json.dumps(value, ensure_ascii=False))
            continue
        text = encoded.get(value)
        if text is None:
            text = encoded[value] = _json_string(value)
        parts.append(_json_string(str(key)) + ":" + text)
    return "{" + ",".join(parts) + "}"


def _fts_text(paper: Paper) -> tuple[str, str, str, str]:
    return paper.title, paper.abstract, " ; ".join(paper.keywords), " ; ".join(paper.authors)


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


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _filter_sql(filters) -> tuple[str, list]:
    """SQL over `papers p` for a paperlens.search.hybrid.SearchFilters; values are always bound parameters."""
    clauses, params = [], []
    if filters.topic:
        clauses.append("(p.topic_label = ? OR lower(replace(p.topic_label, ' ', '-')) = ?)")
        params += [filters.topic, filters.topic.lower()]
    if filters.year_from is not None:
        clauses.append("p.year >= ?")
        params.append(filters.year_from)
    if filters.year_to is not None:
        clauses.append("p.year <= ?")
        params.append(filters.year_to)
    if filters.venue:
        clauses.append("lower(p.venue) LIKE ?")
        params.append(f"%{filters.venue.lower()}%")
    if filters.category:
        clauses.append("EXISTS (SELECT 1 FROM json_each(p.data, '$.categories') WHERE value = ?)")
        params.append(filters.category)
    if filters.author:
        clauses.append("EXISTS (SELECT 1 FROM paper_authors a WHERE a.paper_id = p.id AND a.slug = ?)")
        params.append(slugify(filters.author))
    if filters.has_code is not None:
        clauses.append("p.has_code = ?")
        params.append(int(filters.has_code))
    if getattr(filters, "language", None):
        clauses.append("p.language = ?")
        params.append(filters.language)
    return " AND ".join(clauses) or "1", params
