"""BibTeX export then import: into the same database nothing changes; hostile values cannot inject fields."""

from __future__ import annotations

import json

import bibtexparser
from click.testing import CliRunner

from paperlens.cli import main
from paperlens.export.bibtex import bib_title

from .conftest import FIXTURES, SAMPLE

run = CliRunner().invoke


def _export(db, tmp_path, name="all.bib"):
    bib = tmp_path / name
    result = run(main, ["--db", str(db), "export", "--format", "bibtex", "-o", str(bib)])
    assert result.exit_code == 0, result.output
    return bib


def _papers(db, sources=True):
    papers = {p["id"]: p for p in map(json.loads, run(main, ["--db", str(db), "export"]).output.splitlines())}
    if not sources:
        for paper in papers.values():
            paper.pop("sources")
    return papers


def _papers_without_sources(papers):
    return {pid: {k: v for k, v in p.items() if k != "sources"} for pid, p in papers.items()}


def test_export_then_import_into_the_same_database_is_unchanged(tmp_path):
    db = tmp_path / "a.db"
    result = run(main, ["--db", str(db), "ingest", "--as-of", "2026-11-23", *map(str, sorted(SAMPLE.glob("*.txt"))),
                        str(FIXTURES / "arxiv_api_response.xml"), str(FIXTURES / "papers.bib"),
                        str(FIXTURES / "realworld_like.bib")])
    assert result.exit_code == 0, result.output
    before = _papers(db)
    bib = _export(db, tmp_path)
    result = run(main, ["--db", str(db), "ingest", str(bib)])
    assert f"unchanged: {len(before)}" in result.output and "merged: 0" in result.output, result.output
    after = _papers(db)
    for pid, paper in after.items():  # the same papers, each now citing the exported file too
        assert [s for s in paper.pop("sources") if s["path"] != str(bib)] == before[pid].pop("sources")
    assert after == before


def test_exported_fields_survive_a_round_trip(tmp_path):
    db, db2 = tmp_path / "a.db", tmp_path / "b.db"
    run(main, ["--db", str(db), "ingest", str(FIXTURES / "arxiv_api_response.xml"), str(FIXTURES / "realworld_like.bib")])
    bib = _export(db, tmp_path)
    text = bib.read_text(encoding="utf-8")
    assert "{{" not in text.split("abstract")[0]  # no extra braces around titles
    run(main, ["--db", str(db2), "ingest", str(bib)])
    before, after = _papers(db), _papers(db2)
    assert before.keys() == after.keys()
    for pid, paper in before.items():
        for field in ("title", "authors", "authors_truncated", "year", "date", "venue", "doi", "arxiv_id",
                      "openreview_id", "categories", "code_url", "keywords"):
            assert after[pid][field] == paper[field], (pid, field)
    dated = [p for p in before.values() if p["date"] and len(p["date"]) == 10]
    assert dated and any(p["categories"] for p in before.values())


def test_titles_are_protected_only_where_case_matters():
    assert bib_title("Attention Is All You Need") == "Attention Is All You Need"
    assert bib_title("BERT and GPT-4 on an iPhone") == "{BERT} and {GPT}-4 on an {iPhone}"
    assert bib_title("50% of a_b costs $5 \\") == r"50\% of a\_b costs \$5 \textbackslash{}"


def test_hostile_values_cannot_inject_fields(tmp_path):
    db = tmp_path / "a.db"
    victim = {"id": "arxiv:2101.00001", "arxiv_id": "2101.00001", "title": "An Unrelated Paper on Protein Folding",
              "abstract": "We fold proteins with a method that has nothing to do with the other record here. " * 2}
    hostile = {"id": "doi:10.1/x},eprint={2101.00001", "doi": "10.1/x},eprint={2101.00001",
               "title": "Hostile Title Ending in a Backslash \\", "categories": ["cs.LG}, eprint={2101.00001"],
               "authors": ["Mallory} and {Eve"], "venue": "Venue}, doi={10.9999/evil",
               "abstract": "An abstract that tries to close its field } and open another { with braces. " * 2,
               "extra": {"url": "http://x.org/a}, eprint={2101.00001"}}
    src = tmp_path / "papers.jsonl"
    src.write_text("\n".join(json.dumps(p) for p in (victim, hostile)) + "\n", encoding="utf-8")
    assert run(main, ["--db", str(db), "ingest", "--format", "jsonl", str(src)]).exit_code == 0, \
        run(main, ["--db", str(db), "ingest", "--format", "jsonl", str(src)]).output
    before = _papers(db)
    assert len(before) == 2
    bib = _export(db, tmp_path)
    library = bibtexparser.parse_string(bib.read_text(encoding="utf-8"))
    assert not library.failed_blocks and len(library.entries) == 2
    for entry in library.entries:
        names = [f.key.lower() for f in entry.fields]
        assert len(names) == len(set(names))
        if entry.key != "anon2021an" and "folding" not in entry["title"].lower():
            assert "eprint" not in names and "primaryclass" not in names, names
    for value in bib.read_text(encoding="utf-8").split("\n"):
        assert value.count("{") - value.count("\\{") == value.count("}") - value.count("\\}") or "=" not in value
    result = run(main, ["--db", str(db), "ingest", str(bib)])
    assert "merged: 0" in result.output and "new: 0" in result.output, result.output
    after = _papers(db, sources=False)
    assert after == _papers_without_sources(before)  # the hostile record did not merge into the arXiv paper, and nothing was added


