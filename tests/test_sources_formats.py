"""Every adapter: detection of each format (no misfires), and the fields each record maps to."""

from __future__ import annotations

import gzip
import json
from datetime import date

import pytest
from click.testing import CliRunner

from paperlens.cli import main
from paperlens.sources import SOURCES, detect_format, read_records
from paperlens.sources.base import Rejected

from .conftest import FIXTURES, SAMPLE, sample

AS_OF = date(2026, 11, 23)


def papers(path, fmt="auto"):
    records = list(read_records(path, fmt=fmt, as_of=AS_OF))
    assert not [r for r in records if isinstance(r, Rejected)], records
    return records


@pytest.fixture(scope="module")
def our_jsonl(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("export")
    db, out = tmp / "a.db", tmp / "export.jsonl"
    CliRunner().invoke(main, ["--db", str(db), "ingest", "--as-of", "2026-11-23", str(sample("002"))])
    CliRunner().invoke(main, ["--db", str(db), "export", "-o", str(out)])
    return out


def test_every_format_is_detected_and_only_by_its_own_adapter(our_jsonl, tmp_path):
    notes = json.loads((FIXTURES / "openreview_notes.json").read_text())["notes"]
    note_list, note_lines = tmp_path / "list.json", tmp_path / "notes.jsonl"
    note_list.write_text(json.dumps(notes, indent=1))
    note_lines.write_text("".join(json.dumps(n) + "\n" for n in notes))
    gz = tmp_path / "snapshot.jsonl.gz"
    gz.write_bytes(gzip.compress((FIXTURES / "arxiv_snapshot.jsonl").read_bytes()))
    expected = {
        sample("000"): "seed-author-page", sample("001"): "seed-feed", sample("002"): "seed-topic-digest",
        sample("003"): "seed-abstract-list", our_jsonl: "jsonl",
        FIXTURES / "arxiv_snapshot.jsonl": "arxiv-jsonl", gz: "arxiv-jsonl",
        FIXTURES / "arxiv_snapshot.csv": "arxiv-csv", FIXTURES / "arxiv_api_response.xml": "arxiv-atom",
        FIXTURES / "openreview_notes.json": "openreview-json", note_list: "openreview-json",
        note_lines: "openreview-json", FIXTURES / "iclr_papers.csv": "iclr-csv", FIXTURES / "papers.bib": "bibtex",
    }
    from paperlens.sources.base import read_head

    for path, name in expected.items():
        assert detect_format(path) == name, path
        head = read_head(path)
        claimed = [other for other, cls in SOURCES.items() if cls.sniff(path, head)]
        assert claimed == [name], (path, claimed)  # no other adapter would claim it either
    plain, packed = papers(FIXTURES / "arxiv_snapshot.jsonl"), papers(gz)
    assert [p.model_dump(exclude={"sources"}) for p in packed] == [p.model_dump(exclude={"sources"}) for p in plain]


def test_arxiv_jsonl_fields():
    first, second, old = papers(FIXTURES / "arxiv_snapshot.jsonl")
    assert first.id == "arxiv:2406.11111" and first.arxiv_id == "2406.11111"
    assert first.title == "Calibrated Abstention for Retrieval-Augmented Question Answering"
    assert first.authors == ["Rosa Delgado", "Sven Aalto", "Chen Yu"]
    assert first.categories == ["cs.CL", "cs.AI"] and first.date == "2024-06-17" and first.year == 2024
    assert first.doi == "10.48550/example.2406.11111" and first.venue is None
    assert "41% of wrong answers" in first.abstract and "\\%" in first.abstract_raw
    assert first.extra == {"comments": "12 pages, 4 figures", "license": "http://creativecommons.org/licenses/by/4.0/",
                           "update_date": "2024-07-03"}
    assert first.sources[0].source == "arxiv-jsonl" and first.sources[0].line == 1
    assert second.venue == "J. Example Learn. Res. 26 (2025) 1-30"
    assert second.title == "On the Sample Complexity of Learning ε-Optimal Routing Policies"
    assert second.authors == ["I. Vos", "M. Okafor"] and second.date == "2024-07-31"
    assert old.arxiv_id == "hep-th/9901001" and old.date == "1999-01-01" and old.extra["report_no"] == "EX-TH-99-01"


def test_arxiv_csv_repairs_numeric_ids_and_reads_python_literals():
    first, second, third = papers(FIXTURES / "arxiv_snapshot.csv")
    jsonl = papers(FIXTURES / "arxiv_snapshot.jsonl")
    for field in ("id", "title", "authors", "categories", "date", "abstract", "doi"):
        assert getattr(first, field) == getattr(jsonl[0], field)
    assert first.extra["update_date"] == "2024-07-03"  # MM/DD/YYYY
    assert first.sources[0].line == 2 and second.sources[0].line > 2
    assert third.arxiv_id == "0903.1200"  # '903.12' lost a leading and two trailing zeros
    assert third.title == "Spectral Gaps of Random Regular Graphs, Numerically" and third.date == "2009-03-07"
    assert third.extra["update_date"] == "2009-03-09" and third.authors == ["Ewa Kowalski"]


def test_arxiv_authors_fall_back_to_the_authors_string(tmp_path):
    record = json.loads((FIXTURES / "arxiv_snapshot.jsonl").read_text().splitlines()[0])
    record.pop("authors_parsed")
    record["authors"] = "R. Delgado, S. Aalto and C. M{\\\"u}ller"
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(record) + "\n")
    (paper,) = papers(path, fmt="arxiv-jsonl")
    assert paper.authors == ["R. Delgado", "S. Aalto", "C. Müller"]


