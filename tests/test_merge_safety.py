"""Merging never loses a paper (issue 13, "Data loss by wrong merges"): no id from empty content, no merge
across conflicting arXiv ids / DOIs / OpenReview ids, a title alone needs year and author, every merge is
explained, databases of older versions are split; and `show` takes any form of an id."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from paperlens.cli import main
from paperlens.core.clean import normalize_key, short_hash
from paperlens.core.ids import EMPTY_HASH_ID, paper_id, parse_any_id
from paperlens.core.models import Paper, SourceRef
from paperlens.ingest.pipeline import ingest_paths
from paperlens.sources import SOURCES
from paperlens.sources.base import ReadContext
from paperlens.store import Store

from .conftest import SHARED

SHORT_TITLES = """\
@book{deepblue, title = {Deep Blue}, year = {1997}}
@misc{qlearning, title = {Q-learning}, author = {Watkins, Chris}, year = {1992}}
@article{dl, title = {深度学习}, year = {2016}}
@article{rl, title = {强化学习}, year = {2018}}
@inproceedings{fastrcnn, title = {Fast R-CNN}, author = {Girshick, Ross}, year = {2015}}
"""

ABSTRACT = ("We propose a simple method for learning representations of graphs that scales to millions of "
            "nodes and reaches the state of the art on five benchmarks without any tuning at all.")


def arxiv_line(arxiv_id: str, title: str, abstract: str = ABSTRACT, authors: str = "Ana Lima and Bo Chen") -> str:
    return json.dumps({"id": arxiv_id, "submitter": "x", "authors": authors, "title": title, "comments": None,
                       "journal-ref": None, "doi": None, "categories": "cs.LG", "abstract": abstract,
                       "versions": [{"version": "v1", "created": "Mon, 17 Jun 2024 08:12:45 GMT"}],
                       "update_date": "2024-06-18"}) + "\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def run(db: Path, *args: str):
    result = CliRunner().invoke(main, ["--db", str(db), *args])
    assert result.exit_code == 0, result.output
    return result


def test_no_id_is_derived_from_empty_content(tmp_path, store):
    bib = write(tmp_path / "short.bib", SHORT_TITLES)
    report = ingest_paths(store, [bib])
    assert (report.new, report.merged) == (5, 0) and store.count() == 5
    ids = [p.id for p in store.iter_papers()]
    assert EMPTY_HASH_ID not in ids and len(set(ids)) == 5
    assert store.conn.execute("SELECT 1 FROM paper_keys WHERE key = ?", (EMPTY_HASH_ID,)).fetchone() is None
    # read again: the same papers; the same entries in another file: the same papers too
    assert ingest_paths(store, [bib]).unchanged == 5
    again = ingest_paths(store, [write(tmp_path / "copy.bib", SHORT_TITLES)])
    assert again.new == 0 and store.count() == 5
    # records with nothing at all but where they came from still get ids of their own
    a = paper_id(None, None, None, "", "", origin="bibtex\x1fa.bib\x1f1\x1fk1")
    b = paper_id(None, None, None, "", "", origin="bibtex\x1fa.bib\x1f2\x1fk2")
    assert a != b and EMPTY_HASH_ID not in (a, b, paper_id(None, None, None, "∇", ""))


def test_same_abstract_with_different_arxiv_ids_stays_two_papers(tmp_path, store):
    snapshot = write(tmp_path / "kaggle.jsonl", arxiv_line("2401.00001", "Graph Representations at Scale")
                     + arxiv_line("2401.00002", "Graph Representations at Scale, Revisited"))
    report = ingest_paths(store, [snapshot], fmt="arxiv-jsonl")
    assert report.new == 2 and store.count() == 2
    second = store.get("arxiv:2401.00002")
    assert second.id == "arxiv:2401.00002" and store.get("arxiv:2401.00001").id == "arxiv:2401.00001"
    notes = store.merge_notes(second.id)
    assert notes["kept_apart"][0]["from"] == "arxiv:2401.00001"
    assert "different arXiv ids" in notes["kept_apart"][0]["rule"]
    # a new version of the same arXiv paper still merges
    v2 = write(tmp_path / "v2.jsonl", arxiv_line("2401.00001v2", "Graph Representations at Scale"))
    # (it adds nothing but its source, so it is reported unchanged: see test_bibtex_roundtrip)
    report = ingest_paths(store, [v2], fmt="arxiv-jsonl")
    assert report.new == 0 and report.merged + report.unchanged == 1 and store.count() == 2


def test_two_versions_with_different_dois_stay_two_papers_and_keep_both_dois(tmp_path, store):
    bib = write(tmp_path / "versions.bib", f"""\
