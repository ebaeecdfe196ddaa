"""Ingest: papers written in batches, each record merged with what is already known of it. New papers go
in with a few executemany calls per batch; a record one of whose keys is known takes the one-at-a-time
merge (core.merge decides), and suspect merges of older versions are split as their records come back."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from paperlens.core.clean import short_hash, slugify
from paperlens.core.ids import record_keys
from paperlens.core.merge import (
    SAME_RECORD,
    Decision,
    decide,
    distinct_records,
    initial_provenance,
    merge_papers,
    source_label,
    split_id,
    surnames,
)
from paperlens.store import connection, suspects
from paperlens.store.changes import bump_write_generation
from paperlens.store.connection import Database
from paperlens.store.keys import add_keys, existing_keys, holder, key_holders, rekey
from paperlens.store.rows import (
    IngestResult,
    PreparedPaper,
    data_json,
    explain_merge,
    fts_text,
    keyword_norm,
    load,
    paper_row,
    prepare,
    provenance_json,
)

if TYPE_CHECKING:  # the pydantic models are imported where papers are built, not with this module
    from paperlens.core.models import Paper

OnBatch = Callable[[IngestResult], None]


class PaperWriter:
    """The papers, their keys, authors, keywords and full-text rows, as ingest writes them."""

    def __init__(self, db: Database):
        self.db = db

    def ingest(self, papers: Iterable[Paper], batch_size: int = 500, on_batch: OnBatch | None = None) -> IngestResult:
        """Store papers, merging each with what is already known of it. One transaction per batch:
        an interrupted ingest keeps whole batches only, and a rerun completes it."""
        return self.ingest_prepared((prepare(paper) for paper in papers), batch_size, on_batch)

    def ingest_prepared(self, items: Iterable[PreparedPaper], batch_size: int = 500,
                        on_batch: OnBatch | None = None) -> IngestResult:
        """`ingest` for papers already turned into rows by `prepare` (possibly in another process)."""
        total = IngestResult()
        batch: list[PreparedPaper] = []
        suspects.begin_ingest(self.db)
        try:
            with self.db.bulk_writing():
                for item in items:
                    batch.append(item)
                    if len(batch) >= batch_size:
                        total.add(self._ingest_batch(batch, on_batch))
                        batch = []
                if batch:
                    total.add(self._ingest_batch(batch, on_batch))
        finally:
            suspects.end_ingest(self.db)
        return total

    def _ingest_batch(self, batch: list[PreparedPaper], on_batch: OnBatch | None) -> IngestResult:
        """Papers none of whose keys is known yet are inserted together (a few executemany calls per
        batch); a paper that matches a stored one, or one earlier in the batch, goes through the
        one-at-a-time merge, after the pending inserts are written so it can find them."""
        db, local = self.db, self.db.local
        result = IngestResult()
        now = connection.utcnow()
        with db.transaction():
            known = existing_keys(db, {key for item in batch for key in item.keys})
            local.written_keys = known
            pending: list[PreparedPaper] = []
            try:
                for item in batch:
                    if any(key in known for key in item.keys):
                        self._insert_many(pending, now)
                        pending = []
                        paper = item.paper or load(item.row[0])
                        outcome, pid = self._ingest_one(paper, now, list(item.keys))
                    else:
                        pending.append(item)
                        known.update(item.keys)
                        outcome, pid = "new", item.id
                    setattr(result, outcome, getattr(result, outcome) + 1)
                    result.ids.append(pid)
                    if local.suspect_refs:  # only while some suspect merge waits for its records
                        suspects.note_reread(db, item, pid)
                self._insert_many(pending, now)
                if local.reread:
                    suspects.settle(db, now)
            finally:
                local.written_keys = None
        if on_batch:
            on_batch(result)
        return result

    def _insert_many(self, pending: list[PreparedPaper], now: str) -> None:
        """Insert new papers (none matches anything stored) with explicit rowids, so their FTS rows,
        authors, keywords and keys go in with one executemany each."""
        if not pending:
            return
        conn = self.db.conn
        first = conn.execute("SELECT coalesce(max(rowid), 0) + 1 FROM papers").fetchone()[0]
        papers: list[tuple[Any, ...]] = []
        authors: list[tuple[str, int, str, str]] = []
        keywords: list[tuple[str, str, str]] = []
        fts: list[tuple[Any, ...]] = []
        keys: list[tuple[str, str]] = []
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
        bump_write_generation(conn)  # once for the statement: papers has no INSERT trigger (migration 8)
        conn.executemany("INSERT INTO paper_authors VALUES (?,?,?,?)", authors)
        conn.executemany("INSERT OR IGNORE INTO paper_keywords (paper_id, keyword, norm, origin) VALUES (?,?,?, 'source')",
                         keywords)
        conn.executemany("INSERT INTO papers_fts (rowid, title, abstract, keywords, authors) VALUES (?,?,?,?,?)", fts)
        conn.executemany("INSERT OR IGNORE INTO paper_keys VALUES (?, ?)", keys)

    def _candidates(self, keys: list[str]) -> tuple[list[tuple[str, list[str]]], dict[str, str]]:
        """Stored papers any of `keys` finds, each with the keys that found it, in the order of their
        strongest key (keys come strongest first); and the key -> paper map."""
        if not keys:
            return [], {}
        found = key_holders(self.db, keys)
        by_paper: dict[str, list[str]] = {}
        for key in keys:
            if key in found:
                by_paper.setdefault(found[key], []).append(key)
        return list(by_paper.items()), found

    def _ingest_one(self, paper: Paper, now: str, keys: list[str] | None = None) -> tuple[str, str]:
        """The slow path: a record one of whose keys is known. It merges into the first paper it found
        that passes merge.decide (conflicting ids, or a title alone without year and author, never
        merge); else it is stored as a paper of its own, with a note of what it was kept apart from."""
        db = self.db
        keys = list(record_keys(paper) if keys is None else keys)
        split = split_id(paper)
        # a split id another record holds (a file of the same name elsewhere, the same line and key): the
        # next of the chain; each held one is looked at like the first
        chain = [split]
        while holder(db, chain[-1]) is not None and len(chain) < 100:
            chain.append("h:" + short_hash("apart", split, str(len(chain))))
        apart = apart_keys(paper, keys)
        candidates, found = self._candidates([*chain, *keys, *apart])
        refused: list[tuple[str, Decision]] = []
        skip = getattr(db.local, "skip_ids", None) or ()
        for existing_id, matched in candidates:
            if existing_id in skip:  # a suspect merge being split (see suspects.flag_suspect_merges)
                continue
            row = db.conn.execute("SELECT rowid, data, provenance FROM papers WHERE id = ?",
                                  (existing_id,)).fetchone()
            if row is None:
                continue
            old = load(row["data"])
            matched = [k for k in matched if k not in chain] or matched
            matched = list(dict.fromkeys(k.split(APART, 1)[0] for k in matched))
            decision = decide(old, paper, matched)
            if decision.rule == SAME_RECORD and distinct_records(old) > 1:
                # read again, one of several: does it still belong there by today's rules?
                check = decide(old, paper, matched, same_record=False)
                if not check.merge:
                    suspects.flag(db, old, f"{source_label(paper)} read again does not belong: {check.rule}")
                    suspects.note_ref(db, existing_id, paper, None)
                    refused.append((existing_id, check))
                    continue
            if not decision.merge:
                refused.append((existing_id, decision))
                continue
            # a paper kept apart from the holder of a title key is found again by its title and authors
            held_apart = any(found.get(k) not in (None, existing_id) for k in keys if k.startswith("title:"))
            return self._merge_into(row, old, paper, [*keys, *apart] if held_apart else keys, decision, now)
        if refused:
            keys = [*keys, *apart]
        if paper.id in found or split in found:  # its natural id belongs to a paper it was kept apart from
            free = chain[-1]
            paper = paper.model_copy(update={"id": free})
            keys = [free, *keys]
        provenance: dict[str, Any] = initial_provenance(paper)
        if refused:
            provenance["kept_apart"] = [{"from": pid, "rule": d.rule, "matched": list(d.matched)}
                                        for pid, d in refused]
        self._insert(paper, provenance, keys, now)
        return "new", paper.id

    def _merge_into(self, row: sqlite3.Row, old: Paper, paper: Paper, keys: list[str], decision: Decision,
                    now: str) -> tuple[str, str]:
        db = self.db
        provenance = json.loads(row["provenance"])
        merged = merge_papers(old, paper, provenance)
        if merged.id != old.id:
            held_by = holder(db, merged.id)
            if held_by is not None and held_by != old.id:  # that id is another paper's: keep this one's
                merged.id = old.id
        if merged.model_dump(exclude={"sources"}) == old.model_dump(exclude={"sources"}):
            if merged.sources != old.sources:  # another copy adds nothing: it is cited, the paper is unchanged
                explain_merge(provenance, paper, decision)
                db.conn.execute("UPDATE papers SET data = ?, provenance = ? WHERE rowid = ?",
                                (data_json(merged), provenance_json(provenance), row["rowid"]))
            add_keys(db, keys, old.id)
            return "unchanged", old.id
        if merged.id != old.id:
            rekey(db, old.id, merged.id)
        explain_merge(provenance, paper, decision)
        self._write(row["rowid"], merged, provenance, now, old=old)
        # keys an other paper holds stay its own (INSERT OR IGNORE)
        add_keys(db, keys + record_keys(merged) + [old.id], merged.id)
        return "merged", merged.id

    def _insert(self, paper: Paper, provenance: dict[str, Any], keys: list[str], now: str) -> None:
        cur = self.db.conn.execute(
            "INSERT INTO papers (id, data, provenance, content_hash, added_at, updated_at) VALUES (?,?,?,?,?,?)",
            (paper.id, "{}", "{}", "", now, now),
        )
        assert cur.lastrowid is not None
        bump_write_generation(self.db.conn)  # papers has no INSERT trigger (migration 8)
        self._write(cur.lastrowid, paper, provenance, now, fresh=True)
        add_keys(self.db, keys, paper.id)

    def _write(self, rowid: int, paper: Paper, provenance: dict[str, Any], now: str, fresh: bool = False,
               old: Paper | None = None) -> None:
        """Write `paper` over row `rowid`; `old` is what the row held (its FTS entry is taken out)."""
        conn = self.db.conn
        conn.execute(
            """UPDATE papers SET id=?, data=?, provenance=?, content_hash=?, title=?, year=?, date=?, language=?,
               venue=?, topic_area=?, topic_label=?, has_code=?, updated_at=? WHERE rowid=?""",
            (paper.id, *paper_row(paper, provenance), now, rowid),
        )
        if not fresh:
            if old is None:
                raise ValueError("rewriting a stored paper needs what it held")
            conn.execute("DELETE FROM paper_authors WHERE paper_id = ?", (paper.id,))
            conn.execute("DELETE FROM paper_keywords WHERE paper_id = ? AND origin = 'source'", (paper.id,))
            # The index keeps no copy of the text (contentless): taking a row out needs the values it went in with.
            conn.execute("INSERT INTO papers_fts (papers_fts, rowid, title, abstract, keywords, authors) "
                         "VALUES ('delete', ?, ?, ?, ?, ?)", (rowid, *fts_text(old)))
        conn.executemany(
            "INSERT INTO paper_authors (paper_id, position, name, slug) VALUES (?,?,?,?)",
            [(paper.id, i, name, slugify(name)) for i, name in enumerate(paper.authors)],
        )
        conn.executemany(
            "INSERT OR IGNORE INTO paper_keywords (paper_id, keyword, norm, origin) VALUES (?,?,?, 'source')",
            [(paper.id, kw, keyword_norm(kw)) for kw in paper.keywords],
        )
        conn.execute("INSERT INTO papers_fts (rowid, title, abstract, keywords, authors) VALUES (?,?,?,?,?)",
                     (rowid, *fts_text(paper)))


APART = "|apart:"


def apart_keys(paper: Paper, keys: list[str]) -> list[str]:
    """Keys a record kept apart from the holder of its title key is stored under: that key with each
    author's surname. Without them the title key found only its first holder, and every later record of
    a paper kept apart from it ("An amazing title" by Baltazar, after one by Aimar) was stored again."""
    titles = [k for k in keys if k.startswith("title:")]
    return [f"{k}{APART}{name}" for k in titles for name in sorted(surnames(paper.authors))]
