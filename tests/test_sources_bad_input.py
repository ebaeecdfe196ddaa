"""Bad input through `paperlens ingest` for every adapter: FILE:LINE: message, valid records kept,
nothing stored before touched, non-zero exit when nothing in the input was valid."""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

from paperlens.cli import main

from .conftest import FIXTURES, sample


def ingest(db, *args):
    return CliRunner().invoke(main, ["--db", str(db), "ingest", *map(str, args)])


def snapshot(db):
    return sqlite3.connect(db).execute("SELECT id, data, provenance FROM papers ORDER BY id").fetchall()


@pytest.fixture
def seeded(db_path):
    assert ingest(db_path, sample("003")).exit_code == 0
    return snapshot(db_path)


def check(db_path, seeded, path, expect_lines, new, fmt=None):
    """Ingest `path`; every expected 'path:line: text' is reported; `new` papers added; old rows unchanged."""
    args = (["--format", fmt] if fmt else []) + [path]
    result = ingest(db_path, *args)
    for line, text in expect_lines:
        assert f"{path}:{line}: {text}" in result.output, result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    assert f"new: {new} " in result.output, result.output
    after = snapshot(db_path)
    assert [row for row in after if row in seeded] == seeded  # nothing stored before was touched
    assert len(after) == len(seeded) + new
    assert result.exit_code == (0 if new else 1)
    return result


def lines_of(path):
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def test_arxiv_jsonl_truncated_line_and_latin1(db_path, seeded, tmp_path):
    good = lines_of(FIXTURES / "arxiv_snapshot.jsonl")
    bad = tmp_path / "snapshot.jsonl"
    latin1 = json.loads(good[1])
    latin1["title"] = "Caf\u00e9 routing"
    bad.write_bytes(good[0].encode() + good[2][:80].encode() + b"\n"
                    + json.dumps(latin1, ensure_ascii=False).encode("latin-1") + b"\n" + good[2].encode())
    check(db_path, seeded, bad, [(2, "invalid JSON"), (3, "not valid UTF-8")], new=2, fmt=None)


def test_arxiv_jsonl_nothing_valid_exits_nonzero(db_path, seeded, tmp_path):
    bad = tmp_path / "cut.jsonl"
    bad.write_text(lines_of(FIXTURES / "arxiv_snapshot.jsonl")[0][:120] + "\n")
    check(db_path, seeded, bad, [(1, "invalid JSON")], new=0, fmt="arxiv-jsonl")


def test_arxiv_csv_wrong_column_count_and_latin1(db_path, seeded, tmp_path):
    text = (FIXTURES / "arxiv_snapshot.csv").read_text(encoding="utf-8")
    header, rest = text.split("\n", 1)
    bad = tmp_path / "snapshot.csv"
    # a short row (line 2), then a latin-1 row (line 3), then the three good rows from line 4
    bad.write_bytes((header + "\n" + "2501.00001,Someone,Only three\n").encode()
                    + "2501.00002,Zo\u00eb,Zo\u00eb,Title,,,,,cs.CL,,An abstract,[],,[]\n".encode("latin-1")
                    + rest.encode())
    check(db_path, seeded, bad, [(2, "row has 3 columns, the header has 14"), (3, "not valid UTF-8")], new=3)


def test_iclr_csv_malformed_row(db_path, seeded, tmp_path):
    rows = lines_of(FIXTURES / "iclr_papers.csv")
    bad = tmp_path / "iclr.csv"
    bad.write_text(rows[0] + "https://openreview.net/forum?id=Zz11Yy22Xx,ICLR 2026 Poster,too few\n" + "".join(rows[1:]))
    check(db_path, seeded, bad, [(2, "row has 3 columns, the header has 13")], new=2)


def test_openreview_truncated_json_keeps_the_notes_before_the_break(db_path, seeded, tmp_path):
    text = (FIXTURES / "openreview_notes.json").read_text()
    cut = text[: text.index('"Sparse Mixtures') + 10]  # inside the second note
    bad = tmp_path / "notes.json"
    bad.write_text(cut)
    broken_line = cut.count("\n") + 1
    check(db_path, seeded, bad, [(broken_line, "invalid JSON")], new=1)


