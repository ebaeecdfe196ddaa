"""arXiv listing feeds, daily-arXiv-ai-enhanced JSONL, ICLR tables with other columns, the generic
table/JSON reader, and detection you can trust (the format named, forced formats checked, exit codes)."""

from __future__ import annotations

import ast
import csv
import html
import json
import re
import sqlite3
import xml.etree.ElementTree as ET
from datetime import date

import pytest
from click.testing import CliRunner

from paperlens.cli import main
from paperlens.core.clean import latex_to_text
from paperlens.core.words import split_glued
from paperlens.sources import SOURCES, detect_format, read_records
from paperlens.sources.base import Rejected, read_head

from .conftest import FIXTURES, shared_data

AS_OF = date(2026, 12, 1)


def papers(path, fmt="auto"):
    records = list(read_records(path, fmt=fmt, as_of=AS_OF))
    assert not [r for r in records if isinstance(r, Rejected)], records
    return records


def run(db, *args):
    return CliRunner().invoke(main, ["--db", str(db), *args], catch_exceptions=False)


def count(db):
    return sqlite3.connect(db).execute("SELECT count(*) FROM papers").fetchone()[0]


NEW_FIXTURES = {
    "arxiv_listing_rss.xml": "arxiv-rss", "arxiv_listing_atom.xml": "arxiv-rss", "arxiv_listing_rdf.xml": "arxiv-rss",
    "dae_en.jsonl": "daily-arxiv-ai-enhanced", "dae_zh.jsonl": "daily-arxiv-ai-enhanced",
    "papers_zotero.csv": "generic", "papers.tsv": "generic", "papers_list.json": "generic",
    "papers_variants.jsonl": "generic",
    # the formats that were there before: still theirs
    "arxiv_api_response.xml": "arxiv-atom", "arxiv_snapshot.jsonl": "arxiv-jsonl", "arxiv_snapshot.csv": "arxiv-csv",
    "iclr_papers.csv": "iclr-csv", "openreview_notes.json": "openreview-json", "papers.bib": "bibtex",
}


@pytest.mark.parametrize(("name", "fmt"), NEW_FIXTURES.items())
def test_each_file_is_claimed_by_one_adapter_only(name, fmt):
    path = FIXTURES / name
    assert detect_format(path) == fmt
    head = read_head(path)
    assert [other for other, cls in SOURCES.items() if cls.sniff(path, head)] == [fmt]


# ------------------------------------------------------------------------------------ arXiv listing feeds


def test_rss_listing_fields():
    new, cross, replaced = papers(FIXTURES / "arxiv_listing_rss.xml")
    assert new.id == "arxiv:2612.00011" and new.title == "Token Budgets for Chain-of-Thought Distillation"
    assert new.authors == ["Mei Lin", "Jonas Berg", "Priya Raman"]
    assert new.abstract_raw == ("We distil long chain-of-thought traces into students that answer within a fixed "
                                "budget of $k$ tokens, keeping 92\\% of the teacher's accuracy.")
    assert new.categories == ["cs.CL", "cs.LG"] and new.date == "2026-12-01" and new.year == 2026
    assert new.extra == {"arxiv_version": 1, "announce_type": "new",
                         "license": "http://creativecommons.org/licenses/by/4.0/"}
    assert new.sources[0].source == "arxiv-rss" and new.sources[0].line == 17
    assert cross.title == "Retrieval Heads & Where They Look" and cross.authors == ["Sven Aalto"]
    assert cross.abstract == ("We locate the attention heads that copy facts from long contexts and show that "
                              "pruning them breaks retrieval.")
    assert cross.doi == "10.48550/example.2612.00042" and cross.venue == "Proc. Example Workshop on Search (2026) 1-9"
    assert cross.extra["announce_type"] == "cross" and cross.extra["arxiv_version"] == 2
    assert cross.sources[0].line == 30
    assert replaced.arxiv_id == "2405.01234" and replaced.extra["announce_type"] == "replace"
    assert replaced.authors == ["Rosa Delgado", "Chen Yu"]


def test_a_replaced_paper_keeps_its_own_date_not_the_revision_day(tmp_path):
    # 2405.01234v3 announced as "replace" on 2026-12-01 is a paper of May 2024, revised that day
    replaced = papers(FIXTURES / "arxiv_listing_rss.xml")[2]
    assert replaced.date == "2024-05" and replaced.year == 2024
    assert replaced.extra["update_date"] == "2026-12-01"