@inproceedings{{conf, title = {{Maintaining Data Dependencies across Process Fragments}},
  author = {{Khalaf, Rania and Kopp, Oliver}}, year = {{2007}}, doi = {{10.1007/978-3-540-74974-5_17}},
  abstract = {{{ABSTRACT}}}}}
@article{{journal, title = {{Maintaining Data Dependencies Across Process Fragments}},
  author = {{Khalaf, Rania and Kopp, Oliver}}, year = {{2008}}, doi = {{10.1142/S0218843008001828}},
  abstract = {{{ABSTRACT}}}}}
""")
    report = ingest_paths(store, [bib])
    assert report.new == 2 and store.count() == 2
    assert store.get("doi:10.1007/978-3-540-74974-5_17").doi == "10.1007/978-3-540-74974-5_17"
    assert store.get("doi:10.1142/s0218843008001828").doi == "10.1142/s0218843008001828"


def test_title_alone_needs_year_and_author(tmp_path, store):
    bib = write(tmp_path / "same_title.bib", """\
@book{book, title = {Information Theory and Statistics}, author = {Kullback, Solomon}, year = {1957}}
@article{article, title = {Information Theory and Statistics}, author = {Kullback, Solomon}, year = {1966}}
@article{other, title = {Information Theory and Statistics}, author = {Someone, Else}, year = {1957}}
@misc{noauthor, title = {Information Theory and Statistics}, year = {1957}}
""")
    report = ingest_paths(store, [bib])
    assert report.new == 4 and report.merged == 0 and store.count() == 4
    rules = [n["rule"] for p in store.iter_papers() for n in store.merge_notes(p.id).get("kept_apart", [])]
    assert "same title, but years 1957 and 1966" in rules
    assert "same title, but no author in common" in rules
    assert "same title, but no authors to compare and no abstract match" in rules


def test_same_title_and_one_shared_author_of_three_stay_two_papers(tmp_path, store):
    bib = write(tmp_path / "deep.bib", """\
@article{lecun2015, title = {Deep learning}, author = {LeCun, Yann and Bengio, Yoshua and Hinton, Geoffrey},
  journal = {Nature}, year = {2015}}
@book{goodfellow2016, title = {Deep Learning}, author = {Goodfellow, Ian and Bengio, Yoshua and Courville, Aaron},
  publisher = {MIT Press}, year = {2016}}
