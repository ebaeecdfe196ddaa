"""Records of one paper from different sources become one paper with the richest fields,
and the provenance of each field says where it came from."""

from __future__ import annotations

import json
import sqlite3

from click.testing import CliRunner

from paperlens.cli import main
from paperlens.ingest.pipeline import ingest_paths
from paperlens.store import Store

from .conftest import FIXTURES, sample, shared_data


def test_arxiv_record_and_bibtex_entry_merge_into_one(store):
    first = ingest_paths(store, [FIXTURES / "arxiv_snapshot.jsonl"])
    second = ingest_paths(store, [FIXTURES / "papers.bib"])
    assert first.new == 3 and second.merged == 1 and second.new == 2
    assert store.count() == 5
    paper = store.get("arxiv:2406.11111")
    assert store.get("doi:10.48550/example.2406.11111").id == paper.id == "arxiv:2406.11111"
    # from arXiv: dates, categories, license; from BibTeX: venue, keywords, code link
    assert paper.date == "2024-06-17" and paper.categories == ["cs.CL", "cs.AI"]
    assert paper.venue == "Proceedings of the Example Conference on Language Models"
    assert paper.keywords == ["abstention", "calibration", "retrieval-augmented generation"]
    assert paper.code_url == "https://github.com/example-lab/calibrated-abstention"
    # arXiv lists all three authors, BibTeX the same three then 'others': the complete list stays
    assert paper.authors == ["Rosa Delgado", "Sven Aalto", "Chen Yu"] and not paper.authors_truncated
    assert {s.source for s in paper.sources} == {"arxiv-jsonl", "bibtex"}
    prov = store.provenance(paper.id)
    arxiv, bib = f"arxiv-jsonl {FIXTURES / 'arxiv_snapshot.jsonl'}:1", f"bibtex {FIXTURES / 'papers.bib'}:3"
    assert prov["title"] == prov["date"] == prov["categories"] == prov["abstract"] == arxiv
    assert prov["venue"] == prov["keywords"] == prov["code_url"] == bib
    # the abstract's FTS row is the merged paper's
    hits = store.conn.execute("SELECT rowid FROM papers_fts WHERE papers_fts MATCH 'abstention'").fetchall()
    assert len(hits) == 1


def test_merge_order_does_not_matter_for_the_result(tmp_path):
    a, b = Store(tmp_path / "a.db"), Store(tmp_path / "b.db")
    ingest_paths(a, [FIXTURES / "arxiv_snapshot.jsonl", FIXTURES / "papers.bib", FIXTURES / "arxiv_api_response.xml"])
    ingest_paths(b, [FIXTURES / "arxiv_api_response.xml", FIXTURES / "papers.bib", FIXTURES / "arxiv_snapshot.jsonl"])
    fields = ("id", "title", "authors", "venue", "date", "doi", "arxiv_id", "keywords", "code_url")
    one = sorted(tuple(json.dumps(getattr(p, f)) for f in fields) for p in a.iter_papers())
    two = sorted(tuple(json.dumps(getattr(p, f)) for f in fields) for p in b.iter_papers())
    assert a.count() == b.count() == 9
    assert [x[:4] + x[5:7] for x in one] == [x[:4] + x[5:7] for x in two]


def test_iclr_csv_gives_digest_papers_titles_venue_and_openreview_ids(tmp_path):
    csv_path = shared_data("iclr2026", "foundation-or-frontier-models-including-llms.csv")
    db = tmp_path / "merge.db"
    run = CliRunner().invoke
    first = run(main, ["--db", str(db), "ingest", "-q", str(sample("002"))])
    assert "new: 651" in first.output
    second = run(main, ["--db", str(db), "ingest", "-q", str(csv_path)])
    counts = dict(part.split(": ") for part in second.output.strip().splitlines()[-1].split("  "))
    new, merged, unchanged = int(counts["new"]), int(counts["merged"]), int(counts["unchanged"])
    assert new + merged + unchanged == 830 and counts["rejected"] == "0"
    store = Store(db)
    digest = [p for p in store.iter_papers() if any(s.source == "seed-topic-digest" for s in p.sources)]
    assert len(digest) == 651
    titled = [p for p in digest if p.title and (p.venue or "").startswith("ICLR 2026 ") and p.openreview_id
              and p.id == f"openreview:{p.openreview_id}"]
    assert len(titled) >= 600, len(titled)
    assert store.count() == 651 + (830 - merged - unchanged) == 651 + new
    # the digest's topic (area and label) and six fields stay; the CSV adds keywords and ratings
    sample_paper = titled[0]
    assert sample_paper.topic.label and sample_paper.summary["zh"].method
    assert "avg_rating" in sample_paper.extra and "explain_zh" not in json.dumps(sample_paper.extra)
    before = sqlite3.connect(db).execute("SELECT id, data, provenance FROM papers ORDER BY id").fetchall()
    again = run(main, ["--db", str(db), "ingest", "-q", str(sample("002")), str(csv_path)])
    assert "new: 0  merged: 0  unchanged: 1481" in again.output
    assert sqlite3.connect(db).execute("SELECT id, data, provenance FROM papers ORDER BY id").fetchall() == before
    # a search by a word of a title that only the CSV gave finds the merged paper
    word = max(sample_paper.title.split(), key=len)
    hits = store.conn.execute("SELECT p.id FROM papers_fts f JOIN papers p ON p.rowid = f.rowid "
                              "WHERE papers_fts MATCH ?", (f'title:"{word}"',)).fetchall()
    assert sample_paper.id in {h[0] for h in hits}


def test_a_record_with_only_the_arxiv_doi_merges_with_the_arxiv_record(store, tmp_path):
    arxiv = tmp_path / "arxiv.jsonl"
    arxiv.write_text(json.dumps({
        "id": "2101.00003", "submitter": "x", "authors": "Dan Roe and Eve Poe", "title": "Sparse Probes for Dense Models",
        "comments": None, "journal-ref": None, "doi": None, "categories": "cs.LG",
        "abstract": "We probe dense models with sparse linear maps.",
        "versions": [{"version": "v1", "created": "Mon, 4 Jan 2021 08:12:45 GMT"}]}) + "\n")
    # Zotero writes a preprint's DataCite DOI and (here) no URL; the title differs as titles do between versions
    bib = tmp_path / "zotero.bib"
    bib.write_text("@misc{roe_sparse_2021, title = {Sparse probes for dense models: a study},\n"
                   "  author = {Roe, Dan and Poe, Eve}, doi = {10.48550/arXiv.2101.00003}, year = {2021}}\n")
    assert ingest_paths(store, [arxiv]).new == 1
    report = ingest_paths(store, [bib])
    assert report.new == 0 and report.merged == 1 and store.count() == 1
    paper = store.get("arxiv:2101.00003")
    assert paper.arxiv_id == "2101.00003" and [s.source for s in paper.sources] == ["arxiv-jsonl", "bibtex"]
