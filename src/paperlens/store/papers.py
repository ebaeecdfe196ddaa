"""Reading papers: by any form of id, in batches, as light rows for result lists, filtered for search,
through the full-text index; and the counts `paperlens stats` shows."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from paperlens.core.clean import slugify
from paperlens.core.ids import parse_any_id
from paperlens.store.connection import Database, scalar
from paperlens.store.rows import PaperView, chunks, load, view

if TYPE_CHECKING:  # the pydantic models are imported where papers are built, not with this module
    from paperlens.core.models import Paper


T = TypeVar("T")


class Filters(Protocol):
    """What the store reads of a paperlens.search.hybrid.SearchFilters (`language` is optional)."""

    topic: str | None
    year_from: int | None
    year_to: int | None
    venue: str | None
    category: str | None
    author: str | None
    has_code: bool | None


class PaperReader:
    def __init__(self, db: Database):
        self.db = db

    def resolve_id(self, pid: str) -> str | None:
        """The stored id of a paper named by any form of an id: its own id or an alias, an arXiv id
        with or without prefix, version or URL, an OpenReview URL, a DOI in any case or as a URL
        (ids.parse_any_id)."""
        conn = self.db.conn
        for key in parse_any_id(pid):
            row = conn.execute("SELECT id FROM papers WHERE id = ?", (key,)).fetchone()
            if row:
                return str(row[0])
            row = conn.execute("SELECT paper_id FROM paper_keys WHERE key = ?", (key,)).fetchone()
            if row:
                return str(row[0])
        return None

    def get(self, pid: str) -> Paper | None:
        real = self.resolve_id(pid)
        if real is None:
            return None
        row = self.db.conn.execute("SELECT data FROM papers WHERE id = ?", (real,)).fetchone()
        return load(row[0]) if row else None

    def provenance(self, pid: str) -> dict[str, Any]:
        row = self.db.conn.execute("SELECT provenance FROM papers WHERE id = ?", (pid,)).fetchone()
        return json.loads(row[0]) if row else {}

    def count(self) -> int:
        return int(scalar(self.db.conn, "SELECT count(*) FROM papers"))

    def iter_papers(self, batch: int = 1000) -> Iterator[Paper]:
        """Every paper, in rowid order, read a batch at a time."""
        last = 0
        while True:
            rows = self.db.conn.execute("SELECT rowid, data FROM papers WHERE rowid > ? ORDER BY rowid LIMIT ?",
                                        (last, batch)).fetchall()
            if not rows:
                return
            for row in rows:
                yield load(row["data"])
            last = rows[-1]["rowid"]

    def views(self, ids: list[str]) -> list[PaperView]:
        """What result lists show of these papers (rows.PaperView), in the order of `ids`; missing ones left out."""
        return self._decoded(ids, view)

    def get_many(self, ids: list[str]) -> list[Paper]:
        return self._decoded(ids, load)

    def _decoded(self, ids: list[str], decode: Callable[[str], T]) -> list[T]:
        """`decode(papers.data)` of these papers, in the order of `ids`; missing ones left out."""
        out: list[T] = []
        for chunk in chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            rows = {r[0]: r[1] for r in self.db.conn.execute(f"SELECT id, data FROM papers WHERE id IN ({marks})",
                                                             chunk)}
            out += [decode(rows[i]) for i in chunk if i in rows]
        return out

    def rowid_ids(self, rowids: list[int]) -> dict[int, str]:
        out: dict[int, str] = {}
        for chunk in chunks(rowids, 500):
            marks = ",".join("?" * len(chunk))
            out.update((r[0], r[1]) for r in self.db.conn.execute(
                f"SELECT rowid, id FROM papers WHERE rowid IN ({marks})", chunk))
        return out

    def paper_rows(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """Light rows for result lists: title, abstract, year, topic label, authors."""
        out: dict[str, dict[str, Any]] = {}
        for chunk in chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            for row in self.db.conn.execute(
                f"SELECT id, title, year, topic_label, json_extract(data, '$.abstract') AS abstract, "
                f"json_extract(data, '$.authors') AS authors FROM papers WHERE id IN ({marks})", chunk):
                item = dict(row)
                item["authors"] = json.loads(item["authors"] or "[]")
                out[row["id"]] = item
        return out

    def fts_search(self, expression: str, limit: int, filters: Filters | None = None) -> list[tuple[str, float]]:
        """(paper id, bm25 score) for an FTS5 expression built by paperlens.search.hybrid (quoted terms only).
        Title matches weigh most, then keywords, authors and abstract."""
        where, params = filter_sql(filters) if filters is not None else ("1", [])
        rows = self.db.conn.execute(
            "SELECT p.id, bm25(papers_fts, 8.0, 1.0, 4.0, 2.0) AS score FROM papers_fts "
            f"JOIN papers p ON p.rowid = papers_fts.rowid WHERE papers_fts MATCH ? AND {where} "
            "ORDER BY score LIMIT ?",
            (expression, *params, limit),
        ).fetchall()
        return [(r[0], -float(r[1])) for r in rows]

    def filter_ids(self, ids: list[str], filters: Filters) -> set[str]:
        """The subset of ids that pass a paperlens.search.hybrid.SearchFilters."""
        where, params = filter_sql(filters)
        allowed: set[str] = set()
        for chunk in chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            allowed.update(r[0] for r in self.db.conn.execute(
                f"SELECT p.id FROM papers p WHERE p.id IN ({marks}) AND {where}", [*chunk, *params]))
        return allowed

    def stats(self) -> dict[str, Any]:
        """Papers by source, topic and year, and enrichment records by step and status."""
        conn = self.db.conn
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


def filter_sql(filters: Filters) -> tuple[str, list[Any]]:
    """SQL over `papers p` for a paperlens.search.hybrid.SearchFilters; values are always bound parameters."""
    clauses: list[str] = []
    params: list[Any] = []
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
        clauses.append("instr(lower(p.venue), ?) > 0")  # contains, as text: in LIKE '_' and '%' matched any venue
        params.append(filters.venue.lower())
    if filters.category:
        clauses.append("EXISTS (SELECT 1 FROM json_each(p.data, '$.categories') WHERE value = ?)")
        params.append(filters.category)
    if filters.author:
        clauses.append("EXISTS (SELECT 1 FROM paper_authors a WHERE a.paper_id = p.id AND a.slug = ?)")
        params.append(slugify(filters.author))
    if filters.has_code is not None:
        clauses.append("p.has_code = ?")
        params.append(int(filters.has_code))
    language = getattr(filters, "language", None)
    if language:
        clauses.append("p.language = ?")
        params.append(language)
    return " AND ".join(clauses) or "1", params