def test_atom_listing_and_old_rdf_listing():
    (atom,) = papers(FIXTURES / "arxiv_listing_atom.xml")
    (rss,) = papers(FIXTURES / "arxiv_listing_rss.xml")[:1]
    for field in ("id", "title", "authors", "abstract_raw", "categories", "date"):
        assert getattr(atom, field) == getattr(rss, field), field
    assert atom.sources[0].line == 8 and atom.extra["announce_type"] == "new"
    (old,) = papers(FIXTURES / "arxiv_listing_rdf.xml")
    assert old.arxiv_id == "2311.10001" and old.title == "Calibrated Abstention for Retrieval-Augmented QA"
    assert old.authors == ["Rosa Delgado", "Chen Yu"] and old.date == "2023-11-20" and old.categories == ["cs.CL"]
    assert old.abstract == "Retrieval-augmented models answer even when the evidence is missing; we teach them to abstain."


def _sub(match):
    text = html.unescape(match.group(2)).strip()
    return ("_" if match.group(1) == "sub" else "^") + (text if text.isalnum() else "{" + text + "}")


def _unique(names):
    """A name listed twice (in any case) is kept once."""
    return [n for i, n in enumerate(names) if n.lower() not in {x.lower() for x in names[:i]}]


def _html(text):
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<(sub|sup)>(.*?)</\1>", _sub, text))).split())


def _rss_reference(path):
    """Items of an RSS file read with ElementTree and regular expressions (not feedparser)."""
    out = []
    for item in ET.parse(path).getroot().iter("item"):
        description = item.findtext("description") or ""
        paragraphs = [_html(p) for p in re.findall(r"<p>(.*?)</p>", description, flags=re.S)]
        labelled = [p for p in paragraphs if re.match(r"^\w+:", p)]
        plain = [p for p in paragraphs if p not in labelled]
        published = next((p.split(":", 1)[1].strip()[:10] for p in labelled if p.startswith("Published:")), None)
        out.append({
            "arxiv_id": re.search(r"abs/(\d{4}\.\d{4,5})", item.findtext("link")).group(1),
            # the shared LaTeX cleaning applies to titles; <sub>x</sub> reads as _x
            "title": latex_to_text(_html(item.findtext("title") or "")),
            "authors": _unique([a.strip() for a in plain[0].split(",")] if len(plain) > 1 else [item.findtext("author")]),
            "abstract_raw": " ".join(plain[1:] if len(plain) > 1 else plain),
            "date": published,
        })
    return out


def test_realworld_arxiv_rss_files_read_field_by_field():
    folder = shared_data("realworld", "arxiv-rss")
    files = sorted(folder.glob("*.xml"))
    assert files
    for path in files:
        assert detect_format(path) == "arxiv-rss", path
        got = papers(path)
        expected = _rss_reference(path)
        assert len(got) == len(expected) > 0
        for paper, ref in zip(got, expected, strict=True):
            for field, value in ref.items():
                assert getattr(paper, field) == value, (path.name, ref["arxiv_id"], field)


# ------------------------------------------------------------------------------------ daily-arXiv-ai-enhanced


def test_dae_ai_fields_become_a_summary_in_their_language():
    (en,) = papers(FIXTURES / "dae_en.jsonl")
    assert en.id == "arxiv:2612.00011" and en.authors == ["Mei Lin", "Jonas Berg"]
    assert en.abstract == ("We distil long chain-of-thought traces into students that answer within a fixed "
                           "token budget.")
    assert en.tldr == "Budget-aware distillation keeps most of the accuracy."
    assert list(en.summary) == ["en"]
    assert en.summary["en"].model_dump() == {
        "motivation": "Long traces are expensive.", "problem": "", "observation": "",
        "method": "Distil under a token budget.", "experiments": "92% of the teacher's accuracy with a third of the tokens.",
        "contribution": "Budgets are a cheap knob."}
    assert en.extra == {"arxiv_version": 1, "comments": "9 pages", "pdf_url": "https://arxiv.org/pdf/2612.00011v1",
                        "summary_by": "daily-arXiv-ai-enhanced"}
    (zh,) = papers(FIXTURES / "dae_zh.jsonl")
    assert list(zh.summary) == ["zh"] and zh.language == "en" and zh.tldr is None
    assert zh.summary["zh"].problem == "在固定令牌预算内蒸馏长思维链"
    assert zh.summary["zh"].experiments == "以三分之一的令牌保留教师模型92%的准确率"
    assert zh.extra["title_zh"] == "思维链蒸馏的令牌预算"


