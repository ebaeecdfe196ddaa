"""Impossible dates (2026-02-30, 2026-13) in every reader: the paper is kept with what is certain (the year,
and a valid month), and the date as written is kept in extra.date_raw rather than silently dropped."""

from __future__ import annotations

import json

import pytest

from paperlens.sources import read_records
from paperlens.sources.refcommon import parse_date


def papers(path, fmt="auto"):
    records = list(read_records(path, fmt=fmt))
    assert all(not isinstance(r, Exception) and hasattr(r, "title") for r in records), records
    return records


def dates(records):
    return [(p.date, p.year, p.extra.get("date_raw")) for p in records]


def test_generic_jsonl_keeps_the_year_and_the_raw_date(tmp_path):
    path = tmp_path / "d.jsonl"
    rows = [{"title": "Graphs", "abstract": "On graphs.", "date": "2026-02-30"},
            {"title": "Trees", "abstract": "On trees.", "date": "2026-13"},
            {"title": "Rings", "abstract": "On rings.", "date": "2026-03-04"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert dates(papers(path)) == [("2026-02", 2026, "2026-02-30"), (None, 2026, "2026-13"),
                                   ("2026-03-04", 2026, None)]


def test_paperlens_export_with_an_impossible_date(tmp_path):
    path = tmp_path / "export.jsonl"
    base = {"id": "x1", "abstract": "On graphs.", "sources": [], "summary": {}, "topic": None}
    rows = [{**base, "title": "Graphs", "date": "2026-02-30", "year": 2026},
            {**base, "id": "x2", "title": "Trees", "date": "2026-13", "year": None},
            {**base, "id": "x3", "title": "Rings", "date": "2026-03-04", "year": 2026}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    records = papers(path, "jsonl")
    assert dates(records) == [("2026-02", 2026, "2026-02-30"), (None, 2026, "2026-13"), ("2026-03-04", 2026, None)]


def test_bibtex_impossible_day_and_month(tmp_path):
    path = tmp_path / "d.bib"
    path.write_text("@article{a, title = {Graphs}, author = {Doe, John}, date = {2026-02-30}}\n"
                    "@article{b, title = {Trees}, author = {Roe, Jane}, date = {2026-13}}\n"
                    "@article{c, title = {Rings}, author = {Poe, Ed}, year = {2026}, month = {13}}\n"
                    "@article{d, title = {Fields}, author = {Loe, Al}, date = {2026-04-31}}\n")
    assert dates(papers(path)) == [("2026-02", 2026, "2026-02-30"), (None, 2026, "2026-13"),
                                   (None, 2026, "year = {2026}, month = {13}"), ("2026-04", 2026, "2026-04-31")]


def test_ris_impossible_day(tmp_path):
    path = tmp_path / "d.ris"
    path.write_text("TY  - JOUR\nTI  - Graphs\nAU  - Doe, John\nPY  - 2026/02/30/\nER  - \n")
    assert dates(papers(path)) == [("2026-02", 2026, "2026/02/30/")]


def test_csl_json_impossible_day_and_month(tmp_path):
    path = tmp_path / "d.json"
    items = [{"id": "x", "type": "article-journal", "title": "Graphs", "author": [{"family": "Doe"}],
              "issued": {"date-parts": [[2026, 2, 30]]}},
             {"id": "y", "type": "article-journal", "title": "Trees", "author": [{"family": "Roe"}],
              "issued": {"date-parts": [[2026, 13]]}}]
    path.write_text(json.dumps(items))
    records = papers(path, "csl-json")
    assert [(p.date, p.year) for p in records] == [("2026-02", 2026), (None, 2026)]
    assert [json.loads(p.extra["date_raw"]) for p in records] == [items[0]["issued"], items[1]["issued"]]


@pytest.mark.parametrize("text, dropped", [("2026-02-30", True), ("2026-13", True), ("2026-02-28", False),
                                           ("2026", False), ("Feb 30, 2026", True)])
def test_parse_date_says_when_it_dropped_a_part(text, dropped):
    assert parse_date(text).dropped is dropped and parse_date(text).year == 2026
