"""The adapters added for real-world files (issue 13) under the hostile inputs of issue 14: JSON nested past
the depth limit, lines past the line limit, fields past their size limit. Each is a rejection on its line;
the valid records of the same file are still read. (Found by bench/fuzz.py over every format.)"""

from __future__ import annotations

import json

import pytest

from paperlens.core.models import Paper
from paperlens.sources import detect_format, read_records
from paperlens.sources.base import Rejected

DAE = {"id": "2506.00001", "title": "Walrus Tusks", "authors": ["Ann Walrus"], "summary": "Tusks, measured in the wild.",
       "categories": ["cs.LG"], "AI": {"tldr": "Tusks.", "motivation": "Why tusks.", "method": "Rulers.",
                                       "result": "Long.", "conclusion": "Tusks are long."}}


def _deep(depth: int) -> str:
    return '{"id": "x", "summary": ' + "[" * depth + "]" * depth + "}"


@pytest.mark.parametrize("fmt, good", [
    ("daily-arxiv-ai-enhanced", DAE),
    ("generic", {"title": "Walrus Tusks", "abstract": "Tusks, measured in the wild.", "authors": "Ann Walrus"}),
])
def test_a_json_line_nested_past_the_limit_is_rejected_on_its_line(tmp_path, fmt, good):
    path = tmp_path / "deep.jsonl"
    path.write_text(json.dumps(good) + "\n" + _deep(5000) + "\n" + json.dumps(good | {"id": "2506.00002",
                                                                                    "title": "Narwhal Tusks"}) + "\n")
    records = list(read_records(path, fmt=fmt))
    rejected = [r for r in records if isinstance(r, Rejected)]
    assert [r.line for r in rejected] == [2] and "deep" in rejected[0].message
    assert sum(isinstance(r, Paper) for r in records) == 2


