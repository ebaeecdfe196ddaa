"""Parsing in child processes (what big files get) stores exactly what parsing here stores: same papers,
same rejections with the same line numbers, in file order, whatever blocks are empty or all bad."""

from __future__ import annotations

import json

from paperlens.ingest.parser_process import read_in_child
from paperlens.ingest.pipeline import ingest_paths
from paperlens.sources import read_records
from paperlens.store import Store

from .conftest import FIXTURES


def _snapshot(tmp_path):
    base = json.loads((FIXTURES / "arxiv_snapshot.jsonl").read_text().splitlines()[0])
    lines = []
    for i in range(60):
        if i in (5, 17, 18, 40):
            lines.append('{"id": "2401.0' + str(i))  # truncated JSON
        elif 24 <= i < 32:
            lines.append("")  # a whole block (block size 4 below) of blank lines
        elif i == 50:
            lines.append("[1, 2]")
        else:
            record = dict(base, id=f"2401.{i:05d}", title=f"{base['title']} part {i}", doi=None,
                          abstract=f"Part {i}. " + base["abstract"] + f" Ending {i}.")
            lines.append(json.dumps(record))
    path = tmp_path / "snapshot.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_children_match_reading_here(tmp_path):
    path = _snapshot(tmp_path)
    here = [r if hasattr(r, "message") else r.id for r in read_records(path)]
    for processes in (1, 2, 3):
        got = [item if hasattr(item, "message") else item.id
               for batch in read_in_child(path, batch_size=4, processes=processes) for item in batch]
        assert got == here, processes
    assert [r.line for r in here if hasattr(r, "message")] == [6, 18, 19, 41, 51]


def test_ingest_in_children_equals_ingest_here(tmp_path):
    path = _snapshot(tmp_path)
    reports, rows = [], []
    for name, parallel in (("here", False), ("child", True)):
        store = Store(tmp_path / f"{name}.db")
        report = ingest_paths(store, [path], batch_size=4, parallel=parallel)
        reports.append((report.new, report.merged, report.unchanged, report.rejected,
                        [str(r) for r in report.rejections]))
        rows.append(store.conn.execute("SELECT rowid, id, data, provenance FROM papers ORDER BY rowid").fetchall())
        assert store.integrity_check() == "ok"
    assert reports[0] == reports[1]
    assert reports[0][0] == 47 and reports[0][3] == 5
    assert rows[0] == rows[1]


def test_unknown_format_in_a_child_is_a_file_error(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("just some words\nnothing a source reads\n")
    report = ingest_paths(Store(tmp_path / "p.db"), [path], parallel=True)
    assert report.valid == 0 and report.file_errors
    assert "notes.txt:1: unknown format" in report.file_errors[0][1]