def test_every_entry_key_is_unique_and_every_paper_comes_back(tmp_path):
    # 'Deep ...' twice by Smith took smith2026deep and smith2026deepa, and 'Deepa ...' by Smith got
    # smith2026deepa as well: the re-ingest rejected that entry (a duplicate key) and the paper was lost.
    db, db2 = tmp_path / "a.db", tmp_path / "b.db"
    titles = ["Deep nets for one thing", "Deep nets for another thing", "Deepa nets for a third thing",
              "Deepb nets for a fourth thing"]
    src = tmp_path / "papers.jsonl"
    src.write_text("".join(json.dumps({"title": t, "authors": ["John Smith"], "year": 2026,
                                       "abstract": f"On {t}, at some length."}) + "\n" for t in titles),
                   encoding="utf-8")
    assert run(main, ["--db", str(db), "ingest", "--format", "jsonl", str(src)]).exit_code == 0
    bib = _export(db, tmp_path)
    keys = [entry.key.lower() for entry in bibtexparser.parse_string(bib.read_text(encoding="utf-8")).entries]
    assert len(keys) == 4 and len(set(keys)) == 4, keys
    result = run(main, ["--db", str(db2), "ingest", str(bib)])
    assert "new: 4" in result.output and "rejected: 0" in result.output, result.output
    assert sorted(p["title"] for p in _papers(db2).values()) == sorted(titles)


def test_categories_of_a_paper_without_an_eprint_survive_a_round_trip(tmp_path):
    # they were written only with an arXiv eprint (primaryClass): a DOI-only paper came back with none
    db, db2 = tmp_path / "a.db", tmp_path / "b.db"
    src = tmp_path / "papers.jsonl"
    src.write_text(json.dumps({"title": "A Journal Paper on Retrieval", "doi": "10.1234/abc", "year": 2026,
                               "categories": ["cs.IR", "cs.CL"], "abstract": "On retrieval, at some length."})
                   + "\n", encoding="utf-8")
    assert run(main, ["--db", str(db), "ingest", "--format", "jsonl", str(src)]).exit_code == 0
    bib = _export(db, tmp_path)
    assert run(main, ["--db", str(db2), "ingest", str(bib)]).exit_code == 0
    assert [p["categories"] for p in _papers(db2).values()] == [["cs.IR", "cs.CL"]]
    assert _papers(db2, sources=False) == _papers(db, sources=False)


def test_keys_fold_accents_to_ascii_and_stay_unique():
    # Before: accented letters were dropped, 'Schölkopf' gave 'schlkopf2026...' and 'Über' titles lost a letter.
    import io

    from paperlens.core.models import Paper
    from paperlens.export.bibtex import bibtex_key, write_bibtex

    def paper(pid, author, title):
        return Paper(id=pid, title=title, authors=[author], year=2026)

    assert bibtex_key(paper("x:1", "Bernhard Schölkopf", "Kernel Methods")) == "scholkopf2026kernel"
    assert bibtex_key(paper("x:2", "Łukasz Kaiser", "Über Schönheit")) == "kaiser2026uber"
    assert bibtex_key(paper("x:3", "Paul Erdős", "Straße")) == "erdos2026strasse"
    assert bibtex_key(paper("x:4", "Bernhard Scholkopf", "Kernel Methods")) == "scholkopf2026kernel"
    assert bibtex_key(paper("x:5", "三 张", "Kernel Methods")) == "anon2026kernel"
    out = io.StringIO()
    papers = [paper("x:1", "Bernhard Schölkopf", "Kernel Methods"), paper("x:4", "B. Scholkopf", "Kernel Methods")]
    write_bibtex(papers, out)
    keys = [e.key for e in bibtexparser.parse_string(out.getvalue()).entries]
    assert keys == ["scholkopf2026kernel", "scholkopf2026kernela"]


def test_dois_with_braces_underscores_and_backslashes_survive_the_round_trip(tmp_path):
    dois = ["10.1000/x{y}z", "10.1000/a_b", "10.1000/back\\slash", "10.1002/(sici)1097-4571<3.0.co;2-#>"]
    source = tmp_path / "dois.jsonl"
    source.write_text("".join(json.dumps({"title": f"Round trip of an odd DOI number {i}", "authors": ["Ada Doe"],
                                          "abstract": f"Abstract {i}.", "doi": doi}) + "\n"
                              for i, doi in enumerate(dois)))
    first = tmp_path / "a.db"
    assert run(main, ["--db", str(first), "ingest", str(source)]).exit_code == 0
    assert sorted(p["doi"] for p in _papers(first).values()) == sorted(dois)
    bib = _export(first, tmp_path)
    second = tmp_path / "b.db"
    assert run(main, ["--db", str(second), "ingest", str(bib)]).exit_code == 0
    assert sorted(p["doi"] for p in _papers(second).values()) == sorted(dois)


def test_doi_markup_is_read_as_text(tmp_path):
    bib = tmp_path / "zotero.bib"
    bib.write_text("@article{a, title = {Braces are markup in this title}, author = {Doe, Ada}, doi = {10.1234/ab{c}}}\n"
                   "@article{b, title = {Escaped underscore in a DOI field}, author = {Doe, Ada}, doi = {10.1000/a\\_b}}\n"
                   "@article{c, title = {Escaped braces in the DOI field}, author = {Doe, Ada}, doi = {10.1000/x\\{y\\}z}}\n")
    db = tmp_path / "z.db"
    assert run(main, ["--db", str(db), "ingest", str(bib)]).exit_code == 0
    assert sorted(p["doi"] for p in _papers(db).values()) == ["10.1000/a_b", "10.1000/x{y}z", "10.1234/abc"]