def test_a_generic_json_document_nested_past_the_decoder_is_rejected(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text('{"title": "Walrus Tusks", "abstract": "x", "nested": ' + "[" * 5000 + "]" * 5000 + "}")
    records = list(read_records(path, fmt="generic"))
    assert records and all(isinstance(r, Rejected) for r in records)


def test_a_title_past_its_limit_in_an_endnote_record_is_a_rejection_not_a_crash(tmp_path):
    path = tmp_path / "big.enw"
    path.write_text("%0 Journal Article\n%T " + "Walrus " * 1000 + "\n%A Walrus, Ann\n%D 2020\n\n"
                    "%0 Journal Article\n%T Narwhal Tusks\n%A Narwhal, Ann\n%D 2021\n")
    assert detect_format(path) == "endnote-refer"
    records = list(read_records(path))
    assert [type(r).__name__ for r in records] == ["Rejected", "Paper"]
    assert records[0].line == 1 and "TITLE" in records[0].message.upper()


def test_an_arxiv_listing_of_unclosed_items_is_cut_linear_and_keeps_the_items_before(tmp_path):
    import time

    good = ("<item><title>Walrus Tusks. (arXiv:2501.00001v1 [cs.CL])</title><link>http://arxiv.org/abs/2501.00001</link>"
            "<description>arXiv:2501.00001v1 Announce Type: new \nAbstract: Tusks, measured.</description></item>\n")
    path = tmp_path / "unclosed.xml"
    path.write_text('<?xml version="1.0"?>\n<rss version="2.0"><channel><title>cs.CL updates on arXiv.org</title>\n'
                    + good + "<item><title>t</title><link>http://arxiv.org/abs/2501.00002</link>\n" * 40000)
    assert detect_format(path) == "arxiv-rss"
    started = time.perf_counter()
    records = list(read_records(path))
    # (the description spans lines 3-4; the first open item is line 5, the one opened inside it line 6)
    # a guard against feedparser chewing on 40,000 open tags (28 s before), not a benchmark
    assert time.perf_counter() - started < 10
    assert [type(r).__name__ for r in records] == ["Paper", "Rejected"]
    assert records[0].arxiv_id == "2501.00001" and records[1].line == 6 and "not closed" in records[1].message


def test_an_arxiv_listing_error_line_is_never_past_the_end_of_the_file(tmp_path):
    path = tmp_path / "cut.xml"
    path.write_text('<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">\n'
                    '<channel rdf:about="http://arxiv.org/">\n<title>cs.CL updates on arXiv.org</title>\n</channel>\n'
                    '<item rdf:about="http://arxiv.org/abs/2311.10001">\n<title>Walrus Tusks. (arXiv:2311.10001v1 '
                    '[cs.CL])</title>\n<li')
    lines = path.read_text().count("\n") + 1
    records = list(read_records(path, fmt="arxiv-rss"))
    assert records and all(isinstance(r, Rejected) and 1 <= r.line <= lines for r in records)


def _listing(path, second_creator: str, closed: bool) -> None:
    """An arXiv listing feed of two items: Ann Walrus's on line 3, then one by `second_creator` on line 4."""
    item = ('<item><title>{t}. (arXiv:2501.0000{n}v1 [cs.CL])</title><link>http://arxiv.org/abs/2501.0000{n}</link>'
            '<dc:creator>{a}</dc:creator><description>arXiv:2501.0000{n}v1 Announce Type: new Abstract: Tusks.'
            '</description></item>\n')
    path.write_text('<?xml version="1.0"?>\n<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
                    '<title>cs.CL updates on arXiv.org</title>\n'
                    + item.format(t="Walrus Tusks", n=1, a="Ann Walrus")
                    + item.format(t="Narwhal Tusks", n=2, a=second_creator) + ("</channel></rss>\n" if closed else ""))


def test_an_arxiv_listing_item_with_an_absurd_author_list_is_rejected_quickly(tmp_path):
    import time

    path = tmp_path / "authors.xml"
    _listing(path, "x" * 200_000, closed=False)
    started = time.perf_counter()
    records = list(read_records(path, fmt="arxiv-rss"))
    assert time.perf_counter() - started < 10  # feedparser alone: minutes (quadratic in the author's length)
    assert [type(r).__name__ for r in records] == ["Paper", "Rejected"]
    assert records[0].authors == ["Ann Walrus"] and records[1].line == 4 and "author list" in records[1].message


def test_an_openreview_note_whose_id_is_not_a_string_is_read_without_a_crash(tmp_path):
    path = tmp_path / "expertise.json"
    note = {"id": "abcDEF123", "content": {"title": "Walrus Tusks", "abstract": "Tusks, measured."}}
    path.write_text(json.dumps({"notes": {"ICLR.cc/2026/Conference/-/Submission": [note | {"id": ["x"]}, note]},
                                "profiles": [{"id": "~Ann_Walrus1", "publications": [note | {"id": {"a": 1}}]}]}))
    records = list(read_records(path, fmt="openreview-json"))
    assert any(isinstance(r, Paper) and r.title == "Walrus Tusks" for r in records)


# ---- fuzz bench seed 11 findings (issue 14)

def test_fuzz_ris_author_of_only_commas_does_not_crash(tmp_path):
    from paperlens.sources import read_records
    from paperlens.sources.refcommon import inverted_name

    assert inverted_name(",") == "" and inverted_name(" , , ") == ""
    path = tmp_path / "x.ris"
    path.write_text("TY  - JOUR\nTI  - A title\nAU  - ,\nAU  - Doe, Jane\nER  - \n")
    records = list(read_records(path, fmt="ris"))
    assert len(records) == 1 and records[0].authors == ["Jane Doe"]


@pytest.mark.parametrize("fmt,body", [
    ("mods-xml", '<modsCollection xmlns="http://www.loc.gov/mods/v3"><mods><titleInfo><title>T</title>'
                 '</titleInfo></mods></modsCollection>'),
    ("endnote-xml", "<xml><records><record><titles><title>T</title></titles></record></records></xml>"),
])
def test_fuzz_xml_unknown_encoding_is_a_rejection(tmp_path, fmt, body):
    from paperlens.sources import read_records
    from paperlens.sources.base import Rejected

    path = tmp_path / "x.xml"
    path.write_bytes(b'<?xml version="1.0" encoding="UT8"?>\n' + body.encode())
    records = list(read_records(path, fmt=fmt))
    assert records and isinstance(records[-1], Rejected) and records[-1].line == 1


@pytest.mark.parametrize("fmt,body", [
    ("mods-xml", '<modsCollection xmlns="http://www.loc.gov/mods/v3">\r\r\r\r<mods><titleInfo>'),
    ("endnote-xml", "<xml><records>\r\r\r\r<record><titles>"),
    ("zotero-rdf", '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\r\r\r\r<rdf:Desc'),
])
def test_fuzz_xml_error_line_counts_newlines_not_lone_cr(tmp_path, fmt, body):
    from paperlens.sources import read_records
    from paperlens.sources.base import Rejected

    path = tmp_path / "x.xml"
    path.write_bytes(b'<?xml version="1.0"?>\n' + body.encode())
    records = list(read_records(path, fmt=fmt))
    n_lines = path.read_bytes().count(b"\n") + 1
    assert records and isinstance(records[-1], Rejected)
    assert all(1 <= r.line <= n_lines for r in records if isinstance(r, Rejected))


@pytest.mark.parametrize("c_loader", [True, False])
def test_fuzz_cff_nested_thousands_deep_is_rejected_before_the_slow_loader(tmp_path, monkeypatch, c_loader):
    """CI found 3,000 `[` taking 3.4 s in PyYAML's pure-Python scanner (quadratic in the flow depth): such a
    file goes to libyaml, or is refused by the nesting check before the pure-Python loader sees it."""
    import yaml

    used = []
    real_load = yaml.load
    monkeypatch.setattr(yaml, "load", lambda text, Loader: used.append(Loader) or real_load(text, Loader=Loader))
    if not c_loader:
        monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    elif not hasattr(yaml, "CSafeLoader"):
        pytest.skip("PyYAML without libyaml")
    path = tmp_path / "CITATION.cff"
    path.write_text("cff-version: 1.2.0\ntitle: " + "[" * 3000 + "\n")
    records = list(read_records(path, fmt="citation-cff"))
    assert len(records) == 1 and isinstance(records[0], Rejected)
    assert 1 <= records[0].line <= 2
    assert used == ([yaml.CSafeLoader] if c_loader else [])
    # a normal file with brackets still reads on both loaders
    path.write_text("cff-version: 1.2.0\ntitle: 'Walrus [tusks] {long}'\nkeywords: [a, [b, c]]\n"
                    "authors:\n  - family-names: Walrus\n    given-names: Ann\n")
    (paper,) = read_records(path, fmt="citation-cff")
    assert isinstance(paper, Paper) and paper.title == "Walrus [tusks] {long}"


@pytest.mark.parametrize("c_loader", [True, False])
@pytest.mark.parametrize("text, line", [
    ("cff-version: 1.2.0\ntitle: [Walrus", 2),  # libyaml names the line after the end of the stream
    ("cff-version: 1.2.0\ntitle: [Walrus\n\n", 2),
    ("cff-version: 1.2.0\ntitle: Walrus\u2028Tusks\nabstract: a: b\n", 3),  # YAML counts U+2028 as a line break
    ("cff-version: 1.2.0\ntitle: Walrus\x85Tusks\rabstract: a: b\n", 2),  # so are NEL and a lone CR
])
def test_fuzz_cff_error_names_a_line_that_exists(tmp_path, monkeypatch, c_loader, text, line):
    """Found by bench/fuzz.py (seed 11): with libyaml an error at the end of the stream was reported on a line
    past the end of the file, and both loaders count U+2028, NEL and a lone CR as line breaks. The line is
    taken from the error's character offset, counting newlines only, and is never past the last line with
    content."""
    import yaml

    if not c_loader:
        monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    elif not hasattr(yaml, "CSafeLoader"):
        pytest.skip("PyYAML without libyaml")
    path = tmp_path / "CITATION.cff"
    path.write_text(text, newline="")
    (record,) = read_records(path, fmt="citation-cff")
    assert isinstance(record, Rejected) and record.message.startswith("broken YAML")
    assert record.line == line


@pytest.mark.parametrize("creator", ["w" * 5000, "Ann <![CDATA[" + "w" * 5000 + "]]>", "x" * 200_000])
def test_fuzz_an_arxiv_listing_author_with_an_absurdly_long_word_never_reaches_feedparser(tmp_path, monkeypatch,
                                                                                          creator):
    """feedparser's e-mail regex is quadratic in the length of a word: a 19,999-letter creator (under the
    20,000-character author limit) took 7 s. An author holding a word of more than MAX_NAME_WORD characters
    cuts the feed at its item, like an absurd author list. Checked by what feedparser is given, not by time."""
    import feedparser

    from paperlens.sources import arxiv_rss
    from paperlens.sources.arxiv_atom import MAX_NAME_WORD

    given = []
    real_parse = feedparser.parse
    monkeypatch.setattr(arxiv_rss.feedparser, "parse", lambda data, **kw: given.append(data) or real_parse(data, **kw))
    path = tmp_path / "authors.xml"
    _listing(path, creator, closed=True)
    records = list(read_records(path, fmt="arxiv-rss"))
    assert given and not any(b"w" * (MAX_NAME_WORD + 1) in data or b"x" * 20_000 in data for data in given)
    assert [type(r).__name__ for r in records] == ["Paper", "Rejected"]
    assert records[0].authors == ["Ann Walrus"] and records[1].line == 4 and "author" in records[1].message
    # many ordinary words are still an author list
    path.write_text(path.read_text().replace(creator, ", ".join(["Ann Walrus"] * 500)))
    assert [type(r).__name__ for r in read_records(path, fmt="arxiv-rss")] == ["Paper", "Paper"]


def test_a_json_line_past_the_line_limit_is_rejected_by_its_own_shard_only(tmp_path, monkeypatch):
    """A DAE file read in two shards (the parallel parsers): the over-long line is one rejection, not one per
    shard (the shared JSON Lines loop checked the shard after yielding a line's rejection)."""
    monkeypatch.setenv("PAPERLENS_MAX_LINE_BYTES", "5000")
    good = [json.dumps({**DAE, "id": f"2506.0000{n}", "title": f"Walrus Tusks {n}"}) for n in range(1, 5)]
    lines = [good[0], good[1], json.dumps({**DAE, "summary": "x" * 20000}), good[2], good[3]]
    path = tmp_path / "dae.jsonl"
    path.write_text("\n".join(lines) + "\n")
    rejected = [r for shard in ((0, 2, 1), (1, 2, 1))
                for r in read_records(path, fmt="daily-arxiv-ai-enhanced", shard=shard) if isinstance(r, Rejected)]
    assert [r.line for r in rejected] == [3]


@pytest.mark.parametrize("fmt", ["daily-arxiv-ai-enhanced", "generic", "jsonl", "arxiv-jsonl"])
def test_a_json_line_with_an_integer_past_python_s_digit_limit_is_a_rejection(tmp_path, fmt):
    """json.loads raises a plain ValueError (not a JSONDecodeError) for an integer of more than 4,300 digits:
    a rejection on its line, and the other lines are read."""
    path = tmp_path / "big.jsonl"
    record = {"id": "2506.00009", "title": "Walrus Tusks", "abstract": "Tusks, measured in the wild."}
    path.write_text(json.dumps(record) + "\n" + '{"id": ' + "1" * 5000 + "}\n")
    records = list(read_records(path, fmt=fmt))
    rejected = [r for r in records if isinstance(r, Rejected)]
    assert [r.line for r in rejected] == [2] and "invalid JSON" in rejected[0].message
