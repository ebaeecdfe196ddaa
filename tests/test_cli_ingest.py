"""The CLI against real SQLite files: ingest, idempotency, export round trip, bad input."""

from __future__ import annotations

import json
import sqlite3

from click.testing import CliRunner

from paperlens.cli import main

from .conftest import SAMPLE, sample


def run(db, *args, input=None):
    result = CliRunner().invoke(main, ["--db", str(db), *args], input=input, catch_exceptions=False)
    return result


def test_ingest_seeds_then_reingest_changes_nothing(db_path):
    seeds = sorted(str(p) for p in SAMPLE.glob("*.txt"))
    first = run(db_path, "ingest", "--as-of", "2026-11-23", *seeds)
    assert first.exit_code == 0, first.output
    assert "new: 685" in first.output and "rejected: 0" in first.output
    before = sqlite3.connect(db_path).execute("SELECT id, data, provenance FROM papers ORDER BY id").fetchall()
    again = run(db_path, "ingest", "--as-of", "2026-11-23", *seeds)
    assert "new: 0  merged: 0  unchanged: 685" in again.output
    after = sqlite3.connect(db_path).execute("SELECT id, data, provenance FROM papers ORDER BY id").fetchall()
    assert before == after


def test_wal_fts_and_migrations(db_path):
    run(db_path, "ingest", str(sample("003")))
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] >= 1
    hits = conn.execute("SELECT rowid FROM papers_fts WHERE papers_fts MATCH 'hallucinations'").fetchall()
    assert len(hits) == 1


def test_export_jsonl_round_trip_is_lossless(db_path, tmp_path):
    run(db_path, "ingest", "--as-of", "2026-11-23", *(str(p) for p in SAMPLE.glob("*.txt")))
    out = tmp_path / "a.jsonl"
    assert run(db_path, "export", "--format", "jsonl", "-o", str(out)).exit_code == 0
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(lines) == 685
    for key in ("id", "title", "authors", "org", "year", "date", "categories", "venue", "abstract", "keywords",
                "tldr", "code_url", "language", "topic", "summary", "sources"):
        assert key in lines[0]
    digest = next(x for x in lines if x["topic"])
    assert set(digest["topic"]) >= {"area", "label"}
    assert set(digest["summary"]["zh"]) == {"motivation", "problem", "observation", "method", "experiments",
                                            "contribution"}
    other_db = tmp_path / "other.db"
    result = run(other_db, "ingest", str(out))
    assert "new: 685" in result.output, result.output
    out2 = tmp_path / "b.jsonl"
    run(other_db, "export", "-o", str(out2))
    assert [json.loads(x) for x in out2.read_text().splitlines()] == lines


def test_bibtex_and_markdown_export(db_path):
    run(db_path, "ingest", "--as-of", "2026-11-23", str(sample("001")))
    bib = run(db_path, "export", "--format", "bibtex").output
    assert bib.count("@article{") == 20 and "and others" in bib
    md = run(db_path, "export", "--format", "markdown").output
    assert "## Zero-shot Cross-lingual Conversational Semantic Role Labeling" in md


def test_stats_and_show(db_path):
    run(db_path, "ingest", "--as-of", "2026-11-23", str(sample("001")), str(sample("002")))
    stats = run(db_path, "stats", "--json")
    data = json.loads(stats.output)
    assert data["papers"] == 671
    assert data["by_source"] == {"seed-topic-digest": 651, "seed-feed": 20}
    assert data["by_topic"]["基础/前沿模型 (含LLM) / 指令微调与对齐"] == 154
    export = [json.loads(x) for x in run(db_path, "export").output.splitlines()]
    shown = run(db_path, "show", export[0]["id"], "--json")
    assert json.loads(shown.output)["id"] == export[0]["id"]
    missing = CliRunner().invoke(main, ["--db", str(db_path), "show", "nope"])
    assert missing.exit_code != 0 and "no paper" in missing.output


def test_bad_input_names_file_and_line_and_keeps_valid_records(db_path, tmp_path):
    run(db_path, "ingest", str(sample("003")))
    good = [json.loads(x) for x in run(db_path, "export").output.splitlines()]
    bad = tmp_path / "bad.jsonl"
    rows = [json.dumps({"id": "x:1", "title": "A fine paper", "abstract": "An abstract that is fine.",
                        "sources": [], "summary": {}, "topic": None})]
    rows.append('{"id": "x:2", "title": "Truncated", "abstr')
    rows.append(json.dumps({"id": "x:3", "title": "B", "abstract": "text", "sources": [], "summary": {},
                            "topic": None, "authors": "not a list"}))
    bad.write_text("\n".join(rows) + "\n")
    result = CliRunner().invoke(main, ["--db", str(db_path), "ingest", str(bad)])
    assert f"{bad}:2: invalid JSON" in result.output
    assert f"{bad}:3: invalid paper: authors" in result.output
    assert "Traceback" not in result.output
    assert "new: 1" in result.output and result.exit_code == 0
    after = [json.loads(x) for x in run(db_path, "export").output.splitlines()]
    assert after[: len(good)] == good and len(after) == len(good) + 1


def test_strict_stores_nothing_from_a_bad_file(db_path, tmp_path):
    bad = tmp_path / "list.txt"
    bad.write_bytes(b"Abstract: A perfectly good abstract about language models and their training.\n"
                    b"Abstract: caf\xe9 latin-1 bytes in an abstract that is otherwise long enough to count\n")
    result = CliRunner().invoke(main, ["--db", str(db_path), "ingest", "--strict", str(bad)])
    assert f"{bad}:2: not valid UTF-8" in result.output
    assert result.exit_code != 0
    assert sqlite3.connect(db_path).execute("SELECT count(*) FROM papers").fetchone()[0] == 0
    lenient = CliRunner().invoke(main, ["--db", str(db_path), "ingest", str(bad)])
    assert "new: 1" in lenient.output and lenient.exit_code == 0


def test_nothing_valid_exits_nonzero(db_path, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    result = CliRunner().invoke(main, ["--db", str(db_path), "ingest", str(empty)])
    assert result.exit_code != 0 and f"{empty}:1: file is empty" in result.output
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"\x00\x01\x02 nothing")
    result = CliRunner().invoke(main, ["--db", str(db_path), "ingest", str(garbage)])
    assert result.exit_code != 0 and "unknown format" in result.output


def test_markdown_export_writes_no_raw_html(db_path, tmp_path):
    # A title '<!-- ...' opened an HTML comment that hid every later paper in a Markdown renderer, and
    # '<script>' in a title or abstract ran in one that passes HTML through (mkdocs, pandoc to HTML).
    src = tmp_path / "hostile.jsonl"
    src.write_text(json.dumps({"title": "Hidden <!-- from here on <script>alert(1)</script>", "authors": ["A <b>B</b>"],
                               "abstract": "An abstract with </script><img src=x onerror=alert(2)> inside it.",
                               "keywords": ["back`tick"], "year": 2026}) + "\n"
                   + json.dumps({"title": "The Paper After It", "abstract": "Still visible, at some length here.",
                                 "year": 2026}) + "\n", encoding="utf-8")
    run(db_path, "ingest", "--format", "jsonl", str(src))
    md = run(db_path, "export", "--format", "markdown").output
    assert "<!--" not in md and "<script" not in md and "<img" not in md and "<b>" not in md, md
    assert "## Hidden &lt;!-- from here on &lt;script&gt;alert(1)&lt;/script&gt;" in md
    assert "## The Paper After It" in md and "`` #back`tick ``" in md
