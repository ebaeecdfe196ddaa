"""Reference-manager and API formats: RIS, CSL-JSON, Zotero Better BibTeX JSON, Semantic Scholar Graph
API JSON and paper-copilot lists. (a) Our own small fixtures, every field checked; bad records become
FILE:LINE rejections and the rest is read. (b) The real files in ../shared/data/realworld (skipped
when absent): each detected as its format, read without a crash, and checked against a reference
computed here straight from the JSON, or from rispy for RIS."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
import rispy
from click.testing import CliRunner

from paperlens.cli import main
from paperlens.sources import SOURCES, detect_format, read_records
from paperlens.sources.base import Rejected, read_head
from paperlens.sources.refcommon import find_arxiv_id, find_doi, inverted_name, parse_date

from .conftest import FIXTURES, SAMPLE, SHARED, sample

AS_OF = date(2026, 11, 23)
MINE = ("ris", "csl-json", "zotero-bbt-json", "s2-json", "papercopilot-json")
FIXTURE_OF = {
    "ris": FIXTURES / "refs.ris", "csl-json": FIXTURES / "refs.csl.json",
    "zotero-bbt-json": FIXTURES / "zotero_library.bbt.json", "s2-json": FIXTURES / "s2_papers.json",
    "papercopilot-json": FIXTURES / "papercopilot_iclr2024.json",
}
REALWORLD = SHARED / "data" / "realworld"


def read(path, fmt="auto"):
    records = list(read_records(path, fmt=fmt, as_of=AS_OF))
    return [r for r in records if not isinstance(r, Rejected)], [r for r in records if isinstance(r, Rejected)]


def rejections(items):
    return [(r.line, r.message) for r in items]


# ------------------------------------------------------------------------------------------ detection

def test_each_fixture_is_detected_and_claimed_by_its_adapter_only():
    for name, path in FIXTURE_OF.items():
        assert detect_format(path) == name, path
        claimed = [other for other, cls in SOURCES.items() if cls.sniff(path, read_head(path))]
        assert claimed == [name], (path, claimed)


def test_existing_fixtures_and_seeds_are_detected_as_before():
    before = {
        sample("000"): "seed-author-page", sample("001"): "seed-feed", sample("002"): "seed-topic-digest",
        sample("003"): "seed-abstract-list", FIXTURES / "arxiv_snapshot.jsonl": "arxiv-jsonl",
        FIXTURES / "arxiv_snapshot.csv": "arxiv-csv", FIXTURES / "arxiv_api_response.xml": "arxiv-atom",
        FIXTURES / "openreview_notes.json": "openreview-json", FIXTURES / "iclr_papers.csv": "iclr-csv",
        FIXTURES / "papers.bib": "bibtex",
    }
    assert sorted(SAMPLE.glob("*.txt")) == sorted(p for p in before if p.parent == SAMPLE)
    for path, name in before.items():
        assert detect_format(path) == name, path
        head = read_head(path)
        assert [n for n in MINE if SOURCES[n].sniff(path, head)] == [], path


def test_new_sniffers_claim_no_real_file_of_another_format():
    if not REALWORLD.is_dir():
        pytest.skip(f"{REALWORLD} not present")
    for path in sorted(p for p in REALWORLD.rglob("*") if p.is_file() and p.name != "SOURCES.md"):
        head = read_head(path)
        claimed = [n for n in MINE if SOURCES[n].sniff(path, head)]
        expected = [path.parent.name] if path.parent.name in MINE else []
        assert claimed == expected, (path, claimed)


# ------------------------------------------------------------------------------------------ RIS

def test_ris_fields():
    (calibrated, hyper, book), rejected = read(FIXTURE_OF["ris"])
    assert rejections(rejected) == [(33, "RIS record has neither title (TI/T1) nor abstract (AB/N2)")]
    assert calibrated.title == "Calibrated Abstention for Retrieval-Augmented Question Answering"
    assert calibrated.authors == ["Rosa Delgado", "Sven Aalto", "Chen Yu"]
    assert calibrated.year == 2019 and calibrated.date == "2019-03-21"  # PY 2019///, DA 2019/03/21/
    assert calibrated.venue == "Journal of Example Language Research"
    assert calibrated.doi == "10.5555/jelr.2019.0042"  # DO as a doi.org URL
    assert calibrated.arxiv_id == "1903.01234" and calibrated.id == "arxiv:1903.01234"  # N1 arXiv: ...
    assert calibrated.abstract == ("We study when a retrieval-augmented reader should abstain. "
                                   "Abstaining on 41% of wrong answers costs 3% of right ones.")
    assert calibrated.keywords == ["abstention", "calibration", "question answering"]
    assert calibrated.extra == {"ris_type": "JOUR", "url": "https://example.org/jelr/2019/0042"}
    assert calibrated.sources[0].source == "ris" and calibrated.sources[0].line == 4
    assert hyper.authors == ["Jörg Müller Jr.", "M. Okafor"]  # A1, "Family, Given, Suffix"
    assert hyper.title == "Message Passing on Hypergraphs with Über-Edges"
    assert hyper.year == 2021 and hyper.date == "2021-06" and hyper.openreview_id == "HyPeR12345"
    assert hyper.venue == "Proceedings of the Example Conference on Graph Learning" and hyper.doi is None
    assert hyper.sources[0].line == 24
    assert book.title == "A Short Book on Long Contexts" and book.authors == ["Dae-Jung Kim"]
    assert book.year == 2022 and book.date is None and book.venue is None and book.sources[0].line == 39


def test_ris_missing_er_and_cut_short(tmp_path):
    text = FIXTURE_OF["ris"].read_text()
    first_er = text.index("ER  - \n")
    missing = tmp_path / "missing_er.ris"
    missing.write_text(text[:first_er] + text[first_er + len("ER  - \n"):])
    papers, rejected = read(missing)
    assert rejections(rejected) == [
        (4, "RIS record has no 'ER  -' line before the next record (line 23); it is skipped"),
        (32, "RIS record has neither title (TI/T1) nor abstract (AB/N2)")]
    assert [p.title for p in papers] == ["Message Passing on Hypergraphs with Über-Edges", "A Short Book on Long Contexts"]
    cut = tmp_path / "cut.ris"
    cut.write_text(text[: text.index("ET  - 2nd")])
    papers, rejected = read(cut)
    assert len(papers) == 2 and rejections(rejected)[-1] == (
        39, "RIS record has no 'ER  -' line (file cut short?); it is skipped")


def test_ris_stray_ty_lines_stay_one_record(tmp_path):
    # JabRef's and rispy's reading: a TY line without a title after it does not open a new record.
    path = tmp_path / "stray.ris"
    path.write_text("TY  - JOUR\nTY  - BOOK\nTI  - One Record\nAU  - Roe, Jane\nTY  - OTHER\nPB  - X\nER  - \n")
    (paper,), rejected = read(path)
    assert not rejected and paper.title == "One Record" and paper.authors == ["Jane Roe"]
    assert paper.extra["ris_type"] == "JOUR" and paper.sources[0].line == 1


def test_a_title_of_only_markup_is_rejected_not_stored_under_an_empty_id(tmp_path):
    path = tmp_path / "markup.ris"
    path.write_text("TY  - JOUR\nTI  - \\\nAU  - Roe, Jane\nER  - \n")
    papers, rejected = read(path)
    assert not papers and rejections(rejected) == [(1, "RIS record: title and abstract are empty once cleaned")]


def test_ris_title_markup_and_entities_read_as_text(tmp_path):
    path = tmp_path / "publisher.ris"
    path.write_text("TY  - JOUR\nTI  - Growth of <i>E. coli</i> in H<sub>2</sub>O &amp; soil for n < m\n"
                    "AU  - Roe, Jane\nJO  - Journal of <i>Microbes</i> &amp; Soil\nPY  - 2020\nER  - \n")
    (paper,), rejected = read(path)
    assert not rejected and paper.title == "Growth of E. coli in H2O & soil for n < m"
    assert paper.venue == "Journal of Microbes & Soil"


def test_ris_latin1_record(tmp_path):
    text = FIXTURE_OF["ris"].read_text()
    path = tmp_path / "latin1.ris"
    path.write_bytes(text.encode("utf-8").replace("Müller".encode(), "Müller".encode("latin-1")))
    papers, rejected = read(path)
    assert (24, "not valid UTF-8 text (is the file in another encoding?)") in rejections(rejected)
    assert [p.sources[0].line for p in papers] == [4, 39]


# ------------------------------------------------------------------------------------------ CSL-JSON

def test_csl_json_fields():
    (article, conference), rejected = read(FIXTURE_OF["csl-json"])
    assert rejections(rejected) == [(31, "CSL item 'broken2022': has neither title nor abstract"),
                                    (37, "expected a CSL item object, found str")]
    assert article.title == "Calibrated Abstention for Retrieval-Augmented Question Answering"
    assert article.authors == ["Rosa Delgado", "Jonas van den Berg", "Chen Yu Jr."]  # editors are not authors
    assert article.year == 2020 and article.date == "2020-05-17"
    assert article.venue == "Journal of Example Language Research" and article.doi == "10.5555/jelr.2020.0007"
    assert article.arxiv_id == "2005.01234" and article.keywords == ["abstention", "calibration"]
    assert article.abstract == "We study when a retrieval-augmented reader should abstain."
    assert article.extra == {"csl_type": "article-journal", "url": "https://example.org/jelr/2020/0007"}
    assert article.sources[0].line == 2 and article.sources[0].source_id == "delgado2020"
    assert conference.authors == ["The Example Consortium", "M. Okafor"]  # a literal name
    assert conference.year == 2021 and conference.date == "2021-11"  # date-parts as strings
    assert conference.venue == "Example Workshop on Search"
    assert conference.doi == "10.5555/ews.2021.12"  # a shortDOI in DOI: the full one from the doi.org URL
    assert conference.extra["short_doi"] == "10/abc12" and conference.arxiv_id == "2111.00042"
    assert conference.sources[0].line == 20 and conference.abstract == ""


def test_csl_dates():
    from paperlens.sources.csl_json import csl_date

    assert csl_date({"date-parts": [["1930"], ["1952"]]}).year == 1930  # a range: its start
    assert csl_date({"date-parts": [[2019, 13, 40]]}) == parse_date("2019")  # bad month: year only
    assert csl_date({"raw": "2019-03-21"}).iso == "2019-03-21" and csl_date({"literal": "Spring 2018"}).year == 2018
    assert csl_date({"date-parts": [[]]}).year is None and csl_date(None).year is None


def test_csl_and_zotero_rich_text_titles_read_as_text(tmp_path):
    """CSL and Zotero titles carry their rich-text markup (<i>, <sub>, <span class="nocase">) and escape &."""
    csl = tmp_path / "rich.csl.json"
    csl.write_text(json.dumps([{"id": "k", "type": "article-journal", "issued": {"date-parts": [[2020]]},
                                "title": "Growth of <i>E. coli</i> in H<sub>2</sub>O &amp; <span class=\"nocase\">"
                                         "iPhone</span> data for n < m",
                                "container-title": "Journal of <i>Microbes</i>"}]))
    (paper,), rejected = read(csl)
    assert not rejected and paper.title == "Growth of E. coli in H2O & iPhone data for n < m"
    assert paper.venue == "Journal of Microbes"
    bbt = tmp_path / "rich.bbt.json"
    bbt.write_text(json.dumps({"items": [{"itemType": "journalArticle", "itemID": 1, "date": "2020",
                                          "title": "<i>In vivo</i> imaging &amp; more", "creators": []}]}))
    (paper,), rejected = read(bbt)
    assert not rejected and paper.title == "In vivo imaging & more"


# ------------------------------------------------------------------------------------------ Better BibTeX JSON

def test_zotero_bbt_fields():
    (article, preprint), rejected = read(FIXTURE_OF["zotero-bbt-json"])
    assert rejections(rejected) == [(37, "Zotero note 3 is not a paper; skipped"),
                                    (42, "Zotero item 4: has neither title nor abstract")]
    assert article.title == "Calibrated Abstention, Revisited"
    assert article.authors == ["Rosa Delgado", "Sven Aalto"]  # the editor is left out
    assert article.year == 2022 and article.date == "2022-03"  # Zotero's "3/2022"
    assert article.venue == "Journal of Example Language Research" and article.doi == "10.5555/jelr.2022.0003"
    assert article.arxiv_id == "2203.01234"  # from extra: "arXiv: 2203.01234"
    assert article.keywords == ["abstention", "calibration"]
    assert article.abstract == "Abstention thresholds transfer across domains."
    assert article.extra == {"zotero_type": "journalArticle", "url": "https://example.org/jelr/2022/0003"}
    assert article.sources[0].line == 9 and article.sources[0].source_id == "delgado2022calibrated"
    assert preprint.authors == ["Example Team"] and preprint.arxiv_id == "2311.00002"
    assert preprint.venue is None and preprint.categories == ["cs.CL"]  # "arXiv:2311.00002 [cs.CL]" is no venue
    assert preprint.date == "2023-11-02" and preprint.year == 2023 and preprint.sources[0].line == 27


# ------------------------------------------------------------------------------------------ Semantic Scholar

def test_s2_batch_fields():
    (full, bare), rejected = read(FIXTURE_OF["s2-json"])
    assert rejections(rejected) == [
        (2, "item 0 is null: Semantic Scholar found no paper for the id asked at that position"),
        (32, "paper aaaabbbbccccddddeeeeffff0000111122223333: has neither title nor abstract "
             "(ask the API for fields=title,abstract)")]
    assert full.title == "Calibrated Abstention for Retrieval-Augmented Question Answering"
    assert full.authors == ["Rosa Delgado", "Sven Aalto"]
    assert full.arxiv_id == "2406.11111" and full.doi == "10.48550/arxiv.2406.11111"
    assert full.year == 2024 and full.date == "2024-06-17"
    assert full.venue == "Example Letters"  # venue "" -> journal.name
    assert full.tldr == "Readers should abstain when retrieval is weak."
    assert full.abstract == "We study when a retrieval-augmented reader should abstain."
    assert full.extra == {"url": "https://www.semanticscholar.org/paper/0123456789abcdef0123456789abcdef01234567",
                          "pdf_url": "https://arxiv.org/pdf/2406.11111", "fields_of_study": ["Computer Science"],
                          "citation_count": 7}
    assert full.sources[0].line == 3 and full.sources[0].source_id == "0123456789abcdef0123456789abcdef01234567"
    assert bare.title == "Message Passing on Hypergraphs" and bare.abstract == "" and bare.authors == ["Jörg Müller"]
    assert bare.doi == "10.5555/ex.2020.9" and bare.year == 2020 and bare.date is None
    assert bare.venue == "Neural Information Processing Systems" and bare.tldr is None and bare.sources[0].line == 22


def test_s2_wrapped_responses(tmp_path):
    papers = json.loads(FIXTURE_OF["s2-json"].read_text())
    refs = tmp_path / "references.json"
    refs.write_text(json.dumps({"offset": 0, "next": 2, "data": [{"citedPaper": papers[1]},
                                                                 {"citedPaper": papers[2]}, {"citedPaper": None}]}))
    search = tmp_path / "search.json"
    search.write_text(json.dumps({"total": 2, "offset": 0, "data": papers[1:3]}, indent=2))
    author = tmp_path / "author.json"
    author.write_text(json.dumps({"authorId": "1001", "name": "Rosa Delgado", "papers": papers[1:3]}))
    one, lines = tmp_path / "one.json", tmp_path / "papers.jsonl"
    one.write_text(json.dumps(papers[1], indent=2))
    lines.write_text("".join(json.dumps(p) + "\n" for p in papers[1:3]))
    for path in (refs, search, author, lines):
        assert detect_format(path) == "s2-json", path
        got, rejected = read(path)
        assert [p.title for p in got] == ["Calibrated Abstention for Retrieval-Augmented Question Answering",
                                          "Message Passing on Hypergraphs"], path
        assert rejections(rejected) == ([(1, "item 2: citedPaper is null")] if path == refs else []), path
    (single,), _ = read(one)
    assert single.arxiv_id == "2406.11111" and single.sources[0].line == 1
    opening = [n - 1 for n, x in enumerate(search.read_text().split("\n"), 1) if '"paperId"' in x]  # the line before
    assert [p.sources[0].line for p in read(search)[0]] == opening and opening[0] == 5
    assert [p.sources[0].line for p in read(lines)[0]] == [1, 2]
    broken = tmp_path / "broken.jsonl"
    broken.write_text(lines.read_text().replace('"title": "Message', '"title": Message') + "null\n"
                      + json.dumps(papers[2]) + "\n")
    got, rejected = read(broken, fmt="s2-json")
    assert [p.sources[0].line for p in got] == [1, 4]  # the lines after a broken one are still read
    assert [r.line for r in rejected] == [2, 3] and rejected[0].message.startswith("invalid JSON (Expecting value")


# ------------------------------------------------------------------------------------------ paper-copilot

def test_papercopilot_fields():
    (poster, rejected_paper, spotlight), rejected = read(FIXTURE_OF["papercopilot-json"])
    assert rejections(rejected) == [(38, "paper brokenrec: has neither title nor abstract")]
    assert poster.title == "Distilling Chain-of-Thought into Small Models"
    assert poster.authors == ["Lena Fischer", "Tariq Haddad", "Mei Lin"]
    assert poster.keywords == ["distillation", "chain-of-thought", "efficiency"]
    assert poster.venue == "ICLR 2024" and poster.year == 2024  # from the file name, as paperlists names files
    assert poster.openreview_id == "Ab12Cd34Ef" and poster.id == "openreview:Ab12Cd34Ef"
    assert poster.tldr == "Small models learn to reason from filtered rationales."
    assert poster.code_url == "https://github.com/example-lab/cot-distill"
    assert poster.topic.area == "foundation or frontier models, including LLMs" and poster.topic.label is None
    assert poster.extra == {"status": "Poster", "track": "main"}
    assert poster.sources[0].line == 2 and poster.sources[0].source_id == "Ab12Cd34Ef"
    assert rejected_paper.venue is None and rejected_paper.year == 2024  # a rejected submission has no venue
    assert rejected_paper.extra == {"status": "Reject", "track": "main"} and rejected_paper.sources[0].line == 17
    assert spotlight.authors == ["Huayan Wang", "Koller Daphne"] and spotlight.openreview_id is None
    assert spotlight.extra == {"status": "Spotlight", "track": "Datasets and Benchmarks",
                               "url": "https://proceedings.example.org/v1/wang24a.html",
                               "pdf_url": "https://proceedings.example.org/v1/wang24a.pdf"}


def test_papercopilot_without_conference_in_the_name(tmp_path):
    items = json.loads(FIXTURE_OF["papercopilot-json"].read_text())
    items[2]["bibtex"] = "@InProceedings{x,\n  title = {T},\n  year = \t {2013},\n}"
    path = tmp_path / "export.json"
    path.write_text(json.dumps(items[:3], indent=1))
    assert detect_format(path) == "papercopilot-json"
    first, _, third = read(path)[0]
    assert first.venue is None and first.year is None  # nothing names the conference or the year
    assert third.year == 2013 and third.venue is None


# ------------------------------------------------------------------------------------------ helpers

def test_helpers():
    assert inverted_name("Cabral-Marques, H. M.") == "H. M. Cabral-Marques"
    assert inverted_name("Smith, Jr., John") == "John Smith Jr." and inverted_name("Cocke") == "Cocke"
    assert parse_date("2001/00/00/").year == 2001 and parse_date("2001/00/00/").iso is None
    assert parse_date("///").year is None and parse_date("99").year is None
    assert parse_date("2/2016").iso == "2016-02" and parse_date("31/12/2016").iso == "2016-12-31"
    assert parse_date("03/04/2016").iso is None and parse_date("March 21, 2019").iso == "2019-03-21"
    assert parse_date("21 Mar 2019").iso == "2019-03-21" and parse_date("2016-02-30").iso == "2016-02"
    assert find_arxiv_id("arXiv preprint arXiv:1802.02219v3") == "1802.02219"
    assert find_arxiv_id("arXiv: hep-th/9901001") == "hep-th/9901001"
    assert find_arxiv_id("https://arxiv.org/pdf/2101.00001v2.pdf") == "2101.00001"
    assert find_arxiv_id("10.48550/arXiv.2101.00001") == "2101.00001" and find_arxiv_id("no id") is None
    assert find_doi("http://doi.acm.org/10.1145/1234.5678") == "10.1145/1234.5678"
    assert find_doi("https://dx.doi.org/10.1000%2FABC") == "10.1000/abc"
    assert find_doi("https://journals.example.com/doi/abs/10.1123/ssj.5.3.197") == "10.1123/ssj.5.3.197"
    assert find_doi("doi: whatever") is None and find_doi("DOI: 10.1/x.") == "10.1/x"


# ------------------------------------------------------------------------------------------ bad input

@pytest.mark.parametrize("fmt", ["csl-json", "zotero-bbt-json", "s2-json", "papercopilot-json"])
def test_json_nested_too_deep_is_a_rejection_with_its_line(tmp_path, fmt):
    text = FIXTURE_OF[fmt].read_text()
    cut = text.rindex("}", 0, text.rindex("]")) + 1  # after the last object of the list of records
    deep = "[" * 200_000
    path = tmp_path / "deep.json"
    path.write_text(text[:cut] + ",\n" + deep + "\n")
    papers, rejected = read(path, fmt=fmt)
    want = len(read(FIXTURE_OF[fmt])[0])
    assert len(papers) == want  # the records before the deep one are kept
    line = text[:cut].count("\n") + 2
    assert (line, "JSON nested too deeply to read; the rest of the file is skipped") in rejections(rejected)


@pytest.mark.parametrize("fmt", ["csl-json", "zotero-bbt-json", "s2-json", "papercopilot-json"])
def test_json_over_the_size_limit_is_refused(tmp_path, monkeypatch, fmt):
    monkeypatch.setenv("PAPERLENS_MAX_JSON_MB", "0.001")  # 1 KiB and a bit
    papers, rejected = read(FIXTURE_OF[fmt], fmt=fmt)
    assert not papers
    assert rejections(rejected) == [(1, "JSON file is larger than 0.001 MiB, the limit for one document; "
                                        "split it, or raise PAPERLENS_MAX_JSON_MB")]


@pytest.mark.parametrize("fmt", ["csl-json", "zotero-bbt-json", "s2-json", "papercopilot-json"])
def test_json_cut_short_keeps_the_records_before(tmp_path, fmt):
    text = FIXTURE_OF[fmt].read_text()
    objects = [m.start() for m in re.finditer(r"(?m)^ {2,8}\{$", text)]  # lines that open a record
    cut_at = objects[2] + 12  # inside a later record
    path = tmp_path / "cut.json"
    path.write_text(text[:cut_at])
    papers, rejected = read(path, fmt=fmt)
    assert papers and all(p.sources[0].line < text[:cut_at].count("\n") + 1 for p in papers)
    assert "invalid JSON" in rejected[-1].message and rejected[-1].path == str(path)


@pytest.mark.parametrize("fmt", MINE)
def test_ingest_reports_file_and_line_and_stores_the_rest(tmp_path, fmt):
    path = FIXTURE_OF[fmt]
    papers, rejected = read(path)
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "refs.db"), "ingest", str(path)])
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    assert rejected
    for r in rejected:
        assert f"{path}:{r.line}: {r.message}" in result.output, result.output
    assert f"new: {len(papers)} " in result.output, result.output


# ------------------------------------------------------------------------------------------ real files

def _norm(text):
    return " ".join(text.split()) if isinstance(text, str) else text


def _ref_ris(path):
    refs = []
    for entry in rispy.load(path, encoding="utf-8-sig"):
        names = [*(entry.get("authors") or []), *(entry.get("first_authors") or [])]
        first = names[0].strip() if names else None
        if first and "," in first:
            family, given = (x.strip() for x in first.split(",", 1))
            first = f"{given} {family}".strip()
        years = [re.match(r"\s*(\d{4})", entry.get(k) or "") for k in ("year", "publication_year", "date")]
        doi = (entry.get("doi") or "").strip()
        if not doi:
            doi = next((u for u in entry.get("urls") or [] if re.match(r"https?://(dx\.)?doi\.org/", u)), "")
        doi = re.sub(r"^https?://(dx\.)?doi\.org/", "", doi).lower() or None
        refs.append({"title": entry.get("title") or entry.get("primary_title"), "first_author": first,
                     "year": next((int(m.group(1)) for m in years if m), None), "doi": doi})
    return refs


def _ref_csl(item):
    author = (item.get("author") or [{}])[0]
    first = author.get("literal") or " ".join(x for x in (author.get("given"), author.get("family")) if x) or None
    parts = (item.get("issued") or {}).get("date-parts") or [[None]]
    doi = item.get("DOI", "") if str(item.get("DOI", "")).startswith("10.") else ""
    if not doi and re.match(r"https?://(dx\.)?doi\.org/10\.", item.get("URL", "")):
        doi = re.sub(r"^https?://(dx\.)?doi\.org/", "", item["URL"])
    if not doi and "/doi/abs/10." in item.get("URL", ""):  # publisher pages (Atypon): /doi/abs/<DOI>
        doi = item["URL"].split("/doi/abs/", 1)[1]
    return {"title": item.get("title"), "first_author": first,
            "year": int(parts[0][0]) if parts[0][0] else None, "doi": doi.lower() or None}


def _ref_bbt(item):
    authors = [c for c in item.get("creators", []) if c.get("creatorType") == "author"]
    first = f"{authors[0].get('firstName', '')} {authors[0].get('lastName', '')}".strip() if authors else None
    year = re.search(r"\d{4}", item.get("date", ""))
    return {"title": item.get("title"), "first_author": first, "year": int(year.group(0)) if year else None,
            "doi": item.get("DOI", "").lower() or None}


def _ref_s2(item):
    return {"title": item.get("title"), "first_author": (item.get("authors") or [{}])[0].get("name"),
            "year": item.get("year"), "doi": ((item.get("externalIds") or {}).get("DOI") or "").lower() or None}


def _ref_copilot(item, year):
    return {"title": item.get("title"), "first_author": item["author"].split(";")[0].strip() or None,
            "year": year, "doi": None}


def _reference(fmt, path):
    """(reference records of the papers the file holds, the number of records it holds)."""
    if fmt == "ris":
        refs = _ref_ris(path)
        return [r for r in refs if r["title"]], len(refs)
    data = json.loads(path.read_text(encoding="utf-8-sig"))
    if fmt == "csl-json":
        return [_ref_csl(i) for i in data if i.get("title")], len(data)
    if fmt == "zotero-bbt-json":
        return [_ref_bbt(i) for i in data["items"] if i.get("title")], len(data["items"])
    if fmt == "s2-json":
        items = data if isinstance(data, list) else data.get("data") or data.get("papers") or [data]
        items = [i.get("citedPaper", i) if isinstance(i, dict) and "paperId" not in i else i for i in items]
        return [_ref_s2(i) for i in items if i and (i.get("title") or i.get("abstract"))], len(items)
    year = int(re.search(r"(\d{4})\.json$", path.name).group(1))
    return [_ref_copilot(i, year) for i in data if i.get("title")], len(data)


def test_real_files_are_read_and_match_an_independent_reference(capsys):
    if not REALWORLD.is_dir():
        pytest.skip(f"{REALWORLD} not present")
    fields = ("title", "first_author", "year", "doi")
    checked = wrong = files = 0
    errors = []
    for fmt in MINE:
        for path in sorted((REALWORLD / fmt).glob("*")):
            files += 1
            assert detect_format(path) == fmt, path
            papers, rejected = read(path)
            reference, count = _reference(fmt, path)
            assert len(papers) + len(rejected) == count, (path, rejected)
            assert len(papers) == len(reference), (path, rejected)
            for paper, ref in zip(papers, reference, strict=True):
                got = {"title": paper.title, "first_author": paper.authors[0] if paper.authors else None,
                       "year": paper.year, "doi": paper.doi}
                for field in fields:
                    if fmt == "papercopilot-json" and field == "doi":
                        continue
                    checked += 1
                    if _norm(got[field]) != _norm(ref[field]):
                        wrong += 1
                        errors.append((path.name, field, got[field], ref[field]))
            if path.name == "s2lib_test_get_papers.json":
                # Asked without fields=title: ids and authors only. Nothing to store, each one said why.
                assert not papers and all("neither title nor abstract" in r.message for r in rejected)
            else:
                assert papers, path
    with capsys.disabled():
        print(f"\nreference-manager formats: {files} real files, {checked} fields checked, {wrong} differ "
              f"({100 * wrong / max(checked, 1):.2f}%)")
        for error in errors:
            print("  ", error)
    assert wrong / checked <= 0.005, errors


ODD_VALUES = [None, 1, -5, 1.5, True, [], {}, "", "x", [1], {"a": 1}, ["a", None], [{"x": None}], "10.", "arXiv:",
              "2019///", "\\", {"date-parts": "x"}, {"date-parts": [["x", {}]]}]


def _mutate(value, rnd):
    if isinstance(value, dict):
        return {k: rnd.choice(ODD_VALUES) if rnd.random() < 0.3 else _mutate(v, rnd) for k, v in value.items()}
    if isinstance(value, list):
        return [rnd.choice(ODD_VALUES) if rnd.random() < 0.2 else _mutate(v, rnd) for v in value]
    return value


@pytest.mark.parametrize("fmt", ["csl-json", "zotero-bbt-json", "s2-json", "papercopilot-json"])
def test_fields_of_any_type_are_read_or_rejected(tmp_path, fmt):
    import random

    rnd = random.Random(13)
    data = json.loads(FIXTURE_OF[fmt].read_text())
    for n in range(60):
        path = tmp_path / f"iclr2024_{n}.json"
        path.write_text(json.dumps(_mutate(data, rnd), indent=1))
        text_lines = path.read_text().count("\n") + 1
        for record in read_records(path, fmt=fmt, as_of=AS_OF):
            if isinstance(record, Rejected):
                assert record.path == str(path) and 1 <= record.line <= text_lines
            else:
                assert record.title or record.abstract
                assert all(isinstance(a, str) and a for a in record.authors)


def test_ris_authors_keep_the_order_of_their_lines_across_au_and_a1(tmp_path):
    # Before: rispy keeps AU and A1 names in two lists and every A1 name went after every AU name.
    path = tmp_path / "mixed.ris"
    path.write_text("TY  - JOUR\nTI  - Mixed author tags\nA1  - First, Ann\nAU  - Second, Bob\n"
                    "A1  - Third, Cy\nAU  - Fourth, Di\nPY  - 2024\nER  - \n"
                    "TY  - JOUR\nTI  - Only AU tags\nAU  - One, Al\nAU  - Two, Bea\nER  - \n", encoding="utf-8")
    (mixed, only_au), rejected = read(path, "ris")
    assert not rejected
    assert mixed.authors == ["Ann First", "Bob Second", "Cy Third", "Di Fourth"]
    assert only_au.authors == ["Al One", "Bea Two"]


def test_han_names_keep_chinese_order_in_bibtex_ris_and_csl_json(tmp_path):
    # Before: 'author = {张, 三}' (and RIS 'AU  - 张, 三', CSL {family: 张, given: 三}) read '三 张'.
    from paperlens.core.clean import slugify
    from paperlens.store import Store

    bib = tmp_path / "names.bib"
    bib.write_text("@article{n1, title = {Names in two orders of writing}, year = {2024}, author = {张, 三 and "
                   "Wang, Li and 欧阳, 修 and {\\\"O}zil, Mesut and 李四 and Tanaka, 太郎}}\n", encoding="utf-8")
    ris = tmp_path / "names.ris"
    ris.write_text("TY  - JOUR\nTI  - Names in two orders of writing\nPY  - 2024\nAU  - 张, 三\nAU  - Wang, Li\n"
                   "ER  - \n", encoding="utf-8")
    csl = tmp_path / "names.json"
    csl.write_text(json.dumps([{"id": "c1", "type": "article-journal", "title": "Names in two orders of writing",
                                "issued": {"date-parts": [[2024]]},
                                "author": [{"family": "张", "given": "三"}, {"family": "Wang", "given": "Li"}]}],
                              ensure_ascii=False), encoding="utf-8")
    (from_bib,), _ = read(bib, "bibtex")
    (from_ris,), _ = read(ris, "ris")
    (from_csl,), _ = read(csl, "csl-json")
    assert from_bib.authors == ["张三", "Li Wang", "欧阳修", "Mesut Özil", "李四", "太郎 Tanaka"]
    assert from_ris.authors == from_csl.authors == ["张三", "Li Wang"]
    # one paper, one author page for 张三
    store = Store(tmp_path / "n.db")
    store.ingest([from_bib, from_ris, from_csl])
    assert store.count() == 1
    slugs = [r[0] for r in store.conn.execute("SELECT slug FROM paper_authors ORDER BY position")]
    assert slugs[0] == slugify("张三") and slugs.count(slugify("张三")) == 1
