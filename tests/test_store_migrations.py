"""A database of the oldest schema (migration 1 only), with data in it as that schema held it, opened by
today's Store: every migration runs over real rows, nothing is lost, and what the later migrations added
(the LLM ledger, the contentless full-text index, the updated_at indexes, merge_suspects, the write
generation) works on it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np

from paperlens.core.clean import slugify
from paperlens.core.ids import EMPTY_HASH_ID
from paperlens.core.models import Paper, SourceRef, Topic
from paperlens.search.hybrid import HybridSearcher
from paperlens.store import Store
from paperlens.store.migrations import MIGRATIONS, statements

OLD = "2025-06-01T00:00:00Z"


def _papers() -> list[Paper]:
    walrus = Paper(
        id="arxiv:2401.00001", arxiv_id="2401.00001", doi="10.1234/walrus.1", title="Walrus tusk growth rings",
        abstract="We count growth rings in walrus tusks to date Arctic haul-outs.",
        abstract_raw="We count growth rings in walrus tusks to date \\emph{Arctic} haul-outs.",
        authors=["Ada Lovelace", "Émile Borel"], year=2024, date="2024-01-02", venue="Polar Biology",
        keywords=["walrus", "growth rings"], topic=Topic(area="Biology", label="Marine mammals"),
        code_url="https://example.org/walrus", categories=["q-bio.PE"],
        sources=[SourceRef(source="arxiv", path="a.jsonl", line=1)])
    penguin = Paper(
        id="doi:10.5555/penguin", doi="10.5555/penguin", title="Penguin huddles in the Antarctic wind",
        abstract="Emperor penguins huddle; we model the huddle as a fluid.", authors=["Bo Chen"], year=2023,
        language="en", sources=[SourceRef(source="bibtex", path="b.bib", line=3, source_id="chen23")])
    # what versions before migration 5 made of two unrelated records with no id, title key or abstract
    merged = Paper(
        id=EMPTY_HASH_ID, title="Fast R-CNN", authors=["Ross Girshick"], year=2015,
        sources=[SourceRef(source="bibtex", path="c.bib", line=1, source_id="deepblue"),
                 SourceRef(source="bibtex", path="c.bib", line=2, source_id="fastrcnn")])
    return [walrus, penguin, merged]


def oldest_database(path: Path, papers: list[Paper]) -> None:
    """Migration 1's schema, made with its own SQL, and rows written as that schema held them: the paper
    JSON, provenance, the key/author/keyword tables, a full-text row holding its own copy of the text,
    enrichment records and an embedding."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)")
    for statement in statements(MIGRATIONS[0][1]):
        conn.execute(statement)
    conn.execute("INSERT INTO schema_migrations VALUES (1, ?)", (OLD,))
    for rowid, paper in enumerate(papers, start=1):
        provenance = {"title": f"{paper.sources[0].source} {paper.sources[0].path}:{paper.sources[0].line}"}
        conn.execute(
            "INSERT INTO papers (rowid, id, data, provenance, content_hash, title, year, date, language, venue, "
            "topic_area, topic_label, has_code, added_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (rowid, paper.id, paper.model_dump_json(), json.dumps(provenance), paper.content_hash(), paper.title,
             paper.year, paper.date, paper.language, paper.venue, paper.topic.area if paper.topic else None,
             paper.topic.label if paper.topic else None, int(bool(paper.code_url)), OLD, OLD))
        keys = [paper.id] + ([f"doi:{paper.doi}"] if paper.doi and paper.id != f"doi:{paper.doi}" else [])
        conn.executemany("INSERT OR IGNORE INTO paper_keys VALUES (?, ?)", [(k, paper.id) for k in keys])
        conn.executemany("INSERT INTO paper_authors VALUES (?,?,?,?)",
                         [(paper.id, i, a, slugify(a)) for i, a in enumerate(paper.authors)])
        conn.executemany("INSERT INTO paper_keywords VALUES (?,?, 'source', ?)",
                         [(paper.id, kw.lower(), kw) for kw in paper.keywords])
        conn.execute("INSERT INTO papers_fts (rowid, title, abstract, keywords, authors) VALUES (?,?,?,?,?)",
                     (rowid, paper.title, paper.abstract, " ; ".join(paper.keywords), " ; ".join(paper.authors)))
    walrus, penguin = papers[0], papers[1]
    conn.executemany("INSERT INTO enrichments VALUES (?,?,?,?,?,?,?,?,?)", [
        (walrus.id, "topic", "3", walrus.content_hash(), "ok", json.dumps({"label": "Marine mammals"}), None,
         "tfidf", OLD),
        (penguin.id, "topic", "3", penguin.content_hash(), "failed", None, "too short", None, OLD),
    ])
    vector = np.arange(4, dtype="<f4") / 4
    conn.execute("INSERT INTO embeddings VALUES (?, 'mini', 4, ?, ?)", (walrus.id, vector.tobytes(),
                                                                      walrus.content_hash()))
    conn.commit()
    conn.close()


