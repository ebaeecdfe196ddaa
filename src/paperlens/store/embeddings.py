"""Embeddings: one vector per paper (little-endian float32 blobs), of the model that made it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from paperlens.store.connection import Database, scalar
from paperlens.store.rows import chunks

if TYPE_CHECKING:  # numpy is imported where vectors are read or written, not with the store
    import numpy as np


class EmbeddingRepository:
    def __init__(self, db: Database):
        self.db = db

    def any(self) -> bool:
        return self.db.conn.execute("SELECT 1 FROM embeddings LIMIT 1").fetchone() is not None

    def count(self, model: str) -> int:
        return int(scalar(self.db.conn, "SELECT count(*) FROM embeddings WHERE model = ?", (model,)))

    def models(self) -> dict[str, int]:
        return {m: n for m, n in self.db.conn.execute("SELECT model, count(*) FROM embeddings GROUP BY model")}

    def dim(self, model: str) -> int | None:
        row = self.db.conn.execute("SELECT dim FROM embeddings WHERE model = ? LIMIT 1", (model,)).fetchone()
        return int(row[0]) if row else None

    def iter(self, model: str, after_rowid: int = -1, batch: int = 20000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(rowids, matrix) batches in rowid order."""
        import numpy as np

        last = after_rowid
        while True:
            rows = self.db.conn.execute(
                "SELECT rowid, dim, vector FROM embeddings WHERE model = ? AND rowid > ? ORDER BY rowid LIMIT ?",
                (model, last, batch)).fetchall()
            if not rows:
                return
            keys = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            matrix = np.frombuffer(b"".join(r[2] for r in rows), dtype="<f4").reshape(len(rows), rows[0][1])
            yield keys, matrix
            last = int(keys[-1])

    def ids(self, rowids: list[int]) -> dict[int, str]:
        out: dict[int, str] = {}
        for chunk in chunks(rowids, 500):
            marks = ",".join("?" * len(chunk))
            out.update((r[0], r[1]) for r in self.db.conn.execute(
                f"SELECT rowid, paper_id FROM embeddings WHERE rowid IN ({marks})", chunk))
        return out

    def of(self, pid: str, model: str | None = None) -> tuple[str, np.ndarray] | tuple[None, None]:
        """(model, float32 vector) stored for a paper (of `model` when given), or (None, None)."""
        import numpy as np

        sql = "SELECT model, vector FROM embeddings WHERE paper_id = ?" + (" AND model = ?" if model else "")
        row = self.db.conn.execute(sql, (pid, model) if model else (pid,)).fetchone()
        return (None, None) if row is None else (row[0], np.frombuffer(row[1], dtype="<f4"))

    def save(self, rows: Iterable[dict[str, Any]]) -> int:
        """rows: {paper_id, model, vector (1-D float array), content_hash}. One vector per paper: a new one
        (another model, or changed text) replaces the old."""
        import numpy as np

        values = []
        for row in rows:
            vector = np.asarray(row["vector"], dtype=np.float32).ravel()
            values.append((row["paper_id"], row["model"], int(vector.shape[0]), vector.tobytes(), row["content_hash"]))
        with self.db.transaction():
            self.db.conn.executemany(
                # REPLACE gives a changed vector a new rowid, so indexes that sync by rowid pick it up
                "INSERT OR REPLACE INTO embeddings (paper_id, model, dim, vector, content_hash) VALUES (?,?,?,?,?)",
                values)
        return len(values)

    def load(self, model: str, ids: Iterable[str] | None = None) -> tuple[list[str], np.ndarray]:
        """(paper ids, float32 matrix with one row per id) for vectors made by `model`."""
        import numpy as np

        rows = self.db.conn.execute("SELECT paper_id, dim, vector FROM embeddings WHERE model = ? ORDER BY paper_id",
                                    (model,)).fetchall()
        if ids is not None:
            wanted = set(ids)
            rows = [r for r in rows if r["paper_id"] in wanted]
        if not rows:
            return [], np.zeros((0, 0), dtype=np.float32)
        matrix = np.stack([np.frombuffer(r["vector"], dtype=np.float32, count=r["dim"]) for r in rows])
        return [r["paper_id"] for r in rows], matrix