def test_dae_summary_provenance_names_the_tool(tmp_path):
    db = tmp_path / "dae.db"
    result = run(db, "ingest", str(FIXTURES / "dae_zh.jsonl"))
    assert result.exit_code == 0 and "(detected as daily-arxiv-ai-enhanced)" in result.output
    shown = run(db, "show", "arxiv:2612.00011")
    assert f"summary.zh.method: daily-arxiv-ai-enhanced {FIXTURES / 'dae_zh.jsonl'}:1" in shown.output


DAE_AI = {"tldr": None, "task": "problem", "motivation": "motivation", "method": "method", "result": "experiments",
          "conclusion": "contribution"}


def test_realworld_dae_files_read_field_by_field():
    folder = shared_data("realworld", "dae-jsonl")
    files = sorted(folder.glob("*.jsonl"))
    assert files
    for path in files:
        assert detect_format(path) == "daily-arxiv-ai-enhanced", path
        got = papers(path)
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        assert len(got) == len(rows) > 0
        for number, (paper, row) in enumerate(zip(got, rows, strict=True), start=1):
            assert paper.arxiv_id == re.sub(r"v\d+$", "", row["id"]) and paper.sources[0].line == number
            assert paper.title == row["title"] and paper.authors == row["authors"]
            assert paper.abstract_raw == row["summary"].strip() and paper.categories == row["categories"]
            ai = row.get("AI") or {}
            language = "zh" if path.stem.endswith("_zh") else "en"
            assert list(paper.summary) == ([language] if ai else [])
            for key, field in DAE_AI.items():
                if field and key in ai:
                    assert getattr(paper.summary[language], field) == " ".join(ai[key].split()), (path.name, key)
            assert paper.tldr == (ai.get("tldr") or None)


# ------------------------------------------------------------------------------------ ICLR tables