def test_a_database_of_the_oldest_schema_upgrades_through_every_migration_with_its_data(tmp_path):
    db = tmp_path / "oldest.db"
    papers = _papers()
    walrus, penguin, merged = papers
    oldest_database(db, papers)

    store = Store(db)  # runs migrations 2..n
    assert store.schema_version() == len(MIGRATIONS)
    assert [r[0] for r in store.conn.execute("SELECT version FROM schema_migrations ORDER BY 1")] == \
        list(range(1, len(MIGRATIONS) + 1))
    assert store.integrity_check() == "ok"

    # the data survived, field for field
    assert store.count() == 3
    assert store.get(walrus.id) == walrus and store.get(penguin.id) == penguin
    assert store.get("10.1234/WALRUS.1") == walrus  # through paper_keys, a DOI in any case
    assert store.provenance(walrus.id) == {"title": "arxiv a.jsonl:1"}
    assert store.enrichments_for(walrus.id)["topic"]["output"] == {"label": "Marine mammals"}
    assert store.enrichment_done("topic", "3") == {walrus.id: walrus.content_hash()}
    assert store.enrichment_failed("topic", "3") == {penguin.id}
    ids, matrix = store.load_embeddings("mini")
    assert ids == [walrus.id] and matrix.tolist() == [[0.0, 0.25, 0.5, 0.75]]

    # migration 3: the full-text index kept its hits and no longer holds a copy of the text
    assert store.conn.execute("SELECT title FROM papers_fts").fetchone()[0] is None
    assert [pid for pid, _ in store.fts_search('"huddle"', 10)] == [penguin.id]
    assert [pid for pid, _ in store.fts_search('"lovelace"', 10)] == [walrus.id]
    hits = HybridSearcher(store, index_dir=tmp_path / "index").search("walrus tusks", mode="keyword")
    assert hits and hits[0].id == walrus.id

    # migration 5: the paper merged by the id of empty content is flagged, to be split on re-reading
    assert store.suspect_count() == 1
    assert "merged by an id of empty content" in store.merge_notes(EMPTY_HASH_ID)["suspect"]["reason"]

    # migration 4 and after: new writes work on the upgraded file and readers see them
    stamps = store.update_stamps()
    assert stamps == (OLD, OLD)
    longer = walrus.model_copy(update={"title": "Walrus tusk growth rings, with narwhal horns for comparison",
                                       "sources": [SourceRef(source="arxiv", path="new.jsonl", line=1)]})
    fresh = Paper(id="arxiv:2402.00002", arxiv_id="2402.00002", title="Seal pup weaning times",
                  abstract="Grey seal pups are weaned in eighteen days.", authors=["Cy Dorn"], year=2024,
                  sources=[SourceRef(source="arxiv", path="new.jsonl", line=2)])
    generation = store.write_generation()  # migration 7: moves with every write to papers or enrichments
    assert isinstance(generation, int)
    result = store.ingest([longer, fresh])
    assert (result.new, result.merged) == (1, 1) and store.count() == 4
    assert store.write_generation() > generation
    generation = store.write_generation()
    assert [pid for pid, _ in store.fts_search('"narwhal"', 10)] == [walrus.id]
    assert [pid for pid, _ in store.fts_search('"weaned"', 10)] == [fresh.id]
    assert store.get(walrus.id).title == longer.title
    assert store.changed_rowids(*stamps) >= {1, 4}
    store.save_enrichments([{"paper_id": fresh.id, "step": "topic", "version": "3",
                             "content_hash": store.get(fresh.id).content_hash(), "status": "ok",
                             "output": {"label": "Seals"}}])
    assert store.enrichments_for(fresh.id)["topic"]["output"] == {"label": "Seals"}
    assert store.write_generation() > generation
    # migration 2: the LLM cache and usage ledger
    store.llm_record([{"key": "k1", "paper_id": fresh.id, "content_hash": "c", "prompt_version": "1",
                       "model": "m", "lang": "en", "response": {"tldr": "Seals."}, "requests": 1,
                       "input_tokens": 10, "output_tokens": 3, "cost": 0.001, "created_at": OLD}],
                     [{"paper_id": fresh.id, "model": "m", "lang": "en", "kind": "summary", "status": "ok",
                       "input_tokens": 10, "output_tokens": 3, "cost": 0.001}])
    assert store.llm_cache_get(["k1"])["k1"]["response"] == {"tldr": "Seals."}
    assert store.llm_stats()["requests"] == 1 and store.stats()["llm"]["cached_responses"] == 1
    assert store.integrity_check() == "ok"
    store.close()

    # opening it again runs nothing more
    again = Store(db)
    assert again.migrate() == 0 and again.count() == 4
    again.close()


