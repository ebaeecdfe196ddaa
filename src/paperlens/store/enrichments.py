"""Enrichment records: one per (paper, step), with the step version and content hash it was made for,
so a rerun skips what is current; and papers read with their enrichments, a batch at a time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from paperlens.store import connection
from paperlens.store.connection import Database
from paperlens.store.rows import ENRICHMENT_COLUMNS, by_paper, chunks

RawBatch = tuple[list[tuple[int, str, str]], list[tuple[Any, ...]]]


def _decoded(row: Any) -> dict[str, Any]:
    item = dict(row)
    item["output"] = json.loads(item["output"]) if item["output"] else None
    return item


class EnrichmentRepository:
    def __init__(self, db: Database):
        self.db = db

    def done(self, step: str, version: str) -> dict[str, str]:
        """paper_id -> content_hash for papers this step version already processed successfully."""
        rows = self.db.conn.execute(
            "SELECT paper_id, content_hash FROM enrichments WHERE step = ? AND version = ? AND status = 'ok'",
            (step, version),
        )
        return {r[0]: r[1] for r in rows}

    def failed(self, step: str, version: str) -> set[str]:
        """Ids of the papers this step version failed on (their last run of it)."""
        rows = self.db.conn.execute(
            "SELECT paper_id FROM enrichments WHERE step = ? AND version = ? AND status = 'failed'", (step, version))
        return {r[0] for r in rows}

    def save(self, rows: list[dict[str, Any]]) -> None:
        now = connection.utcnow()
        with self.db.transaction():
            self.db.conn.executemany(
                """INSERT INTO enrichments (paper_id, step, version, content_hash, status, output, error, model, updated_at)
                   VALUES (:paper_id, :step, :version, :content_hash, :status, :output, :error, :model, :now)
                   ON CONFLICT(paper_id, step) DO UPDATE SET version=excluded.version,
                     content_hash=excluded.content_hash, status=excluded.status, output=excluded.output,
                     error=excluded.error, model=excluded.model, updated_at=excluded.updated_at""",
                [{**r, "output": None if r.get("output") is None else json.dumps(r["output"], ensure_ascii=False),
                  "error": r.get("error"), "model": r.get("model"), "now": now} for r in rows],
            )

    def for_paper(self, pid: str) -> dict[str, dict[str, Any]]:
        return {row["step"]: _decoded(row)
                for row in self.db.conn.execute("SELECT * FROM enrichments WHERE paper_id = ?", (pid,))}

    def all(self) -> Iterator[dict[str, Any]]:
        """Every enrichment record (output decoded), for readers that resolve all papers at once."""
        for row in self.db.conn.execute("SELECT * FROM enrichments"):
            yield _decoded(row)

    def raw(self, ids: list[str]) -> list[tuple[Any, ...]]:
        """Enrichment rows of these papers as tuples, in the order of ENRICHMENT_COLUMNS."""
        cursor = self.db.conn.cursor()
        cursor.row_factory = None
        out: list[tuple[Any, ...]] = []
        for chunk in chunks(list(ids), 500):
            marks = ",".join("?" * len(chunk))
            out.extend(cursor.execute(f"SELECT {', '.join(ENRICHMENT_COLUMNS)} FROM enrichments "
                                      f"WHERE paper_id IN ({marks})", chunk))
        return out

    def for_many(self, ids: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
        return by_paper(self.raw(ids))

    def iter_raw_paper_rows(self, rowids: list[int] | None = None, batch: int = 1000) -> Iterator[RawBatch]:
        """What iter_paper_rows parses, a batch at a time: (rowid, id, data JSON) rows and their
        enrichment rows (output still JSON text). Plain values, so another process can parse them."""
        cursor = self.db.conn.cursor()
        cursor.row_factory = None  # plain tuples: cheaper to make and to send

        def batches() -> Iterator[list[Any]]:
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

        for rows in batches():
            yield rows, self.raw([r[1] for r in rows])