def test_arxiv_sample_csv_reads_whole(tmp_path):
    from .conftest import shared_data

    path = shared_data("arxiv-sample", "kaggle_arxiv_2000.csv")
    got = papers(path)
    assert detect_format(path) == "arxiv-csv" and len(got) == 2000
    assert len({p.arxiv_id for p in got}) == 2000
    assert got[0].arxiv_id == "0704.0001" and got[0].authors[0] == "C. Balázs" and got[0].date == "2007-04-02"


def test_arxiv_atom_fields():
    got = papers(FIXTURES / "arxiv_api_response.xml")
    assert [p.arxiv_id for p in got] == ["2502.01234", "2502.04567", "2503.00042", "2503.01999"]
    first = got[0]
    assert first.title == "Sparse Retrieval Heads: Locating Where Long-Context Models Look Up Facts"
    assert first.authors == ["Mei Lin", "Jonas Berg", "Priya Raman"]
    assert first.categories == ["cs.CL", "cs.LG"] and first.date == "2025-02-03"
    assert first.doi == "10.48550/example.2502.01234"
    assert first.code_url == "https://github.com/example-lab/retrieval-heads"
    assert first.extra["comments"] == "14 pages, 6 figures; v2 adds ablations" and first.extra["arxiv_version"] == 2
    assert first.extra["pdf_url"] == "http://arxiv.org/pdf/2502.01234v2"
    assert first.sources[0].line == 10 and got[1].sources[0].line == 42
    assert got[1].venue == "Proc. Example Workshop on Search (2025) 12-20" and got[1].categories[0] == "cs.IR"
    assert "k documents" in got[1].abstract and "MS MARCO" in got[3].abstract


def test_openreview_notes_in_every_shape(tmp_path):
    got = papers(FIXTURES / "openreview_notes.json")
    first, second = got
    assert first.id == "openreview:Xk3vPq9LmA" and first.openreview_id == "Xk3vPq9LmA"
    assert first.title == "Curriculum Sampling for Preference Optimization"
    assert first.authors == ["Lena Fischer", "Tariq Haddad"]
    assert first.keywords == ["preference optimization", "curriculum learning", "LLM alignment"]
    assert first.tldr.startswith("Ordering preference pairs")
    assert first.venue == "Example 2026 Poster" and first.year == 2026 and first.date == "2026-02-01"
    assert first.topic.area.startswith("alignment, fairness") and first.topic.label is None
    assert first.sources[0].line == 3 and second.sources[0].line > 3
    assert second.date == "2025-09-17"  # no pdate: creation date
    notes = json.loads((FIXTURES / "openreview_notes.json").read_text())["notes"]
    as_list, as_lines = tmp_path / "list.json", tmp_path / "notes.jsonl"
    as_list.write_text(json.dumps(notes))
    as_lines.write_text("".join(json.dumps(n) + "\n" for n in notes))
    v1 = tmp_path / "v1.jsonl"  # API v1: plain values
    v1.write_text(json.dumps({"id": "Zz", "forum": "Zz99Yy88Xx", "content": {
        "title": "A v1 note", "abstract": "Plain values, not wrapped.", "authors": ["A B"]}}) + "\n")
    for path in (as_list, as_lines):
        again = papers(path)
        assert [(p.id, p.title, p.keywords) for p in again] == [(p.id, p.title, p.keywords) for p in got]
    (old,) = papers(v1)
    assert old.openreview_id == "Zz99Yy88Xx" and old.title == "A v1 note" and old.authors == ["A B"]