def test_realworld_iclr_tables_with_other_columns():
    folder = shared_data("realworld", "iclr-csv")
    tsv, = sorted(folder.glob("*.tsv"))
    table, = sorted(folder.glob("*.csv"))
    assert detect_format(tsv) == "iclr-csv" and detect_format(table) == "iclr-csv"
    # TSV: written without CSV quoting (an abstract may start with a quote): split each line at the tabs
    lines = tsv.read_text(encoding="utf-8").split("\n")
    header = lines[0].split("\t")
    rows = [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:] if line.strip()]
    got = papers(tsv)
    assert len(got) == len(rows) > 0
    for number, (paper, row) in enumerate(zip(got, rows, strict=True), start=2):
        assert paper.openreview_id == row["link"].split("id=")[1] == row["paper_id"]
        assert paper.title == latex_to_text(row["title"].strip()) and paper.abstract_raw == row["abstract"].strip()
        # a keyword list's trailing full stop is dropped ('..., relational learning.')
        assert paper.keywords == [k.strip().rstrip(".") for k in row["keywords"].split(",") if k.strip()]
        assert paper.sources[0].line == number
    # CSV: keywords and ratings are Python list literals; rows without id and title are rejected
    with open(table, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        expected = [(reader.line_num, row) for row in reader]
    records = list(read_records(table))
    good = [r for r in records if not isinstance(r, Rejected)]
    bad = [r for r in records if isinstance(r, Rejected)]
    with_title = [(line, row) for line, row in expected if row["title"].strip()]
    assert len(good) == len(with_title) > 0 and len(bad) == len(expected) - len(with_title)
    assert all("neither title nor abstract" in r.message for r in bad)
    for paper, (line, row) in zip(good, with_title, strict=True):
        assert paper.openreview_id == row["id"] and paper.title == latex_to_text(row["title"].strip())
        # a keyword glued from two ('People Re-identification，Cross-modality') is two (issue 18)
        keywords = split_glued(k.strip() for k in ast.literal_eval(row["keywords"]) if k.strip())
        assert paper.keywords == [k for i, k in enumerate(keywords)  # repeats (any case) are dropped
                                  if k.lower() not in {x.lower() for x in keywords[:i]}]
        assert paper.extra["ratings"] == ast.literal_eval(row["ratings"])
        assert paper.extra.get("decision") == (row["decision"] or None)
        assert paper.sources[0].line == line


# ------------------------------------------------------------------------------------ generic reader


def test_generic_csv_with_extra_columns():
    first, second = papers(FIXTURES / "papers_zotero.csv")
    assert first.title == "Calibrated Abstention for Retrieval-Augmented QA"
    assert first.authors == ["Rosa Delgado", "Chen Yu"] and first.year == 2024 and first.date == "2024-03-05"
    assert first.doi == "10.1234/jes.2024.001" and first.id == "doi:10.1234/jes.2024.001"
    assert first.venue == "Journal of Example Studies" and first.keywords == ["abstention", "calibration"]
    assert first.abstract == ("Retrieval-augmented models answer even when the evidence is missing. We teach them "
                              'to abstain, and measure "calibration" on three benchmarks.')
    assert first.extra == {"url": "https://example.org/abs/1"}
    assert first.sources[0].source == "generic" and first.sources[0].line == 2
    assert second.sources[0].line == 4  # the row after a quoted two-line abstract
    assert second.authors == ["Sven Aalto"] and second.arxiv_id == "2502.01234" and second.date == "2025-02"


def test_generic_tsv():
    first, second = papers(FIXTURES / "papers.tsv")
    assert first.arxiv_id == "2612.00011" and first.authors == ["Mei Lin", "Jonas Berg", "Priya Raman"]
    assert first.abstract == "\"Budget-aware\" distillation keeps 92% of the teacher's accuracy."
    assert first.date == "2026-12-01" and first.venue is None and first.sources[0].line == 2
    assert second.arxiv_id == "2611.09999" and second.venue == "ICLR 2027" and second.date == "2026-11-30"
    assert second.authors == ["Ewa Kowalski"] and second.sources[0].line == 3


def test_generic_json_list():
    first, second = papers(FIXTURES / "papers_list.json")
    assert first.title == "Curriculum Sampling for Preference Optimization"
    assert first.authors == ["Lena Fischer", "Tariq Haddad"] and first.year == 2026 and first.date is None
    assert first.doi == "10.5555/curriculum.2026" and first.keywords == ["preference optimization", "curriculum learning"]
    assert first.sources[0].line == 2 and second.sources[0].line == 10
    assert second.arxiv_id == "0903.1200" and second.date == "2009-03-07" and second.year == 2009


def test_generic_jsonl_with_variant_keys():
    first, second = papers(FIXTURES / "papers_variants.jsonl")
    assert first.title == "A Memory Agent Architecture" and first.authors == ["Alice Researcher", "Bob Builder"]
    assert first.abstract == "A persistent memory agent with deterministic recall."
    assert first.openreview_id == "Mem0ryAg3nt" and first.date == "2026-08" and first.year == 2026
    assert first.keywords == ["agents", "memory"] and first.code_url == "https://github.com/example/memory-agent"
    assert second.authors == ["Yining Hong", "Rui Sun"] and second.year == 2025 and second.tldr == "A note."
    assert second.sources[0].line == 2


def test_generic_needs_a_title_and_an_abstract_or_authors(tmp_path):
    only_titles = tmp_path / "titles.csv"
    only_titles.write_text("title,year\nA Paper,2024\n")
    with pytest.raises(Exception, match="unknown format"):
        detect_format(only_titles)
    other = tmp_path / "people.json"
    other.write_text(json.dumps([{"name": "Ada", "authors": ["x"]}]))
    with pytest.raises(Exception, match="unknown format"):
        detect_format(other)


# ------------------------------------------------------------------------------------ detection you can trust


def test_ingest_names_the_detected_format(tmp_path):
    db = tmp_path / "a.db"
    result = run(db, "ingest", str(FIXTURES / "papers.tsv"), str(FIXTURES / "arxiv_listing_rss.xml"))
    assert result.exit_code == 0
    assert f"{FIXTURES / 'papers.tsv'}: 2 papers, 0 rejected (detected as generic)" in result.output
    assert f"{FIXTURES / 'arxiv_listing_rss.xml'}: 3 papers, 0 rejected (detected as arxiv-rss)" in result.output
    forced = run(db, "ingest", "--format", "generic", str(FIXTURES / "papers.tsv"))
    assert forced.exit_code == 0 and "(read as generic, forced)" in forced.output


def test_a_file_that_yields_nothing_exits_1_naming_the_format(tmp_path):
    weekend = tmp_path / "weekend.xml"  # rss.arxiv.org on a day without announcements
    text = (FIXTURES / "arxiv_listing_rss.xml").read_text(encoding="utf-8")
    weekend.write_text(re.sub(r"<item>.*</item>\s*", "", text, flags=re.S), encoding="utf-8")
    db = tmp_path / "b.db"
    result = run(db, "ingest", str(weekend))
    assert result.exit_code == 1
    assert f"{weekend}: no papers found (detected as arxiv-rss)" in result.output
    rejected = tmp_path / "bad.jsonl"
    rejected.write_text(json.dumps({"id": "not-an-id", "AI": {}, "summary": "x", "title": "y"}) + "\n")
    result = run(db, "ingest", str(rejected))
    assert result.exit_code == 1 and f"{rejected}: no papers found (detected as daily-arxiv-ai-enhanced)" in result.output
    assert count(db) == 0


def test_a_forced_wrong_format_stores_nothing(tmp_path):
    db = tmp_path / "c.db"
    path = FIXTURES / "dae_en.jsonl"
    result = run(db, "ingest", "--format", "arxiv-jsonl", str(path))
    assert result.exit_code == 1
    assert (f"{path}:1: --format arxiv-jsonl gives implausible records (author names look like a serialised list, "
            "e.g. \"['Mei Lin'\")") in result.output
    assert "auto-detection reads it as daily-arxiv-ai-enhanced" in result.output
    assert count(db) == 0
    right = run(db, "ingest", "--format", "daily-arxiv-ai-enhanced", str(path))
    assert right.exit_code == 0 and count(db) == 1


def test_a_forced_format_without_abstracts_where_another_reads_them(tmp_path):
    db = tmp_path / "d.db"
    path = FIXTURES / "papers.tsv"  # iclr-csv reads the title column but knows no 'summary'
    result = run(db, "ingest", "--format", "iclr-csv", str(path))
    assert result.exit_code == 1 and "none of the first 2 records has an abstract" in result.output
    assert "auto-detection reads it as generic" in result.output and count(db) == 0


def test_realworld_dae_forced_as_arxiv_jsonl_stores_nothing(tmp_path):
    path = shared_data("realworld", "dae-jsonl", "agentdevhub_dae_2025-06-21.jsonl")
    db = tmp_path / "e.db"
    result = run(db, "ingest", "--format", "arxiv-jsonl", str(path))
    assert result.exit_code == 1 and "['Yining Hong'" in result.output and "implausible" in result.output
    assert count(db) == 0


# ------------------------------------------------------------------------------------ bad input


def records(path, fmt="auto"):
    return list(read_records(path, fmt=fmt, as_of=AS_OF))


def test_listing_feed_cut_short_keeps_the_complete_items(tmp_path):
    text = (FIXTURES / "arxiv_listing_rss.xml").read_text(encoding="utf-8")
    cut = tmp_path / "cut.xml"
    cut.write_text(text[: text.index("<title>An Older Paper")], encoding="utf-8")
    got = records(cut)
    assert [p.arxiv_id for p in got[:-1]] == ["2612.00011", "2612.00042"]
    assert isinstance(got[-1], Rejected) and "malformed XML" in got[-1].message and got[-1].line >= 45
    latin = tmp_path / "latin.xml"
    latin.write_bytes(text.replace("Sven Aalto", "Sven Åalto").encode("latin-1"))
    (bad,) = records(latin)
    assert isinstance(bad, Rejected) and bad.line == 41 and "not valid UTF-8" in bad.message


def test_dae_bad_lines_are_rejected_with_their_line(tmp_path):
    good = (FIXTURES / "dae_en.jsonl").read_text(encoding="utf-8").strip()
    path = tmp_path / "dae.jsonl"
    path.write_bytes("\n".join([good, good[:50], json.dumps({**json.loads(good), "id": 2612.0001}),
                                json.dumps({**json.loads(good), "categories": 7})]).encode() + b"\n\xff\n")
    got = records(path)
    assert [type(r).__name__ for r in got] == ["Paper", "Rejected", "Rejected", "Paper", "Rejected"]
    assert got[1].line == 2 and "invalid JSON" in got[1].message
    assert got[2].line == 3 and "id is a number" in got[2].message
    assert got[3].categories == [] and got[4].line == 5 and "UTF-8" in got[4].message


def test_generic_bad_records(tmp_path):
    truncated = tmp_path / "list.json"
    truncated.write_text((FIXTURES / "papers_list.json").read_text()[:-20])
    got = records(truncated, fmt="generic")
    assert got[0].title.startswith("Curriculum") and isinstance(got[-1], Rejected) and got[-1].line >= 10
    table = tmp_path / "t.csv"
    table.write_text('title,abstract,authors\n"A Paper","An abstract",Ada\nonly,two\n,,\n"","",Nobody\n')
    got = records(table)
    assert got[0].title == "A Paper" and got[0].authors == ["Ada"]
    assert [(r.line, r.message) for r in got[1:]] == [
        (3, "row has 2 columns, the header has 3"), (5, "record has neither title nor abstract")]
