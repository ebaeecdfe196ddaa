"""Merges older versions made wrongly (the merge_suspects table, migration 5): flagging them, noting
which of their records an ingest reads again, and splitting a suspect once every record was, with the
heirs taking over its keys and enrichments. The per-ingest state lives in `db.local`:
suspect_refs (record key -> suspect id), skip_ids (suspects no record may merge into), reread."""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING, Any

from paperlens.core.ids import EMPTY_HASH_ID, paper_id, record_keys, record_origin
from paperlens.core.merge import ref_key
from paperlens.store import connection
from paperlens.store.connection import Database, scalar
from paperlens.store.keys import add_keys, drop_key, holder, rekey
from paperlens.store.rows import PreparedPaper, data_json, fts_text, load, provenance_json

if TYPE_CHECKING:  # the pydantic models are imported where papers are built, not with this module
    from paperlens.core.models import Paper, SourceRef

# what refers to a paper, and goes with it when it is removed
_PAPER_TABLES = ("paper_keys", "paper_authors", "paper_keywords", "enrichments", "embeddings", "llm_cache")


def _source_ref(data: dict[str, Any]) -> SourceRef:
    from paperlens.core.models import SourceRef

    return SourceRef.model_validate(data)


def _ref_text(ref: SourceRef) -> str:
    return "\x1f".join(map(str, ref_key(ref)))


def natural_id(paper: Paper) -> str:
    """The id a paper's own data gives it, from its first record."""
    ref = paper.sources[0] if paper.sources else None
    origin = record_origin(ref.source, ref.path, ref.line, ref.source_id) if ref else ""
    return paper_id(paper.arxiv_id, paper.doi, paper.openreview_id, paper.title, paper.abstract,
                    authors=paper.authors, year=paper.year, venue=paper.venue, origin=origin)


def flag_suspect_merges(db: Database) -> int:
    """Migration 5: the paper that holds the id of empty content (EMPTY_HASH_ID; old versions gave it
    to every record with no id, no title key and no abstract, so unrelated papers merged into it).
    Of one record only, its id is derived again from what it has (the stored data is the record);
    of several, it is flagged in merge_suspects with its records, for ingest to split (see
    settle). Index lookups only. Returns the number of papers flagged."""
    conn = db.conn
    row = conn.execute("SELECT p.rowid, p.id, p.data FROM paper_keys k JOIN papers p ON p.id = k.paper_id "
                       "WHERE k.key = ?", (EMPTY_HASH_ID,)).fetchone()
    if row is None:
        return 0
    paper = load(row["data"])
    refs = list({ref_key(r): r for r in paper.sources}.values())
    if len(refs) > 1:
        flag(db, paper, f"merged by an id of empty content ({EMPTY_HASH_ID}) from {len(refs)} records")
        return 1
    drop_key(db, EMPTY_HASH_ID)
    if paper.id == EMPTY_HASH_ID:
        ref = refs[0] if refs else None
        origin = record_origin(ref.source, ref.path, ref.line, ref.source_id) if ref else ""
        new_id = paper_id(paper.arxiv_id, paper.doi, paper.openreview_id, paper.title, paper.abstract,
                          authors=paper.authors, year=paper.year, venue=paper.venue, origin=origin)
        conn.execute("UPDATE papers SET id = ?, data = json_set(data, '$.id', ?) WHERE rowid = ?",
                     (new_id, new_id, row["rowid"]))
        rekey(db, paper.id, new_id)
        conn.execute("INSERT OR IGNORE INTO paper_keys VALUES (?, ?)", (new_id, new_id))
    return 0


def flag(db: Database, paper: Paper, reason: str) -> None:
    """Note a paper as a wrong merge of its records, to be split when they are all read again."""
    local = db.local
    refs = list({ref_key(r): r for r in paper.sources}.values())
    # one open entry per paper (the partial unique index); a paper flagged again later gets a new one
    db.conn.execute("INSERT OR IGNORE INTO merge_suspects (paper_id, reason, sources, flagged_at) "
                    "VALUES (?, ?, ?, ?)",
                    (paper.id, reason, json.dumps([r.model_dump(exclude_none=True) for r in refs],
                                                  ensure_ascii=False), connection.utcnow()))
    if getattr(local, "reread", None) is None:  # flagged outside an ingest (the migration)
        return
    if local.suspect_refs is None:
        local.suspect_refs, local.skip_ids = {}, set()
    local.suspect_refs.update({ref_key(r): paper.id for r in refs})
    local.skip_ids.add(paper.id)


def note_ref(db: Database, suspect: str, paper: Paper, pid: str | None) -> None:
    """Note `paper`'s records as read again for `suspect` (stored as `pid`, or None: not stored apart)."""
    for ref in paper.sources:
        db.local.reread.setdefault(suspect, {})[_ref_text(ref)] = pid


def begin_ingest(db: Database) -> None:
    """Load the records of unresolved suspect merges, for this ingest (nothing when there are none)."""
    refs: dict[tuple[Any, ...], str] = {}
    # (a store opened by an older schema, as tests of old versions do, has no such table: no suspects)
    if db.has_table("merge_suspects"):
        for pid, sources in db.conn.execute(
                "SELECT paper_id, sources FROM merge_suspects WHERE resolved_at IS NULL"):
            for ref in json.loads(sources):
                refs[ref_key(_source_ref(ref))] = pid
    local = db.local
    local.suspect_refs = refs or None
    local.skip_ids = set(refs.values()) or None
    local.reread = {}