def test_openreview_jsonl_latin1_note(db_path, seeded, tmp_path):
    notes = json.loads((FIXTURES / "openreview_notes.json").read_text())["notes"]
    notes[1]["content"]["title"]["value"] = "Se\u00f1al sparse experts"
    bad = tmp_path / "notes.jsonl"
    bad.write_bytes(json.dumps(notes[0]).encode() + b"\n"
                    + json.dumps(notes[1], ensure_ascii=False).encode("latin-1") + b"\n")
    check(db_path, seeded, bad, [(2, "not valid UTF-8")], new=1, fmt="openreview-json")


def test_broken_bibtex_entry(db_path, seeded, tmp_path):
    text = (FIXTURES / "papers.bib").read_text()
    broken = "@article{broken2024,\n  title = {Never closed,\n  author = {Nobody},\n\n"
    bad = tmp_path / "refs.bib"
    at = text.index("@article{muller")
    bad.write_text(text[:at] + broken + text[at:])
    broken_line = text[:at].count("\n") + 1
    result = check(db_path, seeded, bad, [(broken_line, "broken BibTeX entry")], new=3)
    assert "Was still looking for field-value closing" in result.output


def test_bibtex_latin1_entry(db_path, seeded, tmp_path):
    text = (FIXTURES / "papers.bib").read_text()
    bad = tmp_path / "latin.bib"
    bad.write_bytes(text.replace("Anna Schmidt", "Ana Mu\u00f1oz").encode("latin-1"))
    line = text[: text.index("@article{muller")].count("\n") + 1
    check(db_path, seeded, bad, [(line, "not valid UTF-8")], new=2)


def test_xml_that_is_not_atom(db_path, seeded, tmp_path):
    rss = tmp_path / "feed.xml"
    rss.write_text('<?xml version="1.0"?>\n<rss version="2.0">\n<channel><title>x</title></channel>\n</rss>\n')
    result = check(db_path, seeded, rss, [], new=0)  # auto: no adapter claims it
    assert f"{rss}:1: unknown format" in result.output
    check(db_path, seeded, rss, [(2, "not an Atom feed: found <rss>")], new=0, fmt="arxiv-atom")


def test_atom_cut_short_keeps_the_complete_entries(db_path, seeded, tmp_path):
    text = (FIXTURES / "arxiv_api_response.xml").read_text()
    cut = text[: text.index("<title>A Benchmark of Multilingual")]  # third entry starts, never ends
    bad = tmp_path / "cut.xml"
    bad.write_text(cut)
    result = ingest(db_path, bad)
    assert f"{bad}:" in result.output and "malformed XML" in result.output, result.output
    assert "new: 2 " in result.output and result.exit_code == 0
    assert [row for row in snapshot(db_path) if row in seeded] == seeded


def test_lines_ended_by_a_lone_carriage_return_are_lines(db_path, seeded, tmp_path):
    """Classic Mac OS line ends (some EndNote and RIS exports): the RIS record was one line, 'no ER line'."""
    ris = tmp_path / "mac.ris"
    ris.write_bytes(b"TY  - JOUR\rTI  - Carriage Return Records\rAU  - Roe, Jane\rPY  - 2017\rER  - \r"
                    b"TY  - JOUR\rAU  - Roe, Jane\rER  - \r")
    check(db_path, seeded, ris, [(6, "RIS record has neither title")], new=1)
    bib = tmp_path / "mac.bib"
    bib.write_bytes(b"@article{a,\r  title = {Lone CR One},\r  year = {2017}\r}\r@article{b,\r  year = {2018}\r}\r")
    check(db_path, snapshot(db_path), bib, [(5, "entry 'b' has neither title nor abstract")], new=1)
    enw = tmp_path / "mac.enw"
    enw.write_bytes(b"%0 Journal Article\r%T Lone CR EndNote\r%A Roe, Jane\r%D 2017\r")
    check(db_path, snapshot(db_path), enw, [], new=1)