def test_migrations_are_numbered_one_to_n():
    assert [version for version, _ in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))


def test_every_paper_insert_moves_the_write_generation(tmp_path: Path):
    """Papers has no INSERT trigger since migration 8: the bulk path (new papers, one executemany) and the
    one-at-a-time path (a record kept apart from a stored one) each move the generation themselves."""
    store = Store(tmp_path / "g.db")
    triggers = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert "papers_insert_generation" not in triggers and "papers_update_generation" in triggers
    before = store.write_generation()
    first = Paper(id="arxiv:2401.00001", title="Walrus tusk growth rings in the Arctic", abstract="Tusks grow a ring a year.",
                  arxiv_id="2401.00001", authors=["Ann Bell"], year=2024,
                  sources=[SourceRef(source="arxiv", path="a.jsonl", line=1)])
    assert store.ingest([first]).new == 1
    assert store.write_generation() > before
    before = store.write_generation()
    # same title, a conflicting arXiv id: kept apart, inserted by the one-at-a-time path
    other = first.model_copy(update={"id": "arxiv:2401.00002", "arxiv_id": "2401.00002", "abstract": "Seal pups wean fast.",
                                     "sources": [SourceRef(source="arxiv", path="a.jsonl", line=2)]})
    assert store.ingest([other]).new == 1
    assert store.count() == 2 and store.write_generation() > before
    store.close()


def test_bulk_ingest_stores_keywords_in_their_columns(tmp_path):
    """_insert_many gave (paper, keyword, norm) to a table of (paper_id, norm, origin, keyword) by position."""
    import sqlite3

    from paperlens.core.models import Paper
    from paperlens.store import Store

    store = Store(tmp_path / "k.db")
    store.ingest([Paper(id="t:1", title="A title", abstract="An abstract.", keywords=["Deep Learning"])])
    rows = sqlite3.connect(tmp_path / "k.db").execute(
        "SELECT paper_id, keyword, norm, origin FROM paper_keywords").fetchall()
    assert rows == [("t:1", "Deep Learning", "deep learning", "source")]


def test_keyword_rows_the_bulk_insert_wrote_by_position_are_repaired(tmp_path):
    """Migration 9 puts back the rows of databases ingested before the fix: (paper_id, norm, origin, keyword)
    = (p, <keyword>, <norm>, 'source'), and leaves true rows alone, 'source' itself among them."""
    import sqlite3

    from paperlens.core.models import Paper
    from paperlens.store import Store

    db = tmp_path / "k.db"
    store = Store(db)
    store.ingest([Paper(id="t:1", title="A title", abstract="An abstract.", keywords=["source"]),
                  Paper(id="t:2", title="Another title", abstract="Another abstract.", keywords=["Graph Nets"])])
    store.close()
    conn = sqlite3.connect(db)
    with conn:
        # as the bug wrote them; t:2's keyword is also stored correctly (by a later one-at-a-time write), and
        # t:1's "Source" has the norm of its "source", which stays
        conn.executemany("INSERT INTO paper_keywords VALUES (?,?,?, 'source')", [
            ("t:1", "Deep Learning", "deep learning"), ("t:1", "Source", "source"), ("t:2", "Graph Nets", "graph net")])
        conn.execute("DELETE FROM schema_migrations WHERE version = 9")
    conn.close()
    Store(db).close()
    rows = sorted(sqlite3.connect(db).execute("SELECT paper_id, keyword, norm, origin FROM paper_keywords"))
    assert rows == [("t:1", "Deep Learning", "deep learning", "source"), ("t:1", "source", "source", "source"),
                    ("t:2", "Graph Nets", "graph net", "source")]