@misc{preprint, title = {Deep Learning}, author = {Y. LeCun and Y. Bengio and others}, year = {2014}}
""")
    report = ingest_paths(store, [bib])
    assert report.new == 2 and store.count() == 2
    rules = [n["rule"] for p in store.iter_papers() for n in store.merge_notes(p.id).get("kept_apart", [])]
    assert "same title, but only 1 of 3 authors in common" in rules
    lecun = next(p for p in store.iter_papers() if p.venue == "Nature")
    assert [s.source_id for s in lecun.sources] == ["lecun2015", "preprint"]  # 2 of the 2 it names


def test_a_paper_kept_apart_is_found_again_by_its_title_and_authors(tmp_path, store):
    """The title key has one holder: a second record of a paper kept apart from it was stored again."""
    aimar = write(tmp_path / "a.bib", "@article{a, title = {An amazing title}, author = {Aimar, Jean}, year = {2013}}\n")
    first = write(tmp_path / "b.bib", "@article{b, title = {An amazing title}, author = {Baltazar, Jean}, year = {2013}}\n")
    again = write(tmp_path / "c.bib", "@article{c, title = {An Amazing Title}, author = {J. Baltazar and Roe, Jane},\n"
                                      "  year = {2013}, journal = {Nice Journal}}\n")
    assert ingest_paths(store, [aimar, first]).new == 2
    report = ingest_paths(store, [again])
    assert report.new == 0 and report.merged == 1 and store.count() == 2
    baltazar = next(p for p in store.iter_papers() if any("Baltazar" in a for a in p.authors))
    assert [s.source_id for s in baltazar.sources] == ["b", "c"] and baltazar.venue == "Nice Journal"
    notes = store.merge_notes(baltazar.id)["merges"]
    assert notes[0]["rule"] == "same title, year and an author" and notes[0]["matched"] == ["title"]


def test_another_file_of_the_same_name_is_not_the_same_record(tmp_path, store):
    """refs.bib of two projects, the same key on line 1, the same title: two papers, not one read again."""
    (tmp_path / "p1").mkdir()
    (tmp_path / "p2").mkdir()
    one = write(tmp_path / "p1" / "refs.bib", "@article{intro, title = {An Introduction to Things},\n"
                                              "  author = {Aimar, Jean}, year = {1990}}\n")
    two = write(tmp_path / "p2" / "refs.bib", "@article{intro, title = {An Introduction to Things},\n"
                                              "  author = {Zed, Karl}, year = {2015}}\n")
    assert ingest_paths(store, [one]).new == 1
    assert ingest_paths(store, [two]).new == 1 and store.count() == 2
    assert sorted(p.year for p in store.iter_papers()) == [1990, 2015]
    again = ingest_paths(store, [two, one])  # each read again is its own record
    assert again.new == 0 and again.unchanged == 2 and store.count() == 2
    (tmp_path / "p3").mkdir()  # no authors to compare: the years tell the volumes apart
    volume = write(tmp_path / "p3" / "refs.bib", "@proceedings{intro, title = {An Introduction to Things}, year = {2004}}\n")
    assert ingest_paths(store, [volume]).new == 1 and store.count() == 3
    (tmp_path / "p4").mkdir()  # a third paper there: the split id the second holds is taken, the next is used
    third = write(tmp_path / "p4" / "refs.bib", "@article{intro, title = {An Introduction to Things},\n"
                                                "  author = {Quux, Ada}, year = {2015}}\n")
    assert ingest_paths(store, [third]).new == 1 and store.count() == 4
    assert ingest_paths(store, [one, two, volume, third]).unchanged == 4 and store.count() == 4


def test_title_year_and_author_agreeing_merge_and_show_explains_it(tmp_path):
    db = tmp_path / "m.db"
    first = write(tmp_path / "thesis.bib", "@phdthesis{a, title = {Learning to Rank with Partial Labels},\n"
                                          "  author = {Cesar, Jean and Roe, Jane}, year = {2019}}\n")
    second = write(tmp_path / "refs.bib", "@article{b, title = {Learning to rank with partial labels},\n"
                                          "  author = {J. C{\\'e}sar}, year = {2020}, journal = {J. Ranking}}\n")
    run(db, "ingest", str(first))
    assert "new: 0  merged: 1" in run(db, "ingest", str(second)).output
    store = Store(db)
    assert store.count() == 1
    paper = next(store.iter_papers())
    text = run(db, "show", paper.id).output
    assert "merged from:" in text
    assert f"bibtex {second}:1: same title, year and an author (matched id {paper.id}, title)" in text
    shown = json.loads(run(db, "show", paper.id, "--json").output)
    assert shown["merge_notes"]["merges"] == [{"from": f"bibtex {second}:1", "matched": [f"id {paper.id}", "title"],
                                              "rule": "same title, year and an author"}]


def test_shared_doi_merges_and_says_so(tmp_path):
    db = tmp_path / "d.db"
    run(db, "ingest", str(write(tmp_path / "a.bib", "@article{a, title = {Deep Residual Learning},\n"
                                                    "  author = {He, Kaiming}, doi = {10.1109/CVPR.2016.90}}\n")))
    run(db, "ingest", str(write(tmp_path / "b.bib", "@inproceedings{b, title = {Deep Residual Learning for "
                                                    "Image Recognition}, author = {Kaiming He and Xiangyu Zhang},\n"
                                                    "  year = {2016}, doi = {https://doi.org/10.1109/cvpr.2016.90}}\n")))
    text = run(db, "show", "https://doi.org/10.1109/CVPR.2016.90").output
    assert "same DOI (matched doi:10.1109/cvpr.2016.90" in text


def test_show_and_resolve_id_accept_any_form_of_an_id(tmp_path):
    db = tmp_path / "ids.db"
    snapshot = write(tmp_path / "s.jsonl", arxiv_line("0704.0001", "Calculation of Prompt Diphoton Production")
                     + arxiv_line("hep-th/9901001", "A Toy Model of Compactification", abstract="We study a toy."))
    bib = write(tmp_path / "r.bib", "@article{d, title = {Some Journal Paper With a DOI}, author = {A. Author},\n"
                                    "  doi = {10.1000/ABC.Def-1}}\n"
                                    "@inproceedings{o, title = {An OpenReview Submission Title}, author = {B. Author},\n"
                                    "  url = {https://openreview.net/forum?id=Xyz123AbC}}\n")
    run(db, "ingest", "--format", "arxiv-jsonl", str(snapshot))
    run(db, "ingest", str(bib))
    store = Store(db)
    forms = {
        "arxiv:0704.0001": ["arXiv:0704.0001", "arxiv:0704.0001", "0704.0001", "0704.0001v2",
                            "https://arxiv.org/abs/0704.0001v2", "https://arxiv.org/pdf/0704.0001",
                            "http://arxiv.org/pdf/0704.0001v1.pdf"],
        "arxiv:hep-th/9901001": ["hep-th/9901001", "arXiv:hep-th/9901001v2", "https://arxiv.org/abs/hep-th/9901001"],
        "doi:10.1000/abc.def-1": ["10.1000/ABC.Def-1", "doi:10.1000/abc.def-1", "DOI:10.1000/ABC.DEF-1",
                                  "https://doi.org/10.1000/ABC.Def-1", "http://dx.doi.org/10.1000/abc.def-1"],
        "openreview:Xyz123AbC": ["https://openreview.net/forum?id=Xyz123AbC", "openreview:Xyz123AbC",
                                 "https://openreview.net/pdf?id=Xyz123AbC"],
    }
    for pid, texts in forms.items():
        for text in texts:
            assert store.resolve_id(text) == pid, text
            assert json.loads(run(db, "show", text, "--json").output)["id"] == pid
    assert store.resolve_id("0704.0002") is None and store.resolve_id("") is None
    assert parse_any_id("https://doi.org/10.48550/arXiv.0704.0001")[-1] == "arxiv:0704.0001"


# -- databases written by older versions ------------------------------------------------------------
def old_database(path: Path, papers: list[Paper]) -> Store:
    """A database as versions before migration 5 left it: the rows written directly, the way they stored a
    paper (data, provenance, keys, authors, full-text row), and no merge_suspects table."""
    store = Store(path)
    conn = store.conn
    conn.execute("DROP TABLE merge_suspects")
    conn.execute("DELETE FROM schema_migrations WHERE version = 5")
    now = "2026-01-01T00:00:00Z"
    for rowid, paper in enumerate(papers, start=1):
        origin = f"{paper.sources[0].source} {paper.sources[0].path}:{paper.sources[0].line}"
        conn.execute("INSERT INTO papers (rowid, id, data, provenance, content_hash, title, year, added_at, "
                     "updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
                     (rowid, paper.id, paper.model_dump_json(), json.dumps({"title": origin}), paper.content_hash(),
                      paper.title, paper.year, now, now))
        keys = [paper.id]
        if len(normalize_key(paper.title)) >= 12:
            keys.append("title:" + short_hash(normalize_key(paper.title), length=24))
        if paper.doi:
            keys.append(f"doi:{paper.doi}")
        conn.executemany("INSERT OR IGNORE INTO paper_keys VALUES (?, ?)", [(k, paper.id) for k in keys])
        conn.executemany("INSERT INTO paper_authors VALUES (?,?,?,?)",
                         [(paper.id, i, a, a.lower().replace(" ", "-")) for i, a in enumerate(paper.authors)])
        conn.execute("INSERT INTO papers_fts (rowid, title, abstract, keywords, authors) VALUES (?,?,?,?,?)",
                     (rowid, paper.title, paper.abstract, "", " ; ".join(paper.authors)))
        conn.execute("INSERT INTO enrichments VALUES (?, 'topic', '1', ?, 'ok', '{}', NULL, NULL, ?)",
                     (paper.id, paper.content_hash(), now))
    store.close()
    return Store(path)  # opening it runs migration 5


def refs(path: Path, *lines_keys: tuple[int, str]) -> list[SourceRef]:
    return [SourceRef(source="bibtex", path=str(path), line=line, source_id=key) for line, key in lines_keys]


def test_migration_splits_the_empty_hash_paper_when_its_files_are_read_again(tmp_path):
    bib = write(tmp_path / "short.bib", SHORT_TITLES)
    # what old versions made of that file: one paper, under the id of the empty string, five records
    merged = Paper(id=EMPTY_HASH_ID, title="Fast R-CNN", authors=["Ross Girshick"], year=1997,
                   sources=refs(bib, (1, "deepblue"), (2, "qlearning"), (3, "dl"), (4, "rl"), (5, "fastrcnn")))
    assert EMPTY_HASH_ID == "h:" + short_hash("") == "h:e3b0c44298fc1c14"
    db = tmp_path / "old.db"
    store = old_database(db, [merged])
    assert store.schema_version() >= 5 and store.suspect_count() == 1
    shown = run(db, "show", EMPTY_HASH_ID).output
    assert "suspect merge: merged by an id of empty content" in shown and "0 of 5 records read again" in shown
    assert f"bibtex {bib}:3 (dl)" in shown
    ingested = run(db, "ingest", str(bib))
    assert "new: 5  merged: 0  unchanged: 0" in ingested.output
    store = Store(db)
    assert store.suspect_count() == 0 and store.count() == 5
    assert store.get(EMPTY_HASH_ID) is None
    assert sorted(p.title for p in store.iter_papers()) == sorted(["Deep Blue", "Q-learning", "深度学习", "强化学习",
                                                                   "Fast R-CNN"])
    for paper in store.iter_papers():
        assert store.merge_notes(paper.id)["split_from"] == EMPTY_HASH_ID
    conn = store.conn
    for table in ("paper_keys", "paper_authors", "enrichments"):
        assert conn.execute(f"SELECT count(*) FROM {table} WHERE paper_id = ?", (EMPTY_HASH_ID,)).fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM papers_fts WHERE papers_fts MATCH 'girshick'").fetchone()[0] == 1
    assert store.integrity_check() == "ok"
    assert "unchanged: 5" in run(db, "ingest", str(bib)).output


def test_migration_keeps_a_suspect_until_every_record_was_read_again(tmp_path):
    first = write(tmp_path / "a.bib", "@book{deepblue, title = {Deep Blue}, year = {1997}}\n")
    second = tmp_path / "b.bib"  # not here any more
    merged = Paper(id=EMPTY_HASH_ID, title="Deep Blue", year=1997,
                   sources=[*refs(first, (1, "deepblue")), *refs(second, (1, "qlearning"))])
    db = tmp_path / "old.db"
    old_database(db, [merged])
    assert "1 paper(s) merged wrongly by an older version wait" in run(db, "ingest", str(first)).output
    store = Store(db)
    assert store.suspect_count() == 1 and store.get(EMPTY_HASH_ID) is not None  # b.bib was not read again
    assert "1 of 2 records read again" in run(db, "show", EMPTY_HASH_ID).output
    run(db, "ingest", str(write(second, "@misc{qlearning, title = {Q-learning}, author = {Watkins, Chris}}\n")))
    assert store.suspect_count() == 0 and store.count() == 2 and store.get(EMPTY_HASH_ID) is None


def test_migration_re_derives_the_id_of_a_lone_empty_hash_paper(tmp_path):
    bib = write(tmp_path / "one.bib", "@book{deepblue, title = {Deep Blue}, year = {1997}}\n")
    db = tmp_path / "old.db"
    # the record as old versions read it, only its id was the empty string's
    record = next(SOURCES["bibtex"]().read(ReadContext(path=str(bib))))
    store = old_database(db, [record.model_copy(update={"id": EMPTY_HASH_ID})])
    assert store.suspect_count() == 0 and store.get(EMPTY_HASH_ID) is None
    paper = next(store.iter_papers())
    assert paper.id != EMPTY_HASH_ID and paper.id.startswith("h:")
    assert store.enrichments_for(paper.id)  # its enrichments went with it
    assert "new: 0  merged: 0  unchanged: 1" in run(db, "ingest", str(bib)).output


def test_a_title_only_merge_of_an_older_version_is_split_when_its_file_is_read_twice(tmp_path):
    bib = write(tmp_path / "kullback.bib", """\