def test_iclr_csv_keeps_ratings_and_never_reads_third_party_columns():
    first, second = papers(FIXTURES / "iclr_papers.csv")
    assert first.openreview_id == "Ab12Cd34Ef" and first.venue == "ICLR 2026 Poster" and first.year == 2026
    assert first.keywords == ["distillation", "chain-of-thought", "efficiency"]
    assert second.keywords == ["diffusion models", "crystals", "equivariance"]
    assert first.topic.area == "foundation or frontier models including LLMs" and first.topic.label is None
    assert first.extra == {"avg_rating": 6.5, "avg_confidence": 3.5, "n_ratings": 4}
    assert second.title == "Equivariant Diffusion for Crystal Structures, Revisited"
    for paper in (first, second):
        dumped = json.dumps(paper.model_dump(), ensure_ascii=False)
        assert "THIRD-PARTY" not in dumped and "第三方" not in dumped and "cluster" not in dumped


def test_bibtex_fields():
    calibrated, hyper, note = papers(FIXTURES / "papers.bib")
    assert calibrated.arxiv_id == "2406.11111" and calibrated.doi == "10.48550/example.2406.11111"
    assert calibrated.title == "Calibrated Abstention for Retrieval-Augmented Question Answering"
    assert calibrated.authors == ["Rosa Delgado", "Sven Aalto", "Chen Yu"] and calibrated.authors_truncated
    assert calibrated.venue == "Proceedings of the Example Conference on Language Models" and calibrated.year == 2024
    assert calibrated.code_url == "https://github.com/example-lab/calibrated-abstention"
    assert calibrated.keywords == ["abstention", "calibration", "retrieval-augmented generation"]
    assert calibrated.sources[0].line == 3 and calibrated.sources[0].source_id == "delgado2024calibrated"
    assert hyper.authors == ["Jörg Müller", "Anna Schmidt"] and hyper.title == "Message Passing on Hypergraphs with Über-Edges"
    assert hyper.venue == "Transactions on Example Graph Learning" and "über-edge per hyperedge" in hyper.abstract
    assert note.id == "h:00aa11bb22cc33dd"  # x-paperlens-id is kept
    assert note.authors == ["Dae-Jung Kim"] and note.abstract == ""


def test_our_bibtex_export_reads_back_under_the_same_ids(tmp_path):
    db, bib, db2 = tmp_path / "a.db", tmp_path / "all.bib", tmp_path / "b.db"
    run = CliRunner().invoke
    run(main, ["--db", str(db), "ingest", "--as-of", "2026-11-23", *map(str, SAMPLE.glob("*.txt")),
               str(FIXTURES / "arxiv_api_response.xml"), str(FIXTURES / "iclr_papers.csv")])
    run(main, ["--db", str(db), "export", "--format", "bibtex", "-o", str(bib)])
    result = run(main, ["--db", str(db2), "ingest", str(bib)])
    assert "new: 691" in result.output and "rejected: 0" in result.output, result.output
    before = {p["id"]: p for p in map(json.loads, run(main, ["--db", str(db), "export"]).output.splitlines())}
    after = {p["id"]: p for p in map(json.loads, run(main, ["--db", str(db2), "export"]).output.splitlines())}
    assert before.keys() == after.keys()
    for pid, paper in before.items():
        for field in ("title", "authors", "authors_truncated", "year", "venue", "doi", "arxiv_id", "openreview_id"):
            assert after[pid][field] == paper[field], (pid, field)


@pytest.mark.parametrize("name", [
    "Ann Bell", "J\\'erome Dupont", "\\\"Ozg\\\"ur \\c{C}elik", "A.~B. Cole", "Dan $\\alpha$ Eve", "Ann  Bell",
    "Ann\u00a0Bell", "Ann\nBell", "Ann\tBell", "Bell , Jr.", "Bell Jr .", "Ann (Bell )", "Ann ``Bo'' Bell",
    "Zoë Ångström", "李 小龍", "Ann Bell-Cole", "Bell, Jr.",
])
def test_kaggle_author_names_read_as_latex_to_text_makes_them(name: str):
    """The list is checked for markup once (arxiv_bulk._NAME_TO_CLEAN); each name still comes out as
    latex_to_text would make it, alone or beside names without markup."""
    from paperlens.core.clean import latex_to_text
    from paperlens.sources.arxiv_bulk import _authors

    first, last = name.rsplit(" ", 1) if " " in name else ("", name)
    for parsed in ([[last, first, ""]], [["Cole", "Dan", ""], [last, first, ""], ["Eve", "Fay", "Jr"]]):
        expected = [latex_to_text(" ".join(p for p in (e[1].strip(), e[0].strip(), e[2].strip()) if p))
                    for e in parsed]
        assert _authors(parsed, "") == expected