def test_old_style_arxiv_ids_drop_their_subject_class_and_old_databases_find_them(tmp_path):
    """arXiv's id of 'math.GT/0309136' is 'math/0309136'; before, the subclass stayed in the id and the two
    forms of one paper were two papers. Migration 10 gives papers stored under the old form the canonical key."""
    import sqlite3

    from paperlens.core.ids import normalize_arxiv_id, parse_any_id
    from paperlens.core.models import Paper
    from paperlens.sources import read_records
    from paperlens.store import Store

    assert normalize_arxiv_id("math.GT/0309136") == "math/0309136"
    assert normalize_arxiv_id("arXiv:math.GT/0309136v2") == "math/0309136"
    assert normalize_arxiv_id("https://arxiv.org/abs/hep-th/9901001v1") == "hep-th/9901001"
    assert normalize_arxiv_id("cs.AI/0101001") == normalize_arxiv_id("cs/0101001") == "cs/0101001"
    assert "arxiv:math/0309136" in parse_any_id("arXiv:math.GT/0309136")

    # a fresh database: the two forms are one paper
    bib = tmp_path / "refs.bib"
    bib.write_text("@article{a, title = {Heegaard splittings of knot exteriors}, author = {Doe, Jane}, year = {2003},"
                   " eprint = {math.GT/0309136}, archivePrefix = {arXiv}}\n"
                   "@misc{b, title = {Heegaard splittings of knot exteriors (preprint)}, author = {Doe, Jane},"
                   " year = {2003}, eprint = {math/0309136v2}}\n", encoding="utf-8")
    records = list(read_records(bib))
    assert [r.id for r in records] == ["arxiv:math/0309136"] * 2
    fresh = Store(tmp_path / "fresh.db")
    fresh.ingest(records)
    assert fresh.count() == 1
    fresh.close()

    # a database an older version wrote: the paper under the old form, keyed by it only
    db = tmp_path / "old.db"
    store = Store(db)
    store.ingest([Paper(id="arxiv:math.GT/0309136", arxiv_id="math.GT/0309136", title="Knot exteriors, again",
                        authors=["Jane Doe"], year=2003, abstract="We study Heegaard splittings.")])
    store.close()
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("DELETE FROM paper_keys WHERE key LIKE 'arxiv:math/%'")
        conn.execute("INSERT INTO paper_keys VALUES ('arxiv:Hep-TH.XX/9901001', 'h:other')")
        conn.execute("DELETE FROM schema_migrations WHERE version = 10")
    conn.close()
    store = Store(db)  # runs migration 10
    keys = dict(store.conn.execute("SELECT key, paper_id FROM paper_keys WHERE key LIKE 'arxiv:%'").fetchall())
    assert keys["arxiv:math/0309136"] == keys["arxiv:math.GT/0309136"] == "arxiv:math.GT/0309136"
    assert keys["arxiv:hep-th/9901001"] == "h:other"
    assert store.get("math/0309136").id == "arxiv:math.GT/0309136"
    store.ingest(records)  # the canonical form merges into the stored paper
    assert store.count() == 1
    paper = store.get("arxiv:math/0309136")
    assert paper.id == "arxiv:math.GT/0309136" and [s.source_id for s in paper.sources] == ["a", "b"]


def test_keyword_norms_of_ligatures_are_refolded(tmp_path):
    """Migration 11: rows stored before keyword_norm NFKC-folded ('ﬁne-tuning' -> 'ﬁne tuning') get today's
    norm, so they are one tag with 'fine-tuning'; a paper holding both keeps one row; other rows stay."""
    from paperlens.core.words import keyword_norm

    assert keyword_norm("ﬁne-tuning") == keyword_norm("fine-tuning") == "fine tuning"
    db = tmp_path / "n.db"
    store = Store(db)
    store.ingest([Paper(id="t:1", title="A title", abstract="An abstract.", keywords=["ﬁne-tuning", "Fine-tuning"]),
                  Paper(id="t:2", title="Another title", abstract="Another abstract.", keywords=["ﬁne-tuning", "Graphs"]),
                  Paper(id="t:3", title="A third title", abstract="A third abstract.", keywords=["Café"])])
    store.close()
    conn = sqlite3.connect(db)
    with conn:  # as older versions stored them
        conn.execute("UPDATE paper_keywords SET norm = 'ﬁne tuning' WHERE keyword = 'ﬁne-tuning'")
        conn.execute("DELETE FROM paper_keywords WHERE paper_id = 't:1'")
        conn.executemany("INSERT INTO paper_keywords VALUES ('t:1', ?, 'source', ?)",
                         [("fine tuning", "Fine-tuning"), ("ﬁne tuning", "ﬁne-tuning")])
        conn.execute("DELETE FROM schema_migrations WHERE version = 11")
    before = sorted(conn.execute("SELECT * FROM paper_keywords WHERE keyword NOT LIKE '%ne-tuning'"))
    conn.close()
    Store(db).close()
    conn = sqlite3.connect(db)
    rows = sorted(conn.execute("SELECT paper_id, norm, keyword FROM paper_keywords WHERE keyword LIKE '%ne-tuning'"))
    assert rows == [("t:1", "fine tuning", "Fine-tuning"), ("t:2", "fine tuning", "ﬁne-tuning")]
    assert sorted(conn.execute("SELECT * FROM paper_keywords WHERE keyword NOT LIKE '%ne-tuning'")) == before