def end_ingest(db: Database) -> None:
    db.local.suspect_refs = db.local.skip_ids = db.local.reread = None


def note_reread(db: Database, item: PreparedPaper, pid: str) -> None:
    """While some suspect merge waits for its records: note those of `item` (stored as `pid`)."""
    suspects = db.local.suspect_refs
    paper = item.paper or load(item.row[0])
    for ref in paper.sources:
        suspect = suspects.get(ref_key(ref))
        if suspect is not None:
            db.local.reread.setdefault(suspect, {})[_ref_text(ref)] = pid


def settle(db: Database, now: str) -> None:
    """Record which records of each suspect were read again; a suspect all of whose records were is
    removed (its records are now papers of their own), and they take over the keys it held."""
    conn = db.conn
    local = db.local
    for suspect, seen in local.reread.items():
        row = conn.execute("SELECT sources, reread FROM merge_suspects WHERE paper_id = ? AND resolved_at IS NULL",
                           (suspect,)).fetchone()
        if row is None:
            continue
        reread = json.loads(row["reread"])
        reread.update({ref: pid for ref, pid in seen.items() if pid or ref not in reread})
        wanted = {_ref_text(_source_ref(r)) for r in json.loads(row["sources"])}
        done = wanted <= set(reread)
        conn.execute("UPDATE merge_suspects SET reread = ?, resolved_at = ? WHERE paper_id = ? "
                     "AND resolved_at IS NULL", (json.dumps(reread, ensure_ascii=False), now if done else None,
                                                 suspect))
        if not done:
            continue
        gone = conn.execute("SELECT content_hash FROM papers WHERE id = ?", (suspect,)).fetchone()
        heirs = []
        for pid in sorted({pid for pid in reread.values() if pid}):
            held_by = holder(db, pid)
            if held_by is not None and held_by != suspect:  # merged or re-keyed since: the holder now
                heirs.append(held_by)
        if gone is not None:  # enrichments of the same text go to the paper that has it now
            same = [r[0] for r in conn.execute(
                f"SELECT id FROM papers WHERE content_hash = ? AND id IN ({','.join('?' * len(heirs))})",
                (gone[0], *heirs))] if heirs else []
            if same:
                for table in ("enrichments", "embeddings"):
                    conn.execute(f"UPDATE OR IGNORE {table} SET paper_id = ? WHERE paper_id = ?", (same[0], suspect))
        remove_paper(db, suspect)
        local.skip_ids.discard(suspect)
        for pid in dict.fromkeys(heirs):
            _take_over(db, pid, suspect, now)
    local.reread = {}


def _take_over(db: Database, pid: str, suspect: str, now: str) -> None:
    """A paper split from a removed suspect: it takes its natural id if that is free now, and the keys
    the suspect held."""
    conn = db.conn
    row = conn.execute("SELECT rowid, data, provenance FROM papers WHERE id = ?", (pid,)).fetchone()
    if row is None:
        return
    paper = load(row["data"])
    provenance = json.loads(row["provenance"])
    provenance["split_from"] = suspect
    natural = natural_id(paper)
    if natural != pid and holder(db, natural) is None:
        rekey(db, pid, natural)
        paper.id = natural
    conn.execute("UPDATE papers SET id = ?, data = ?, provenance = ?, updated_at = ? WHERE rowid = ?",
                 (paper.id, data_json(paper), provenance_json(provenance), now, row["rowid"]))
    add_keys(db, [*record_keys(paper), pid], paper.id)


def remove_paper(db: Database, pid: str) -> None:
    """Take a paper out with everything that refers to it (only a resolved suspect merge is)."""
    conn = db.conn
    row = conn.execute("SELECT rowid, data FROM papers WHERE id = ?", (pid,)).fetchone()
    if row is None:
        return
    conn.execute("INSERT INTO papers_fts (papers_fts, rowid, title, abstract, keywords, authors) "
                 "VALUES ('delete', ?, ?, ?, ?, ?)", (row["rowid"], *fts_text(load(row["data"]))))
    for table in _PAPER_TABLES:
        conn.execute(f"DELETE FROM {table} WHERE paper_id = ?", (pid,))
    conn.execute("DELETE FROM papers WHERE rowid = ?", (row["rowid"],))


def merge_notes(db: Database, pid: str, provenance: dict[str, Any]) -> dict[str, Any]:
    """How a paper came to be: the merges that made it (record, keys matched, rule), the papers a
    record was kept apart from and why, the suspect merge it was split from or is."""
    notes: dict[str, Any] = {key: provenance[key] for key in ("merges", "kept_apart", "split_from")
                             if key in provenance}
    row = db.conn.execute("SELECT reason, sources, reread FROM merge_suspects WHERE paper_id = ? "
                          "AND resolved_at IS NULL", (pid,)).fetchone()
    if row is not None:
        notes["suspect"] = {"reason": row["reason"], "sources": json.loads(row["sources"]),
                            "reread": len(json.loads(row["reread"]))}
    return notes


def open_count(db: Database) -> int:
    return int(scalar(db.conn, "SELECT count(*) FROM merge_suspects WHERE resolved_at IS NULL"))


def removals(db: Database) -> int:
    """How many papers were ever removed (split suspect merges); 0 on a database before migration 5."""
    try:
        return int(scalar(db.conn, "SELECT count(*) FROM merge_suspects WHERE resolved_at IS NOT NULL"))
    except sqlite3.OperationalError:  # opened read-only before migration 5 ran
        return 0
