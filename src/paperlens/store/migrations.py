"""The schema: MIGRATIONS, run once each, in order, by `migrate`; `schema_version` says how far a file is.

To change the schema, append `(next number, "SQL")` to MIGRATIONS (and, for data the SQL cannot fix, a
function of the Database to MIGRATION_STEPS under the same number). Never edit or reorder a shipped one:
databases in the field ran it already. tests/test_store_migrations.py upgrades a database of migration 1,
with data in it, through all of them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

from paperlens.store import connection
from paperlens.store.connection import Database
from paperlens.store.profiles import PROFILES_MIGRATION
from paperlens.store.suspects import flag_suspect_merges

WRITE_GENERATION_MIGRATION = "\n".join(
    ["CREATE TABLE write_generation (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);",
     "INSERT INTO write_generation VALUES (1, 0);"]
    + [f"CREATE TRIGGER {table}_{event.lower()}_generation AFTER {event} ON {table} "
       "BEGIN UPDATE write_generation SET n = n + 1 WHERE id = 1; END;"
       for table in ("papers", "enrichments") for event in ("INSERT", "UPDATE", "DELETE")])

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
    # Reader profiles, their labelled papers, daily runs and digests (store/profiles.py, issue 17).
    (6, PROFILES_MIGRATION),
    # A count that moves with every row written to papers or enrichments, by any process and any version
    # (triggers): the derived keyword indexes record it at each sync, and a process that finds it unchanged
    # has nothing to index. Stamps have whole seconds, so without it each search process re-read, re-segmented
    # and compared the ~3,000 papers a bulk ingest stamped in its last second (issue 19). ~1 us per row written.
    (7, WRITE_GENERATION_MIGRATION),
    # The papers INSERT trigger ran an UPDATE of write_generation for every paper a bulk ingest inserted
    # (its INSERT INTO papers took 0.16 -> 0.30 s CPU for 20k papers); the store's one insert path
    # (PaperWriter) moves the count once per statement instead (store/changes.bump_write_generation).
    # The UPDATE and DELETE triggers, and those on enrichments, stay.
    (8, "DROP TRIGGER papers_insert_generation;"),
    # Until 2026-12-02 the bulk insert (PaperWriter._insert_many) wrote keyword rows by position, so a
    # paper's (keyword, norm, 'source') landed as norm = the keyword, origin = its norm, keyword = 'source'.
    # Every row the code wrote has origin 'source', and a true row whose keyword is 'source' has norm
    # 'source': any other row with keyword 'source' is one of those, and is put back in its columns (a row a
    # later one-at-a-time write already stored correctly is kept; its twin goes).
    (9, """
    INSERT OR IGNORE INTO paper_keywords (paper_id, norm, origin, keyword)
        SELECT paper_id, origin, 'source', norm FROM paper_keywords
        WHERE keyword = 'source' AND (origin <> 'source' OR norm <> 'source');
    DELETE FROM paper_keywords WHERE keyword = 'source' AND (origin <> 'source' OR norm <> 'source');
    """),
    # Until 2026-12-02 an old-style arXiv id kept its subject class and case ('arxiv:math.GT/0309136'); arXiv's
    # id, and the one now stored, is 'arxiv:math/0309136'. Each paper keyed by the old form also gets the
    # canonical key (unless another paper holds it already), so a record of the same paper under either form
    # finds it; its id and stored fields stay as they are.
    (10, """
    INSERT OR IGNORE INTO paper_keys (key, paper_id)
        SELECT 'arxiv:' || lower(CASE WHEN instr(archive, '.') > 0 THEN substr(archive, 1, instr(archive, '.') - 1)
                                      ELSE archive END) || '/' || number, paper_id
        FROM (SELECT paper_id, substr(key, 7, instr(key, '/') - 7) AS archive, substr(key, instr(key, '/') + 1) AS number
              FROM paper_keys
              WHERE key GLOB 'arxiv:[A-Za-z]*/[0-9][0-9][0-9][0-9][0-9][0-9][0-9]')
        WHERE archive GLOB '*[.A-Z]*';
    """),
    # Until 2026-12-02 keyword_norm did not NFKC-fold: 'ﬁne-tuning' (a ligature, as PDF-extracted keywords
    # have) had the norm 'ﬁne tuning', a tag apart from 'fine tuning'. The Python step recomputes the norm of
    # the rows whose keyword is not NFKC-stable (no other row's norm can change).
    (11, "SELECT 1;"),
]


def refold_keyword_norms(db: Database) -> int:
    """Migration 11: the norm of each paper_keywords row whose keyword NFKC changes, recomputed with
    keyword_norm; a row whose new norm the paper already has (same origin) is a duplicate and goes.
    Returns the rows changed."""
    from paperlens.core.words import keyword_norm

    conn = db.conn
    changed = 0
    # only rows with a character outside printable ASCII (all of a million papers' rows would be gigabytes)
    rows = conn.execute("SELECT paper_id, norm, origin, keyword FROM paper_keywords "
                        "WHERE keyword GLOB '*[^ -~]*'").fetchall()
    for paper_id, norm, origin, keyword in rows:
        if keyword.isascii() or unicodedata.is_normalized("NFKC", keyword):
            continue
        new = keyword_norm(keyword)
        if new == norm:
            continue
        conn.execute("INSERT OR IGNORE INTO paper_keywords (paper_id, norm, origin, keyword) VALUES (?, ?, ?, ?)",
                     (paper_id, new, origin, keyword))
        conn.execute("DELETE FROM paper_keywords WHERE paper_id = ? AND norm = ? AND origin = ?", (paper_id, norm, origin))
        changed += 1
    return changed


# Python steps run right after a migration's SQL, in its transaction: version -> function of the Database.
MIGRATION_STEPS: dict[int, Callable[[Database], Any]] = {5: flag_suspect_merges, 11: refold_keyword_norms}


def statements(sql: str) -> list[str]:
    """A migration's SQL as its statements (each ends a line with `;`)."""
    parts: list[str] = []
    current: list[str] = []
    for line in sql.strip().splitlines():
        current.append(line)
        if line.rstrip().endswith(";"):
            parts.append("\n".join(current))
            current = []
    if "".join(current).strip():
        parts.append("\n".join(current))
    return parts


def check_order(migrations: list[tuple[int, str]]) -> None:
    """Versions run 1, 2, 3, ... with no gap or repeat (two branches that append the same number clash here)."""
    versions = [version for version, _ in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise RuntimeError(f"store migrations must be numbered 1..n in order, found {versions}")


def migrate(db: Database) -> int:
    """Run the migrations this file has not had yet, each in its own transaction; returns how many ran."""
    check_order(MIGRATIONS)
    conn = db.conn
    conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)")
    done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
    applied = 0
    for version, sql in MIGRATIONS:
        if version in done:
            continue
        with db.transaction():
            for statement in statements(sql):
                conn.execute(statement)
            step = MIGRATION_STEPS.get(version)
            if step is not None:  # data the SQL cannot fix, in the same transaction
                step(db)
            conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (version, connection.utcnow()))
        applied += 1
    return applied


def schema_version(db: Database) -> int:
    row = db.conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
    return int(row[0] or 0)
