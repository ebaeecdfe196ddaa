"""The queries the search indexes need: the keyword index (Tantivy) reads papers through here, so no
SQL lives in paperlens.search. Used as `TextIndexRows(store)`; every method reads, none writes."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from paperlens.store.store import Store


class TextIndexRows:
    """Reads for the derived keyword indexes over a Store's connection (its thread's)."""

    def __init__(self, store: Store):
        self.store = store

    @property
    def conn(self) -> sqlite3.Connection:
        return self.store.conn

    def max_rowid(self) -> int:
        """Papers are rarely deleted, so this is their count near enough; an index lookup, no scan."""
        return int(self.conn.execute("SELECT max(rowid) FROM papers").fetchone()[0] or 0)

    def max_updated_at(self) -> str | None:
        # One aggregate per statement: together with max(rowid) SQLite would scan the table.
        stamp = self.conn.execute("SELECT max(updated_at) FROM papers").fetchone()[0]
        return None if stamp is None else str(stamp)

    def papers_since(self, since: str, after_rowid: int, batch: int) -> list[tuple[Any, ...]]:
        """(rowid, title, abstract, keywords, authors, topic label, TL;DR, summaries {lang: {field: text}},
        updated_at) of papers updated at or after `since`, past `after_rowid`, in rowid order."""
        rows = self.conn.execute(
            "SELECT rowid, title, json_extract(data, '$.abstract'), json_extract(data, '$.keywords'), "
            "json_extract(data, '$.authors'), topic_label, json_extract(data, '$.tldr'), "
            "json_extract(data, '$.summary'), updated_at FROM papers "
            "WHERE updated_at >= ? AND rowid > ? ORDER BY rowid LIMIT ?", (since, after_rowid, batch),
        ).fetchall()
        return [(rowid, title or "", abstract or "", json.loads(keywords or "[]"), json.loads(authors or "[]"),
                 topic or "", tldr or "", json.loads(summary or "{}"), updated_at)
                for rowid, title, abstract, keywords, authors, topic, tldr, summary, updated_at in rows]

    def abstracts(self, rowids: list[int]) -> Iterator[str]:
        """The abstracts of those papers (any order; missing rowids are skipped)."""
        for start in range(0, len(rowids), 500):
            chunk = rowids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for (abstract,) in self.conn.execute(
                    f"SELECT json_extract(data, '$.abstract') FROM papers WHERE rowid IN ({marks})", chunk):
                yield abstract or ""