@book{book, title = {Information Theory and Statistics}, author = {Kullback, Solomon}, year = {1957}, doi = {10.1000/book}}
@article{article, title = {Information Theory and Statistics}, author = {Kullback, Solomon}, year = {1966}}
""")
    merged = Paper(id="doi:10.1000/book", title="Information Theory and Statistics", authors=["Solomon Kullback"],
                   year=1957, doi="10.1000/book", sources=refs(bib, (1, "book"), (2, "article")))
    db = tmp_path / "old.db"
    old_database(db, [merged])
    run(db, "ingest", str(bib))  # the article no longer belongs: flagged, stored on its own
    store = Store(db)
    assert store.count() == 2 and store.suspect_count() == 1
    run(db, "ingest", str(bib))  # now the book was read again too: the wrong merge is gone
    assert store.suspect_count() == 0 and store.count() == 2
    years = sorted((p.year, p.id) for p in store.iter_papers())
    assert years[0] == (1957, "doi:10.1000/book") and years[1][0] == 1966
    # the enrichment made for the merged paper's text went to a paper with that same text
    assert store.conn.execute("SELECT count(*) FROM enrichments").fetchone()[0] == 1
    assert store.conn.execute("SELECT count(*) FROM enrichments e JOIN papers p ON p.id = e.paper_id "
                              "AND p.content_hash = e.content_hash").fetchone()[0] == 1
    assert "unchanged: 2" in run(db, "ingest", str(bib)).output


# -- real files ---------------------------------------------------------------------------------------
def wrong_merges(store: Store, records: dict[tuple[str, int], Paper]) -> list[str]:
    """Papers that cannot be one paper, judged from the entries alone: two of them carry conflicting arXiv
    ids, DOIs or OpenReview ids, or some entry is tied to the others by no evidence of its own (a shared
    strong id, the same abstract, or a similar title with years at most one apart)."""

    def same(a: Paper, b: Paper) -> bool:
        if any(getattr(a, f) and getattr(a, f) == getattr(b, f) for f in ("arxiv_id", "doi", "openreview_id")):
            return True
        if a.abstract and normalize_key(a.abstract) == normalize_key(b.abstract):
            return True
        ratio = difflib.SequenceMatcher(None, normalize_key(a.title), normalize_key(b.title)).ratio()
        return ratio >= 0.8 and not (a.year and b.year and abs(a.year - b.year) > 1)

    wrong = []
    for paper in store.iter_papers():
        entries = [records[(s.path, s.line)] for s in paper.sources if (s.path, s.line) in records]
        for i, a in enumerate(entries):
            for b in entries[i + 1:]:
                clash = [f for f in ("arxiv_id", "doi", "openreview_id")
                         if getattr(a, f) and getattr(b, f) and getattr(a, f) != getattr(b, f)]
                if clash:
                    wrong.append(f"{paper.id}: {a.sources[0].path}:{a.sources[0].line} + "
                                 f"{b.sources[0].path}:{b.sources[0].line} ({', '.join(clash)})")
        reached, todo = {0}, [0]  # the entries tied together by evidence
        while todo and entries:
            i = todo.pop()
            for j in range(len(entries)):
                if j not in reached and same(entries[i], entries[j]):
                    reached.add(j)
                    todo.append(j)
        if len(reached) < len(entries):
            loose = [entries[j] for j in range(len(entries)) if j not in reached]
            wrong.append(f"{paper.id}: {len(loose)} of {len(entries)} entries tied by nothing, e.g. "
                         f"{loose[0].sources[0].path}:{loose[0].sources[0].line} {loose[0].title!r}")
    return wrong


def test_realworld_bibtex_files_give_zero_wrong_merges(tmp_path):
    folder = SHARED / "data" / "realworld" / "bibtex"
    files = sorted(folder.glob("*.bib"))
    if not files:
        pytest.skip(f"{folder} not present (../shared/data is beside the clone in CI)")
    records = {}
    for path in files:
        for record in SOURCES["bibtex"]().read(ReadContext(path=str(path))):
            if isinstance(record, Paper):
                records[(str(path), record.sources[0].line)] = record
    store = Store(tmp_path / "realworld.db")
    report = ingest_paths(store, files, parallel=False)
    assert report.new + report.merged + report.unchanged == len(records)
    assert store.count() == report.new
    assert wrong_merges(store, records) == []
    ids = [p.id for p in store.iter_papers()]
    assert EMPTY_HASH_ID not in ids and len(ids) == len(set(ids))
    # every merge is explained: the record it took in, the keys that matched, the rule
    # (a record that adds nothing but its source is reported unchanged, and explained all the same)
    explained = sum(len(store.merge_notes(pid).get("merges", [])) for pid in ids)
    assert explained == report.merged + report.unchanged
    assert sum(len(p.sources) for p in store.iter_papers()) == len(records)


def test_an_author_less_volume_merges_only_on_its_whole_title_year_and_venue(tmp_path):
    bib = write(tmp_path / "a.bib", "@proceedings{p1, title = {Proceedings of the Example Workshop on Graphs}, year = {2019}}\n")
    same = write(tmp_path / "b.bib", "@proceedings{p2, title = {Proceedings of the Example Workshop on Graphs}, year = {2019}}\n")
    other = write(tmp_path / "c.bib", "@proceedings{p3, title = {Proceedings of the Example Workshop on Graphs}, "
                                      "year = {2019}, booktitle = {Another Series}}\n")
    store = Store(tmp_path / "v.db")
    assert ingest_paths(store, [bib]).new == 1
    report = ingest_paths(store, [same])
    assert report.new == 0 and store.count() == 1
    assert ingest_paths(store, [other]).new == 1 and store.count() == 2  # another venue: kept apart
