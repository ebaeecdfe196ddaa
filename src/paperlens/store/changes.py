"""Change tracking for readers that keep copies (the web catalog, the search indexes): a signature that
moves whenever papers or enrichments change, the latest write times, and the rows changed since then."""

from __future__ import annotations

import sqlite3
from typing import Any

from paperlens.store import suspects
from paperlens.store.connection import Database, scalar


class ChangeTracker:
    def __init__(self, db: Database):
        self.db = db

    def change_counter(self) -> int:
        """Moves whenever another connection commits (PRAGMA data_version): a free first check before
        asking what changed."""
        return self.db.data_version()

    def data_signature(self) -> tuple[Any, ...]:
        """Changes whenever papers or enrichments change: readers use it to refresh their caches.

        Times alone miss an update that lands in the same second as the previous one (times have whole
        seconds) without adding a row, so the signature also holds the data_version of one connection
        kept for that: SQLite moves it whenever any other connection commits. Every part is an index
        lookup (no count(*): at millions of enrichment rows that scan took a noticeable part of a second)."""
        # One aggregate per statement: SQLite answers a lone max() from an index (or, for rowid, the end
        # of the table), but `SELECT max(rowid), max(updated_at)` scans every row (seconds at 1M papers).
        # Papers are deleted only when a wrong merge of an older version is split (merge_suspects), so
        # max(rowid) counts them near enough; the last part, the number of such splits, tells readers
        # that patching their copy by changed rows is not enough (a removed row changes no other row).
        return (scalar(self.db.conn, "SELECT max(rowid) FROM papers"), *self.update_stamps(raw=True),
                self.db.data_version(), suspects.removals(self.db))

    def update_stamps(self, raw: bool = False) -> tuple[str | None, str | None]:
        """The latest updated_at of papers and of enrichments (both indexed: no scan); '' for none
        (None with `raw`)."""
        papers = scalar(self.db.conn, "SELECT max(updated_at) FROM papers")
        enriched = scalar(self.db.conn, "SELECT max(updated_at) FROM enrichments")
        return (papers, enriched) if raw else (papers or "", enriched or "")

    def write_generation(self) -> int | None:
        """Moves with every row written to papers or enrichments, by any connection (migration 7's
        triggers; papers inserted by PaperWriter, which bumps it once per statement since migration 8), and is
        kept in the file; None on a database opened read-only before migration 7."""
        try:
            return int(scalar(self.db.conn, "SELECT n FROM write_generation WHERE id = 1"))
        except (sqlite3.OperationalError, TypeError):
            return None

    def changed_rowids(self, papers_since: str, enrichments_since: str) -> set[int]:
        """Rowids of papers written, or enriched, at or after the given times (through the updated_at
        indexes, so a reader can catch up on a few changes without reading everything)."""
        conn = self.db.conn
        found = {r[0] for r in conn.execute("SELECT rowid FROM papers WHERE updated_at >= ?", (papers_since,))}
        found.update(r[0] for r in conn.execute(
            "SELECT p.rowid FROM enrichments e JOIN papers p ON p.id = e.paper_id WHERE e.updated_at >= ?",
            (enrichments_since,)))
        return found


def bump_write_generation(conn: sqlite3.Connection) -> None:
    """Move the write generation (see Changes.write_generation): for every statement that inserts into
    papers, which has no trigger for it since migration 8 (one UPDATE per statement, not per row)."""
    try:
        conn.execute("UPDATE write_generation SET n = n + 1 WHERE id = 1")
    except sqlite3.OperationalError:  # a schema from before migration 7 (a test's): no generation to move
        if not _no_generation_table(conn):
            raise


def _no_generation_table(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'write_generation'").fetchone() is None
