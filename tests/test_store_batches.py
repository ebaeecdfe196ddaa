"""Batched ingest (new papers inserted together) stores exactly what one-paper-at-a-time ingest stores,
including duplicates inside one batch."""

from __future__ import annotations

import json

from paperlens.ingest.pipeline import ingest_paths
from paperlens.store import Store

from .conftest import FIXTURES, SAMPLE


def tables(store: Store) -> dict[str, list]:
    conn = store.conn
    # The full-text index keeps no copy of the text: compare what it indexed, term by term and position.
    conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_terms USING fts5vocab(main, papers_fts, 'instance')")
    return {
        "papers": conn.execute("SELECT rowid, id, data, provenance, content_hash, title, year, date, language, venue, "
                               "topic_area, topic_label, has_code FROM papers ORDER BY rowid").fetchall(),
        "keys": conn.execute("SELECT key, paper_id FROM paper_keys ORDER BY key").fetchall(),
        "authors": conn.execute("SELECT * FROM paper_authors ORDER BY paper_id, position").fetchall(),
        "keywords": conn.execute("SELECT * FROM paper_keywords ORDER BY paper_id, norm, origin").fetchall(),
        "fts": conn.execute("SELECT term, doc, col, offset FROM temp.fts_terms ORDER BY 1, 2, 3, 4").fetchall(),
    }


def test_batched_ingest_equals_one_at_a_time(tmp_path):
    records = [json.loads(x) for x in (FIXTURES / "arxiv_snapshot.jsonl").read_text().splitlines()]
    changed = dict(records[0], title=records[0]["title"] + " (extended version)", doi=None)
    dup = tmp_path / "dups.jsonl"  # the same papers twice in one batch, one of them reworded
    dup.write_text("".join(json.dumps(r) + "\n" for r in [*records, changed, records[1], records[2]]))
    seeds = [p for p in sorted(SAMPLE.glob("*.txt")) if not p.name.startswith("002")]  # 002 only adds time
    paths = [*seeds, dup, FIXTURES / "papers.bib", FIXTURES / "iclr_papers.csv"]
    one, many, child = Store(tmp_path / "one.db"), Store(tmp_path / "many.db"), Store(tmp_path / "child.db")
    report_one = ingest_paths(one, paths, batch_size=1, parallel=False)
    report_many = ingest_paths(many, paths, batch_size=500, parallel=False)
    # parsed in a second process, as big files are
    report_child = ingest_paths(child, paths, batch_size=7, parallel=True)
    counts = [(r.new, r.merged, r.unchanged, r.rejected) for r in (report_one, report_many, report_child)]
    assert counts[0] == counts[1] == counts[2], counts
    assert report_many.merged + report_many.unchanged >= 4
    assert tables(one) == tables(many) == tables(child)
    assert tables(one)["fts"]
    for store in (one, many, child):
        assert store.integrity_check() == "ok"
    merged = many.get("arxiv:2406.11111")
    assert merged.title.endswith("(extended version)") and len(merged.sources) == 3


def test_bulk_fts_setting_leaves_no_trace(tmp_path):
    """Ingest raises the full-text index's pending-data size while it writes; the file keeps none of it."""
    fresh, used = Store(tmp_path / "fresh.db"), Store(tmp_path / "used.db")
    seen = []
    ingest_paths(used, [FIXTURES / "arxiv_snapshot.jsonl"], parallel=False,
                 on_batch=lambda _: seen.append(used.conn.execute(
                     "SELECT v FROM papers_fts_config WHERE k = 'hashsize'").fetchone()))
    assert seen and all(row is not None and row[0] > 1 << 20 for row in seen)  # set while writing
    config = "SELECT k, v FROM papers_fts_config ORDER BY k"
    assert used.conn.execute(config).fetchall() == fresh.conn.execute(config).fetchall()
    assert used.integrity_check() == "ok"


def test_new_database_pages(tmp_path):
    """A new file gets the store's page size; one made before keeps its own."""
    import sqlite3

    from paperlens.store.connection import PAGE_BYTES

    assert Store(tmp_path / "new.db").conn.execute("PRAGMA page_size").fetchone()[0] == PAGE_BYTES
    old = sqlite3.connect(tmp_path / "old.db")
    old.execute("PRAGMA page_size=4096")
    old.execute("CREATE TABLE t (x)")
    old.close()
    assert Store(tmp_path / "old.db").conn.execute("PRAGMA page_size").fetchone()[0] == 4096
