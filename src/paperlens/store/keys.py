"""paper_keys: every key a paper can be found under (its id, aliases, DOI, arXiv id, title keys), and the
moves of a paper to a new id across the tables that name it."""

from __future__ import annotations

from collections.abc import Iterable

from paperlens.store.connection import Database
from paperlens.store.rows import chunks

# the tables whose paper_id follows a paper to a new id
KEYED_TABLES = ("paper_keys", "paper_authors", "paper_keywords", "enrichments", "embeddings")


def existing_keys(db: Database, keys: set[str]) -> set[str]:
    """Those of `keys` some stored paper holds."""
    found: set[str] = set()
    for chunk in chunks(list(keys), 500):
        marks = ",".join("?" * len(chunk))
        found.update(r[0] for r in db.conn.execute(f"SELECT key FROM paper_keys WHERE key IN ({marks})", chunk))
    return found


def key_holders(db: Database, keys: list[str]) -> dict[str, str]:
    """key -> the paper that holds it, for those of `keys` that are held."""
    found: dict[str, str] = {}
    for chunk in chunks(list(dict.fromkeys(keys)), 500):
        marks = ",".join("?" * len(chunk))
        found.update(db.conn.execute(f"SELECT key, paper_id FROM paper_keys WHERE key IN ({marks})", chunk))
    return found


def holder(db: Database, key: str) -> str | None:
    """The paper that holds `key`, or None."""
    row = db.conn.execute("SELECT paper_id FROM paper_keys WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def add_keys(db: Database, keys: Iterable[str], pid: str) -> None:
    """Give `pid` these keys; a key another paper holds stays its own (INSERT OR IGNORE)."""
    unique = list(dict.fromkeys(keys))
    db.conn.executemany("INSERT OR IGNORE INTO paper_keys VALUES (?, ?)", [(k, pid) for k in unique])
    written = getattr(db.local, "written_keys", None)
    if written is not None:  # inside an ingest batch: later papers of it must see these keys
        written.update(unique)


def drop_key(db: Database, key: str) -> None:
    db.conn.execute("DELETE FROM paper_keys WHERE key = ?", (key,))


def rekey(db: Database, old_id: str, new_id: str) -> None:
    """Everything that names `old_id` names `new_id` instead."""
    conn = db.conn
    for table in KEYED_TABLES:
        conn.execute(f"UPDATE OR REPLACE {table} SET paper_id = ? WHERE paper_id = ?", (new_id, old_id))
